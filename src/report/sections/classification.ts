import type { ClassifySummary } from '../../stages/classify.js';
import type { DimensionImportance, GeneImportance } from '../../classify/importance.js';
import type { PairedComparison } from '../../classify/paired.js';
import { escapeHtml, formatInteger, formatMeanSpread, formatNumber, formatSeconds, formatValue, NOT_AVAILABLE } from '../format.js';
import { Fields, isRecord } from '../fields.js';
import { renderCallout, renderFacts, renderList, renderOtherFacts, renderTable, skippedSection, unavailable, type Section } from '../html.js';
import { barSpec, heatmapSpec, lineSpec, renderFigure, type HeatCell, type LineRow } from '../plot.js';
import type { SectionContext } from './context.js';

type ClassifyFields = ClassifySummary;

/** Scores shown per model, with the direction that is better. */
const SCORES: { key: string; label: string; title: string }[] = [
  { key: 'accuracy', label: 'accuracy', title: 'share of samples predicted right' },
  { key: 'balancedAccuracy', label: 'balanced accuracy', title: 'mean recall over classes; chance is 1 / number of classes' },
  { key: 'macroF1', label: 'macro-F1', title: 'unweighted mean F1 over classes' },
  { key: 'aurocMacro', label: 'AUROC (macro, one-vs-rest)', title: 'mean one-vs-rest area under the ROC curve' },
  { key: 'brier', label: 'Brier score (lower is better)', title: 'mean squared error of the class probabilities, in [0, 2]' },
];

interface ModelView {
  name: string;
  report: Fields;
}

/** Scored models in the summary's order (learners, then ensembles), each with its cross-validation report. */
function modelsOf(summary: Fields<ClassifyFields>): ModelView[] {
  const results = summary.object('results');
  const order = summary.strings('models');
  const names = order.length ? order.filter((name) => results.has(name)) : Object.keys(results.value);
  return names.map((name) => ({ name, report: new Fields(results.raw(name)) }));
}

/** Reads a score as (mean, spread) from `folds[key]`, falling back to a bare number or {mean, sd} at the top level. */
function scoreOf(report: Fields, key: string): { mean: number | null; sd: number | null } {
  const candidates = [report.object('folds').raw(key), report.object('scores').raw(key), report.object('metrics').raw(key), report.raw(key)];
  for (const value of candidates) {
    if (typeof value === 'number') return { mean: value, sd: null };
    if (isRecord(value) && typeof value.mean === 'number') {
      const sd = value.sd ?? value.std ?? value.spread;
      return { mean: value.mean, sd: typeof sd === 'number' ? sd : null };
    }
  }
  return { mean: null, sd: null };
}

/** Renders the classification section: scores per model, confusion matrix, ROC, calibration, importance, leakage. */
export async function renderClassificationSection({ data }: SectionContext): Promise<Section> {
  if (!data.completed('classify')) {
    return skippedSection('classification', 'Classification', 'The classify stage has not completed in this run.');
  }
  const summary = data.summary<ClassifyFields>('classify');
  const models = modelsOf(summary);
  if (summary.string('status') === 'skipped' || models.length === 0) {
    return skippedSection('classification', 'Classification', summary.string('skipReason') ?? 'The classify stage trained no model.');
  }
  const classes = summary.strings('classes');
  const classCounts = summary.numbers('classCounts');
  const parts: string[] = [];

  parts.push(renderLeakage(summary.object<NonNullable<ClassifySummary['validation']>>('validation')));
  const dropped = summary.records<ClassifySummary['droppedClasses'][number]>('droppedClasses');
  parts.push(
    renderFacts([
      ['labelled samples used', formatInteger(summary.number('nLabelled'))],
      ['unlabelled samples (used by the VAE, not by the classifiers)', `<strong>${formatInteger(summary.number('nUnlabelled'))}</strong>`],
      ['classes (samples)', classes.length ? escapeHtml(classes.map((c, i) => (classCounts[i] !== undefined ? `${c} (${classCounts[i]})` : c)).join(', ')) : NOT_AVAILABLE],
      ['classes left out', dropped.length ? escapeHtml(dropped.map((d) => `${d.string('label')} (${d.number('count')}): ${d.string('reason')}`).join('; ')) : 'none'],
      [
        'cross-validation',
        `${formatInteger(summary.number('folds'))} stratified folds × ${formatInteger(summary.number('repeats'))} ${summary.number('repeats') === 1 ? 'repeat' : 'repeats'}` +
          (summary.number('requestedFolds') !== null && summary.number('requestedFolds') !== summary.number('folds') ? ` (${formatInteger(summary.number('requestedFolds'))} requested; reduced to the smallest class size)` : ''),
      ],
      ['class weights', formatValue(summary.string('classWeight'))],
      ['chance balanced accuracy', formatNumber(summary.number('chanceBalancedAccuracy') ?? (classes.length ? 1 / classes.length : null), 3)],
      ['best single learner', summary.string('bestLearner') ? `<code>${escapeHtml(summary.string('bestLearner'))}</code>` : NOT_AVAILABLE],
      ['ensemble used by genevae predict', summary.string('ensemble') ? `<code>${escapeHtml(summary.string('ensemble'))}</code>` : NOT_AVAILABLE],
      ['stacking', summary.string('stackingSkipped') ? `not trained: ${escapeHtml(summary.string('stackingSkipped'))}` : 'trained'],
    ]),
  );

  const scalingNotes = summary.object<ClassifySummary['scaling']>('scaling').strings('notes');
  if (scalingNotes.length > 0) {
    parts.push(renderCallout('info', 'Settings for a large cohort', renderList(scalingNotes.map(escapeHtml))));
  }

  parts.push('<h3>Scores per model</h3>', renderScores(models, summary.object('ensembleAtLeastBest'), summary.object('ensembleComparison')));
  parts.push(renderEnsembleComparison(summary.object('ensembleComparison')));
  parts.push(renderPcaBaseline(summary.object<NonNullable<ClassifySummary['pcaBaseline']>>('pcaBaseline'), summary.string('pcaBaselineSkipped')));
  const best = pickBest(models, summary.string('ensemble'));
  parts.push(`<h3>Model in detail: <code>${escapeHtml(best.name)}</code></h3>`);
  parts.push(`<div class="row">${await renderConfusion(best, classes)}${await renderPerClass(best)}</div>`);
  parts.push(`<div class="row">${await renderRoc(best)}${await renderCalibration(models)}</div>`);
  parts.push('<h3>Permutation importance</h3>', await renderImportance(summary.object<NonNullable<ClassifySummary['importance']>>('importance')));
  const timings = summary.object<ClassifySummary['timings']>('timings');
  parts.push(
    renderFacts([
      ['cross-validation time', formatSeconds(timings.number('crossValidation'))],
      ['final refit time', formatSeconds(timings.number('finalFit'))],
    ]),
  );
  parts.push(
    renderOtherFacts(
      summary.remainingScalars([
        'status', 'skipReason', 'nSamples', 'nLabelled', 'nUnlabelled', 'droppedClasses', 'classes', 'classCounts', 'latentDim', 'requestedFolds', 'folds', 'repeats',
        'repeatsRequested', 'scaling', 'learners', 'models', 'classWeight', 'stackingSkipped', 'ensemble', 'chanceBalancedAccuracy', 'results', 'bestLearner', 'ensembleAtLeastBest', 'ensembleComparison', 'validation', 'importance', 'timings',
        'pcaBaseline', 'pcaBaselineSkipped',
      ]),
      'Other values recorded by classify',
    ),
  );
  return { id: 'classification', title: 'Classification', status: 'rendered', html: parts.join('\n') };
}

function pickBest(models: ModelView[], named: string | null): ModelView {
  const byName = models.find((m) => m.name === named);
  if (byName) return byName;
  let best = models[0];
  for (const model of models) {
    if ((scoreOf(model.report, 'balancedAccuracy').mean ?? -1) > (scoreOf(best.report, 'balancedAccuracy').mean ?? -1)) best = model;
  }
  return best;
}

function renderLeakage(validation: Fields<NonNullable<ClassifySummary['validation']>>): string {
  if (validation.isEmpty) {
    return renderCallout(
      'warning',
      'Which steps saw the test folds',
      '<p>The classify stage did not state it. Assume that normalization statistics, gene selection and the VAE were fitted on every sample before cross-validation, so the scores may be optimistic.</p>',
    );
  }
  const perFold = validation.strings('fittedPerFold');
  const onAll = validation.strings('fittedOnAllSamples');
  return renderCallout(
    onAll.length > 0 ? 'warning' : 'info',
    'Which steps saw the test folds',
    `<p>${escapeHtml(validation.string('statement') ?? '')}</p>` +
      renderList([
        `Validation scheme: ${escapeHtml(validation.string('scheme') ?? NOT_AVAILABLE)}.`,
        `Fitted inside each training fold only: ${perFold.length ? escapeHtml(perFold.join(', ')) : 'nothing'}.`,
        `Fitted once on every sample, test folds included (without labels): ${onAll.length ? escapeHtml(onAll.join(', ')) : 'nothing'}.`,
      ]),
  );
}

/** Tag after an ensemble's name: its mean against the best learner's, and the paired test's verdict when recorded. */
function bestTag(atLeastBest: boolean | null, comparison: Fields<PairedComparison> | null): string {
  if (atLeastBest === null) return '';
  const verdict = comparison?.string('verdict') ?? null;
  let tested = '';
  if (verdict === 'no significant difference') tested = ', not significant';
  else if (verdict !== null) tested = `, significantly ${verdict}`;
  if (atLeastBest) return ` <span class="yes" title="mean balanced accuracy at least the best single learner's">≥ best${tested}</span>`;
  return ` <span class="no" title="mean balanced accuracy below the best single learner's">&lt; best${tested}</span>`;
}

function renderScores(models: ModelView[], atLeastBest: Fields, comparisons: Fields): string {
  const rows = models.map((model) => [
    `<code>${escapeHtml(model.name)}</code>` +
      bestTag(atLeastBest.boolean(model.name), comparisons.has(model.name) ? comparisons.object<PairedComparison>(model.name) : null),
    ...SCORES.map(({ key }) => {
      const { mean, sd } = scoreOf(model.report, key);
      return { html: formatMeanSpread(mean, sd), sort: mean ?? -Infinity };
    }),
  ]);
  return (
    renderTable({ columns: ['model', ...SCORES.map((s) => ({ label: s.label, numeric: true, title: s.title }))], rows, sortable: true }) +
    '<p class="note">Mean ± standard deviation over the test folds of every repeat.</p>'
  );
}

/** Describes a paired comparison in words: difference, corrected t, p-value and verdict. */
function describeComparison(comparison: Fields<PairedComparison>): string {
  const t = comparison.number('t');
  const p = comparison.number('pValue');
  const statistic = t === null ? 'the same difference in every fold' : `corrected t = ${fixed(t, 2)} on ${formatInteger(comparison.number('degreesOfFreedom'))} degrees of freedom`;
  return (
    `${fixed(comparison.number('difference'), 3, true)} ± ${fixed(comparison.number('standardError'), 3)} ` +
    `(${statistic}, p = ${p !== null && p < 0.001 ? '< 0.001' : fixed(p, 3)}): ${escapeHtml(comparison.string('verdict') ?? NOT_AVAILABLE)}`
  );
}

/** Formats a number with a fixed number of decimals, a typographic minus, and optionally a plus sign. */
function fixed(value: number | null, decimals: number, signed = false): string {
  if (value === null) return NOT_AVAILABLE;
  const digits = Math.abs(value).toFixed(decimals);
  if (value < 0) return `−${digits}`;
  return signed ? `+${digits}` : digits;
}

/** Describes the latents-against-components difference, with the paired test deciding whether it is more than noise. */
function pcaVerdictText(difference: number | null, test: Fields<PairedComparison> | null): string {
  if (difference === null) return '';
  const direction = difference < 0 ? `${fixed(-difference, 3)} lower` : `${fixed(difference, 3)} higher`;
  if (!test) {
    return difference < 0
      ? `The latents score ${direction} in balanced accuracy: the model keeps less of the label signal than a linear summary of the genes.`
      : `The latents score ${direction} in balanced accuracy.`;
  }
  const verdict = test.string('verdict');
  let reading = 'The difference is within the spread over the folds, so it does not show that either representation carries more of the label signal.';
  if (verdict === 'worse') reading = 'The model keeps less of the label signal than a linear summary of the genes.';
  if (verdict === 'better') reading = 'The latents carry more of the label signal than a linear summary of the genes.';
  return (
    ` The latents score ${direction} in balanced accuracy (latents − components: ${describeComparison(test)}, ` +
    `mean ± standard error, corrected resampled t-test, two-sided at the ${fixed(test.number('alpha'), 2)} level). ${reading}`
  );
}

/** Renders each ensemble's paired comparison with the best single learner. */
function renderEnsembleComparison(comparisons: Fields): string {
  const names = (['voting', 'stacking'] as const).filter((name) => comparisons.has(name));
  if (names.length === 0) return '';
  const items = names.map((name) => {
    const comparison = comparisons.object<PairedComparison & { reference: string }>(name);
    return `<code>${name}</code> − <code>${escapeHtml(comparison.string('reference') ?? '?')}</code>: ${describeComparison(comparison)}`;
  });
  const alpha = comparisons.object<PairedComparison>(names[0]).number('alpha');
  return (
    renderList(items) +
    '<p class="note">Balanced accuracy of each ensemble minus the best single learner, paired over the same test folds: mean difference ± its ' +
    "standard error, with the corrected resampled t-test (Nadeau and Bengio), whose variance accounts for the overlap of the folds' training sets. " +
    `The verdict is two-sided at the ${fixed(alpha, 2)} level. The best learner is the one that scored ` +
    'highest on these same folds, so a small shortfall against it is expected by chance alone.</p>'
  );
}

/** Renders the latents against principal components as features of the same logistic regression. */
function renderPcaBaseline(baseline: Fields<NonNullable<ClassifySummary['pcaBaseline']>>, skipped: string | null): string {
  const heading = '<h3>Latents against principal components</h3>';
  if (baseline.isEmpty) return heading + unavailable('Comparison with principal components', skipped ?? 'not recorded by this run');
  const components = formatInteger(baseline.number('nComponents'));
  const row = (name: string, scores: Fields) => [
    name,
    ...(['balancedAccuracy', 'accuracy', 'macroF1'] as const).map((key) => {
      const score = scores.object(key);
      return { html: formatMeanSpread(score.number('mean'), score.number('sd')), sort: score.number('mean') ?? -Infinity };
    }),
  ];
  const difference = baseline.number('difference');
  return (
    heading +
    renderTable({
      columns: ['features of the logistic regression', { label: 'balanced accuracy', numeric: true }, { label: 'accuracy', numeric: true }, { label: 'macro-F1', numeric: true }],
      rows: [row('VAE latents', baseline.object('latent')), row(`top ${components} principal components of the scaled genes (as many as latent dimensions)`, baseline.object('pca'))],
    }) +
    `<p class="note">The same logistic regression on the same folds. The principal components come from the cluster stage's PCA baseline, ` +
    'fitted on every sample without labels and outside differential privacy. ' +
    pcaVerdictText(difference, baseline.has('test') ? baseline.object<PairedComparison>('test') : null) +
    '</p>'
  );
}

async function renderConfusion(model: ModelView, classes: string[]): Promise<string> {
  const confusion = model.report.array('confusion').filter(Array.isArray) as unknown[][];
  if (confusion.length === 0 || classes.length === 0) return unavailable('Confusion matrix', 'not recorded for this model');
  const cells: HeatCell[] = [];
  confusion.forEach((row, t) => {
    const total = row.reduce<number>((sum, v) => sum + (typeof v === 'number' ? v : 0), 0);
    row.forEach((value, p) => {
      const count = typeof value === 'number' ? value : 0;
      cells.push({ x: classes[p] ?? String(p), y: classes[t] ?? String(t), value: total > 0 ? count / total : 0, text: String(count) });
    });
  });
  return renderFigure(
    'confusion',
    heatmapSpec(cells, { xTitle: 'predicted', yTitle: 'true', colorTitle: 'share of row', xOrder: classes, yOrder: classes, domain: [0, 1] }),
    'Confusion matrix on out-of-fold predictions, summed over repeats: counts, coloured by the share of each true class (rows).',
  );
}

async function renderPerClass(model: ModelView): Promise<string> {
  const perClass = model.report.records('perClass');
  if (perClass.length === 0) return '';
  const rows = perClass.map((c) => [
    escapeHtml(c.string('label') ?? ''),
    { html: formatNumber(c.number('precision'), 3), sort: c.number('precision') ?? 0 },
    { html: formatNumber(c.number('recall'), 3), sort: c.number('recall') ?? 0 },
    { html: formatNumber(c.number('f1'), 3), sort: c.number('f1') ?? 0 },
    { html: formatInteger(c.number('support')), sort: c.number('support') ?? 0 },
  ]);
  return renderTable({
    columns: ['class', { label: 'precision', numeric: true }, { label: 'recall', numeric: true }, { label: 'F1', numeric: true }, { label: 'support', numeric: true }],
    rows,
    sortable: true,
    caption: 'Per-class scores on out-of-fold predictions pooled over repeats',
  });
}

async function renderRoc(model: ModelView): Promise<string> {
  const curves = model.report.records('roc');
  const rows: LineRow[] = [];
  for (const curve of curves) {
    const fpr = curve.numbers('fpr');
    const tpr = curve.numbers('tpr');
    const auc = curve.number('auc');
    const name = `${curve.string('label') ?? '?'} (AUC ${formatNumber(auc, 3)})`;
    for (let i = 0; i < Math.min(fpr.length, tpr.length); i++) rows.push({ x: fpr[i], y: tpr[i], series: name });
  }
  if (rows.length === 0) return unavailable('ROC curves', 'not recorded for this model');
  return renderFigure(
    'roc',
    lineSpec(rows, { xTitle: 'false positive rate', yTitle: 'true positive rate', seriesTitle: 'class', diagonal: true, xDomain: [0, 1], yDomain: [0, 1], width: 320, height: 320 }),
    `One-vs-rest ROC curve per class for <code>${escapeHtml(model.name)}</code>, on out-of-fold probabilities; the dashed line is chance.`,
  );
}

async function renderCalibration(models: ModelView[]): Promise<string> {
  const rows: LineRow[] = [];
  const eces: string[] = [];
  for (const model of models) {
    const calibration = model.report.object('calibration');
    const bins = calibration.records('bins');
    for (const bin of bins) {
      const confidence = bin.number('meanConfidence');
      const accuracy = bin.number('accuracy');
      if (confidence !== null && accuracy !== null) rows.push({ x: confidence, y: accuracy, series: model.name });
    }
    if (calibration.number('ece') !== null) eces.push(`${escapeHtml(model.name)} ${formatNumber(calibration.number('ece'), 3)}`);
  }
  if (rows.length === 0) return unavailable('Calibration plot', 'no model recorded reliability bins');
  return renderFigure(
    'calibration',
    lineSpec(rows, { xTitle: 'mean predicted probability of the predicted class', yTitle: 'share predicted right', seriesTitle: 'model', diagonal: true, points: true, xDomain: [0, 1], yDomain: [0, 1], width: 320, height: 320 }),
    `Reliability of the top-class probability (points on the dashed line are perfectly calibrated). Expected calibration error: ${eces.join(', ') || NOT_AVAILABLE}.`,
  );
}

async function renderImportance(importance: Fields<NonNullable<ClassifySummary['importance']>>): Promise<string> {
  if (importance.isEmpty) return unavailable('Permutation importance', 'the classify stage recorded none');
  const parts: string[] = [];
  const dimensions = importance.records<DimensionImportance>('dimensions');
  if (dimensions.length === 0) {
    parts.push(unavailable('Permutation importance per latent dimension', 'no dimensions recorded'));
  } else {
    const rows = dimensions
      .map((d) => ({ dimension: d.number('dimension') ?? NaN, mean: d.number('mean') ?? 0, sd: d.number('sd') ?? undefined }))
      .sort((a, b) => b.mean - a.mean);
    parts.push(
      await renderFigure(
        'permutation-importance',
        barSpec(rows.map((r) => ({ category: `z_${r.dimension + 1}`, value: r.mean, error: r.sd })), { valueTitle: 'drop in balanced accuracy when shuffled', categoryTitle: 'latent dimension' }),
        `Permutation importance of each latent dimension for <code>${escapeHtml(importance.string('model') ?? '?')}</code>: the mean drop in balanced accuracy over the test folds when the dimension is shuffled (${formatInteger(importance.number('permutations'))} permutations), ± one standard deviation.`,
      ),
    );
  }
  const genes = importance.records<GeneImportance>('topGenes').slice(0, 20);
  if (genes.length > 0) {
    parts.push(
      renderTable({
        columns: ['gene', 'symbol', { label: 'score', numeric: true }],
        rows: genes.map((g) => [`<code>${escapeHtml(g.string('gene_id') ?? '')}</code>`, escapeHtml(g.string('symbol') ?? ''), { html: formatNumber(g.number('score'), 3), sort: g.number('score') ?? 0 }]),
        sortable: true,
        caption: 'Top 20 genes behind the prediction: dimension importance mapped to genes through the decoder (05-classify/importance.arrow holds all)',
      }),
    );
  } else {
    parts.push(unavailable('Genes behind the prediction', importance.string('genesMissingReason') ?? 'none recorded'));
  }
  return parts.join('\n');
}
