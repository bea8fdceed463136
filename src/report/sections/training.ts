import type { TrainOptions } from '../../../pipeline/train.js';
import type { TrainSummary } from '../../stages/train.js';
import { escapeHtml, formatInteger, formatNumber, formatSeconds, formatValue, NOT_AVAILABLE } from '../format.js';
import { Fields } from '../fields.js';
import { renderFacts, renderList, renderOtherFacts, skippedSection, unavailable, type Section } from '../html.js';
import { readHistory, type EpochRecord } from '../history.js';
import { lineSpec, renderFigure, type LineRow } from '../plot.js';
import type { SectionContext } from './context.js';

const SHOWN: (keyof TrainSummary)[] = [
  'nSamples',
  'nTrain',
  'nValidation',
  'nGenes',
  'likelihood',
  'likelihoodReason',
  'architecture',
  'modelDescription',
  'nGenesAvailable',
  'resolved',
  'weightsKept',
  'dpDiagnostics',
  'untrainedComparison',
  'parameterCount',
  'epochsPlanned',
  'epochsRun',
  'bestEpoch',
  'earlyStopEpoch',
  'klWarmupSteps',
  'finalTrainLoss',
  'finalValidationLoss',
  'finalReconstruction',
  'finalKl',
  'backend',
  'workers',
  'seconds',
  'privacy',
];

/** Renders the training section: loss, KL, KL weight and epsilon per epoch, architecture, options, backend, timings. */
export async function renderTrainingSection({ data }: SectionContext): Promise<Section> {
  if (!data.completed('train')) {
    return skippedSection('training', 'Training', 'The train stage has not completed in this run.');
  }
  const summary = data.summary<TrainSummary>('train');
  const options = new Fields<TrainOptions>(data.manifest?.options?.train);
  const architecture = summary.object<TrainSummary['architecture']>('architecture');
  const history = readHistory(data);
  const parts: string[] = [];
  const release = summary.object<TrainSummary['privacy']>('privacy').string('mechanism') === 'second-moment';

  if (history.length === 0) {
    parts.push(unavailable('Training curves', 'the train stage recorded no per-epoch history'));
  } else {
    parts.push(`<div class="row">${(await renderCurves(history, summary.number('bestEpoch'), release)).join('')}</div>`);
  }

  const hidden = architecture.numbers('hiddenDims').length ? architecture.numbers('hiddenDims') : options.numbers('hiddenDims');
  const latentDim = architecture.number('latentDim') ?? options.number('latentDim');
  const nGenes = architecture.number('nGenes') ?? summary.number('nGenes');
  const description = summary.string('modelDescription');
  const layers = description
    ? escapeHtml(description)
    : hidden.length && latentDim !== null
      ? `${formatInteger(nGenes)} genes → ${hidden.join(' → ')} → ${latentDim} latent → ${[...hidden].reverse().join(' → ')} → ${formatInteger(nGenes)} genes`
      : NOT_AVAILABLE;
  const resolved = summary.object<TrainSummary['resolved']>('resolved');
  const lastKept = summary.string('weightsKept') === 'last';
  const prior = architecture.string('prior');
  const backend = summary.object<TrainSummary['backend']>('backend');
  const seconds = summary.object<TrainSummary['seconds']>('seconds');
  const epochsRun = summary.number('epochsRun');
  const earlyStop = summary.number('earlyStopEpoch');
  parts.push('<h3>Model and options</h3>');
  parts.push(
    renderFacts([
      [description ? 'model' : 'layers (MLP encoder, mirrored decoder)', layers],
      ['prior', prior === 'mixture' ? `Gaussian mixture, ${formatInteger(architecture.number('mixtureComponents'))} components` : formatValue(prior)],
      ['likelihood', `${formatValue(summary.string('likelihood') ?? options.string('likelihood'))}${summary.string('likelihoodReason') ? ` (${escapeHtml(summary.string('likelihoodReason'))})` : ''}`],
      ['layer normalization', formatValue(architecture.boolean('layerNorm') ?? options.boolean('layerNorm'))],
      ['dropout (encoder)', formatValue(architecture.number('dropout') ?? options.number('dropout'))],
      ['trainable parameters', formatInteger(summary.number('parameterCount'))],
      [
        release ? 'steps of the fit to the release, run / planned' : 'epochs run / planned',
        `${formatInteger(epochsRun)} / ${formatInteger(summary.number('epochsPlanned') ?? options.number('epochs'))}` + (earlyStop !== null ? ` (early stopping after epoch ${formatInteger(earlyStop)})` : ''),
      ],
      [
        release ? 'weights kept from step' : 'weights kept from epoch',
        `${formatInteger(summary.number('bestEpoch'))} (${lastKept ? 'the last: validation losses did not choose the weights' : 'lowest validation loss'})`,
      ],
      [release ? 'pseudo-samples per step of the fit' : 'expected batch size', formatInteger(resolved.number('batchSize') ?? options.number('batchSize'))],
      ['learning rate (Adam)', formatNumber(resolved.number('learningRate') ?? options.number('learningRate'))],
      ['KL warm-up', `${formatInteger(summary.number('klWarmupSteps'))} steps to a final weight of ${formatNumber(options.number('beta'))}`],
      ['training / validation samples', `${formatInteger(summary.number('nTrain'))} / ${formatInteger(summary.number('nValidation'))}`],
      ['final training loss', formatNumber(summary.number('finalTrainLoss'), 4)],
      ['final validation loss', formatNumber(summary.number('finalValidationLoss'), 4)],
      ['final reconstruction term / KL', `${formatNumber(summary.number('finalReconstruction'), 4)} / ${formatNumber(summary.number('finalKl'), 4)}`],
      [
        'backend (TensorFlow.js)',
        backend.isEmpty
          ? formatValue(options.string('backend'))
          : `${escapeHtml(backend.string('name') ?? '?')} (<code>${escapeHtml(backend.string('package') ?? '')}</code>${backend.boolean('simd') === null ? '' : backend.boolean('simd') ? ', SIMD' : ', no SIMD'})`,
      ],
      ['worker threads', formatInteger(summary.number('workers'))],
      ['stage time', formatSeconds(seconds.number('total') ?? data.seconds('train'))],
      ['training time', formatSeconds(seconds.number('training'))],
      [release ? 'time per step of the fit' : 'time per epoch', formatSeconds(seconds.number('perEpoch'))],
    ]),
  );
  const reasons = resolved.strings('reasons');
  if (reasons.length) parts.push('<h3>Choices made for this run</h3>', renderList(reasons.map(escapeHtml)));
  parts.push(renderLearning(summary));
  parts.push(renderOtherFacts(summary.remainingScalars(SHOWN), 'Other values recorded by train'));
  return { id: 'training', title: 'Training', status: 'rendered', html: parts.join('\n') };
}

/** DP-SGD's noise and clipping, and how far training moved the latents from the untrained model's. */
function renderLearning(summary: Fields<TrainSummary>): string {
  const comparison = summary.object<TrainSummary['untrainedComparison']>('untrainedComparison');
  const diagnostics = summary.object<NonNullable<TrainSummary['dpDiagnostics']>>('dpDiagnostics');
  const release = summary.object<NonNullable<TrainSummary['secondMoment']>>('secondMoment');
  const facts: [string, string][] = [];
  const percent = (value: number | null) => (value === null ? NOT_AVAILABLE : `${formatNumber(100 * value, 3)}%`);
  if (!diagnostics.isEmpty) {
    facts.push(
      ['noise-to-signal ratio per step (noise norm ÷ C)', formatNumber(diagnostics.number('noiseToSignal'), 3)],
      ['gradients clipped', percent(diagnostics.number('clippedFraction'))],
      ['mean gradient norm before clipping ÷ C', formatNumber(diagnostics.number('meanGradientNormToClip'), 3)],
    );
  }
  if (!release.isEmpty) {
    const shares = release.numbers('leadingShares');
    facts.push(
      ["noise of the second-moment release (spectral norm ÷ the matrix's trace)", formatNumber(release.number('noiseEdge'), 3)],
      ['leading eigenvalues of the release ÷ its trace', shares.length ? shares.map((share) => formatNumber(share, 3)).join(', ') : NOT_AVAILABLE],
      ['share of the release in negative eigenvalues (noise only)', percent(release.number('negativeShare'))],
    );
  }
  if (!comparison.isEmpty) {
    facts.push(
      ["model genes' variance explained by the latents", percent(comparison.number('trainedExplainedVariance'))],
      ['… by the untrained model\'s latents', percent(comparison.number('untrainedExplainedVariance'))],
      [`… by as many principal components`, percent(comparison.number('pcaExplainedVariance'))],
      ['share of that gap closed by training', percent(comparison.number('gapClosed'))],
    );
  }
  if (!facts.length) return '';
  return (
    '<h3>What training learned</h3>' +
    renderFacts(facts) +
    (release.isEmpty
      ? ''
      : '<p class="note">The second-moment release adds noise once, to the matrix of the training rows\' outer products. Its relative noise is about 2σ√p / n for p genes and ' +
        'n training samples; a latent direction whose eigenvalue share is below about half of it cannot be told apart from the noise, and the model then gives it a fixed variance ' +
        '(docs/training.md).</p>') +
    (diagnostics.isEmpty
      ? ''
      : '<p class="note">The noise-to-signal ratio is the expected norm of the DP noise in one step\'s averaged gradient divided by C, the most the clipped gradients can ' +
        'contribute; far above 1 the noise dominates each step.</p>') +
    '<p class="note">The untrained model is the same model at its initial weights, before it saw any data. Latents that ' +
    'explain little more than the untrained ones learned little from training, and their structure then comes from the choice of genes and the random initial weights.</p>'
  );
}

function series(history: EpochRecord[], key: keyof EpochRecord, name: string): LineRow[] {
  return history.filter((h) => h[key] !== null).map((h) => ({ x: h.epoch, y: h[key] as number, series: name }));
}

/** Loss, KL and privacy curves per epoch; `release` marks a fit to a second-moment release, whose epochs are steps on pseudo-samples. */
async function renderCurves(history: EpochRecord[], bestEpoch: number | null, release: boolean): Promise<string[]> {
  const figures: string[] = [];
  const loss = [...series(history, 'trainLoss', 'training'), ...series(history, 'validationLoss', 'validation')];
  if (loss.length) {
    const caption = release
      ? 'Loss of the fit to the second-moment release per step, on pseudo-samples built from the release. The fit starts at the model\'s optimum for the release, ' +
        'so the curve is nearly flat, and it never reads the held-out samples, so there is no validation curve.'
      : `Training and validation loss per epoch${bestEpoch !== null ? `; the weights of epoch ${formatInteger(bestEpoch)} were kept` : ''}. ` +
        'The training loss uses the current KL weight, so it rises during warm-up; with DP-SGD it is also noisy by design.';
    figures.push(await renderFigure('training-loss', lineSpec(loss, { xTitle: 'epoch', yTitle: 'loss (negative ELBO per sample)', seriesTitle: 'set' }), caption));
  }
  const reconstruction = series(history, 'reconstruction', 'reconstruction');
  if (reconstruction.length) {
    figures.push(
      await renderFigure('training-reconstruction', lineSpec(reconstruction, { xTitle: 'epoch', yTitle: 'reconstruction term per sample' }), 'Reconstruction term of the training loss (negative log-likelihood per sample).'),
    );
  }
  const kl = series(history, 'kl', 'KL divergence');
  if (kl.length) {
    figures.push(await renderFigure('training-kl', lineSpec(kl, { xTitle: 'epoch', yTitle: 'KL divergence per sample' }), 'KL divergence of the posterior from the prior, per sample.'));
  }
  const weight = series(history, 'klWeight', 'KL weight');
  if (weight.length) {
    figures.push(
      await renderFigure('training-kl-weight', lineSpec(weight, { xTitle: 'epoch', yTitle: 'KL weight' }), 'Weight of the KL term at the end of each epoch: it rises during warm-up, then stays at its final value.'),
    );
  }
  // A release spends its epsilon once, before the fit, so a curve per epoch would be flat.
  const epsilon = release ? [] : series(history, 'epsilon', 'epsilon');
  if (epsilon.length) {
    figures.push(
      await renderFigure('training-epsilon', lineSpec(epsilon, { xTitle: 'epoch', yTitle: 'epsilon spent so far' }), 'Privacy spent up to the end of each epoch, from the accountant.'),
    );
  }
  const clipped = series(history, 'clippedFraction', 'clipped');
  if (clipped.length) {
    figures.push(
      await renderFigure(
        'training-clipped',
        lineSpec(clipped, { xTitle: 'epoch', yTitle: 'share of gradients clipped', yDomain: [0, 1] }),
        'Share of per-example gradients whose norm exceeded the clipping norm C. Near 1 the clipping dominates the update; near 0 C could be lowered to reduce the noise.',
      ),
    );
  }
  return figures;
}
