import type { ClassifyOptions } from '../../../pipeline/classify.js';
import type { TrainOptions } from '../../../pipeline/train.js';
import type { ClassifySummary } from '../../stages/classify.js';
import type { ClusterSummary, ClusteringReport } from '../../stages/cluster.js';
import type { NormalizeSummary } from '../../stages/normalize.js';
import type { TrainSummary } from '../../stages/train.js';
import { escapeHtml, formatInteger, formatMeanSpread, formatNumber } from '../format.js';
import { Fields, isRecord } from '../fields.js';
import type { RunData } from '../run-data.js';
import { dpEnabled, privacyFields } from './privacy.js';

/**
 * Renders the methods paragraphs at the top of the report: what was done, in words, with the
 * numbers, as the methods section of a paper states it. Each sentence uses only recorded
 * values, and a stage that did not complete reads "not run".
 */
export function renderMethods(data: RunData): string {
  const sentences = [inputSentence(data), normalizeSentence(data), modelSentence(data), clusterSentence(data), classifySentence(data)];
  return sentences.map((sentence) => `<p>${sentence}</p>`).join('\n');
}

function inputSentence(data: RunData): string {
  const ingest = data.summary('ingest');
  const normalize = data.summary<NormalizeSummary>('normalize');
  const files = (data.manifest?.inputs ?? []).map((input) => input.path.split(/[\\/]/).pop() ?? input.path);
  const nSamples = ingest.number('nSamples') ?? normalize.number('nSamples');
  const nGenes = ingest.number('nGenes') ?? normalize.number('genesIn');
  if (!data.completed('ingest')) return '<strong>Input.</strong> The ingest stage has not completed.';
  const kind = normalize.string('inputKind');
  return (
    `<strong>Input.</strong> ${files.length ? `The matrix ${files.map((f) => `<code>${escapeHtml(f)}</code>`).join(' and ')}` : 'The input matrix'} ` +
    `held ${formatInteger(nSamples)} samples and ${formatInteger(nGenes)} genes` +
    (kind ? `; its values were ${normalize.string('inputKindSource') === 'option' ? 'declared' : 'detected as'} ${escapeHtml(kind)} (${escapeHtml(normalize.string('inputKindReason') ?? '')}).` : '.')
  );
}

function normalizeSentence(data: RunData): string {
  if (!data.completed('normalize')) return '<strong>Normalization.</strong> Not run.';
  const summary = data.summary<NormalizeSummary>('normalize');
  const steps = summary.array('steps').filter(isRecord);
  const ran = steps.filter((s) => s.applied === true).map((s) => String(s.step));
  const skipped = steps.filter((s) => s.applied === false).map((s) => String(s.step));
  const target = summary.number('targetSum');
  return (
    `<strong>Normalization.</strong> Steps applied: ${ran.length ? escapeHtml(ran.join(', ')) : 'none'}` +
    (skipped.length ? `; skipped: ${escapeHtml(skipped.join(', '))}` : '') +
    `. ${formatInteger(summary.number('genesKept'))} genes were kept${target !== null ? `, libraries scaled to ${formatNumber(target, 6)} counts` : ''}, ` +
    `and the ${formatInteger(summary.number('nHighlyVariable'))} most variable genes were selected as the model's input.`
  );
}

function modelSentence(data: RunData): string {
  if (!data.completed('train')) return '<strong>Model.</strong> Not trained.';
  const train = data.summary<TrainSummary>('train');
  const architecture = train.object<TrainSummary['architecture']>('architecture');
  const options = new Fields<TrainOptions>(data.manifest?.options?.train);
  const hidden = architecture.numbers('hiddenDims').length ? architecture.numbers('hiddenDims') : options.numbers('hiddenDims');
  const latent = architecture.number('latentDim') ?? options.number('latentDim');
  const epochs = train.number('epochsRun') ?? options.number('epochs');
  const likelihood = train.string('likelihood') ?? options.string('likelihood');
  const prior = architecture.string('prior');
  const description = train.string('modelDescription');
  const model = description
    ? `${escapeHtml(description)}${prior ? `, ${escapeHtml(prior)} prior` : ''}`
    : `MLP encoder with hidden layers of ${escapeHtml(hidden.join(', ') || '?')} units, ${formatInteger(latent)} latent dimensions, ` +
      `${escapeHtml(likelihood ?? '?')} likelihood${prior ? `, ${escapeHtml(prior)} prior` : ''}`;
  const kept =
    train.string('weightsKept') === 'last'
      ? `keeping the last weights (the ${formatInteger(train.number('nValidation'))} held-out samples did not choose them)`
      : `keeping the weights of epoch ${formatInteger(train.number('bestEpoch'))} (lowest validation loss on ${formatInteger(train.number('nValidation'))} held-out samples)`;
  const base =
    `<strong>Model.</strong> A variational autoencoder (${model}) was trained for ${formatInteger(epochs)} epochs on ${formatInteger(train.number('nTrain'))} samples, ${kept}`;
  const enabled = dpEnabled(train, options);
  if (enabled === false) return `${base}, <strong>without differential privacy</strong> (<code>--no-dp</code>).`;
  const privacy = privacyFields(train);
  if (privacy.string('mechanism') === 'second-moment') {
    return (
      `<strong>Model.</strong> A variational autoencoder (${model}) was fitted under differential privacy. The second-moment matrix of the ` +
      `${formatInteger(train.number('nTrain'))} training samples (each row scaled to norm 1) was released once with Gaussian noise of standard deviation ` +
      `${formatNumber(privacy.number('noiseMultiplier'))} on every entry (the Gaussian mechanism, sensitivity 1), spending ε = ${formatNumber(privacy.number('epsilon'), 4)} ` +
      `at δ = ${formatNumber(privacy.number('delta'), 3)} (${escapeHtml(privacy.string('accountant') ?? options.string('accountant') ?? '?')} accountant). ` +
      `The model was then fitted to the release in ${formatInteger(epochs)} full-batch steps that read nothing else from the samples.`
    );
  }
  return (
    `${base}, with DP-SGD: per-example gradients clipped to norm ${formatNumber(privacy.number('clipNorm') ?? options.number('clipNorm'))}, ` +
    `Gaussian noise with multiplier ${formatNumber(privacy.number('noiseMultiplier'))}, ${escapeHtml(privacy.string('sampling') ?? '?')} sampling at rate ${formatNumber(privacy.number('samplingRate'))} over ${formatInteger(privacy.number('steps'))} steps, ` +
    `spending ε = ${formatNumber(privacy.number('epsilon'), 4)} at δ = ${formatNumber(privacy.number('delta'), 3)} (${escapeHtml(privacy.string('accountant') ?? options.string('accountant') ?? '?')} accountant).`
  );
}

function clusterSentence(data: RunData): string {
  if (!data.completed('cluster')) return '<strong>Clustering.</strong> Not run.';
  const summary = data.summary<ClusterSummary>('cluster');
  const kmeans = summary.object<ClusterSummary['kmeans']>('kmeans');
  const umap = summary.object<ClusterSummary['umap']>('umap');
  const clusterings = summary.records<ClusteringReport>('clusterings');
  const described = clusterings.map((c) => {
    const agreement = c.object<NonNullable<ClusteringReport['agreement']>>('agreement');
    const space = c.string('space') === 'pca' ? 'the PCA baseline' : 'the latents';
    const score = agreement.isEmpty ? '' : `, ARI ${formatNumber(agreement.number('ari'), 3)} against the labels`;
    return `${escapeHtml(c.string('method') ?? '?')} on ${space} (${formatInteger(c.number('nClusters'))} clusters${score})`;
  });
  return (
    `<strong>Clustering.</strong> k-means on the latent means chose k = ${formatInteger(kmeans.number('chosenK'))} by the highest mean silhouette over k = ${formatInteger(kmeans.number('kMin'))}…${formatInteger(kmeans.number('kMax'))}. ` +
    (described.length ? `Partitions: ${described.join('; ')}. ` : '') +
    `UMAP used ${formatInteger(umap.number('nNeighbors'))} neighbours, minimum distance ${formatNumber(umap.number('minDist'))} and ${formatInteger(umap.number('nEpochs'))} epochs.`
  );
}

function classifySentence(data: RunData): string {
  if (!data.completed('classify')) return '<strong>Classification.</strong> Not run.';
  const summary = data.summary<ClassifySummary>('classify');
  const options = new Fields<ClassifyOptions>(data.manifest?.options?.classify);
  if (summary.string('status') === 'skipped') return `<strong>Classification.</strong> Skipped: ${escapeHtml(summary.string('skipReason') ?? 'no reason recorded')}.`;
  const models = summary.strings('models');
  const results = summary.object('results');
  const ensemble = summary.string('ensemble');
  const score = ensemble ? results.object(ensemble).object('folds').object('balancedAccuracy') : null;
  const unlabelled = summary.number('nUnlabelled');
  return (
    `<strong>Classification.</strong> ${escapeHtml(models.join(', ') || 'The classifiers')} were evaluated on the latents by stratified ${formatInteger(summary.number('folds') ?? options.number('folds'))}-fold cross-validation repeated ${formatInteger(summary.number('repeats') ?? options.number('repeats'))} times ` +
    `on ${formatInteger(summary.number('nLabelled'))} labelled samples` +
    (unlabelled !== null && unlabelled > 0 ? ` (${formatInteger(unlabelled)} unlabelled samples were left out)` : '') +
    (score && score.number('mean') !== null ? `; the ${escapeHtml(ensemble)} ensemble reached a balanced accuracy of ${formatMeanSpread(score.number('mean'), score.number('sd'))} (chance ${formatNumber(summary.number('chanceBalancedAccuracy'), 3)})` : '') +
    '.'
  );
}
