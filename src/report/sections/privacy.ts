import type { TrainOptions } from '../../../pipeline/train.js';
import { escapeHtml, formatInteger, formatNumber, formatValue, NOT_AVAILABLE } from '../format.js';
import { Fields, isRecord } from '../fields.js';
import { humanizeKey, renderCallout, renderFacts, renderTable, skippedSection, unavailable, type Section } from '../html.js';
import type { SectionContext } from './context.js';

/** DP facts the privacy section reads from the train summary (top level, or under `privacy` or `dp`). */
export interface PrivacyFields {
  enabled: boolean;
  dp: boolean;
  epsilon: number;
  delta: number;
  noiseMultiplier: number;
  clipNorm: number;
  samplingRate: number;
  sampling: string;
  steps: number;
  accountant: string;
  expectedBatchSize: number;
  targetEpsilon: number;
  ledgerEntry: string;
  ledgerPath: string;
  datasetFingerprint: string;
  /** How statistics computed outside DP-SGD (normalization, gene selection) were protected, in words. */
  protectedStatistics: string;
}

/** What the privacy ledger audit returned, or why it could not run. */
export interface LedgerAuditView {
  /** The audit result as returned by the audit module; rendered defensively. */
  result: unknown;
  /** Why no audit is shown, when `result` is null. */
  error: string | null;
  ledgerPath: string;
}

/** Finds the DP facts wherever the train summary keeps them. */
export function privacyFields(train: Fields): Fields<PrivacyFields> {
  for (const key of ['privacy', 'dp']) {
    const nested = train.raw(key);
    if (isRecord(nested)) return new Fields<PrivacyFields>(nested);
  }
  return new Fields<PrivacyFields>(train.value);
}

/** Whether the run trained with DP-SGD: the summary's statement first, else the recorded train options. */
export function dpEnabled(train: Fields, options: Fields<TrainOptions>): boolean | null {
  const privacy = privacyFields(train);
  const stated = privacy.boolean('enabled') ?? privacy.boolean('dp') ?? train.boolean('dp');
  return stated ?? options.boolean('dp');
}

/** Renders the privacy section: the parameters spent, the ledger's budget table and what DP does and does not cover. */
export async function renderPrivacySection({ data }: SectionContext, audit: LedgerAuditView | null): Promise<Section> {
  if (!data.completed('train')) {
    return skippedSection('privacy', 'Privacy', 'The train stage has not completed in this run, so no privacy was spent.');
  }
  const train = data.summary('train');
  const options = new Fields<TrainOptions>(data.manifest?.options?.train);
  const privacy = privacyFields(train);
  const enabled = dpEnabled(train, options);
  const parts: string[] = [];

  if (enabled === false) {
    parts.push(
      renderCallout(
        'danger',
        'Nothing in this run is differentially private',
        '<p>The model was trained with <code>--no-dp</code>: ordinary training, no gradient clipping, no noise, no privacy accounting. ' +
          'The weights, latents, clusters, predictions and every statistic in this report can reveal information about individual samples. ' +
          'Do not share them beyond the people allowed to see the raw data.</p>',
      ),
    );
  } else {
    parts.push(renderSpent(privacy, options));
  }
  parts.push(renderCoverage(enabled, privacy, data.summary('normalize')));
  parts.push('<h3>Budget per dataset (ledger audit)</h3>', renderAudit(audit));
  return { id: 'privacy', title: 'Privacy', status: 'rendered', html: parts.join('\n') };
}

function renderSpent(privacy: Fields<PrivacyFields>, options: Fields<TrainOptions>): string {
  const epsilon = privacy.number('epsilon');
  const delta = privacy.number('delta');
  const headline =
    epsilon !== null
      ? `<p class="headline">(ε, δ) = (<strong>${formatNumber(epsilon, 4)}</strong>, ${formatNumber(delta, 3)}) spent by this run's training.</p>`
      : `<p class="headline">Epsilon spent: ${NOT_AVAILABLE}</p>`;
  const facts: [string, string][] = [
    ['epsilon (ε)', formatNumber(epsilon, 4)],
    ['delta (δ)', formatNumber(delta, 3)],
    ['noise multiplier σ', formatNumber(privacy.number('noiseMultiplier') ?? options.number('noiseMultiplier'), 4)],
    ['clipping norm C', formatNumber(privacy.number('clipNorm') ?? options.number('clipNorm'), 4)],
    ['sampling rate q', formatNumber(privacy.number('samplingRate'), 4)],
    ['sampling', formatValue(privacy.string('sampling'))],
    ['steps', formatInteger(privacy.number('steps'))],
    ['expected batch size', formatInteger(privacy.number('expectedBatchSize') ?? options.number('batchSize'))],
    ['accountant', formatValue(privacy.string('accountant') ?? options.string('accountant'))],
    ['target epsilon', formatNumber(privacy.number('targetEpsilon') ?? options.number('targetEpsilon'), 4)],
    ['ledger entry', privacy.string('ledgerEntry') ? `<code>${escapeHtml(privacy.string('ledgerEntry'))}</code>` : NOT_AVAILABLE],
    ['dataset fingerprint', privacy.string('datasetFingerprint') ? `<code class="hash">${escapeHtml(privacy.string('datasetFingerprint'))}</code>` : NOT_AVAILABLE],
  ];
  return headline + renderFacts(facts);
}

function renderCoverage(enabled: boolean | null, privacy: Fields<PrivacyFields>, normalize: Fields): string {
  const statistics = privacy.string('protectedStatistics') ?? normalize.string('protectedStatistics');
  const covered =
    enabled === false
      ? '<p><strong>Covered by DP:</strong> nothing.</p>'
      : '<p><strong>Covered by DP:</strong> the trained model\'s weights. DP-SGD bounds how much they can depend on any one sample (one patient), at the (ε, δ) above.</p>';
  const notCovered =
    '<p><strong>Not covered:</strong></p><ul>' +
    '<li>the per-sample outputs for the training samples: their latents, UMAP coordinates, cluster assignments and predicted labels, and the exports that hold them. Each is computed from that sample\'s own data;</li>' +
    '<li>cluster sizes, marker genes, classification metrics and every table and plot in this report that summarises the samples;</li>' +
    (statistics
      ? ''
      : '<li>statistics computed from the private data outside DP-SGD: the normalization (library sizes, per-gene means and standard deviations) and the selection of highly variable genes.</li>') +
    '</ul>';
  const statisticsNote = statistics ? `<p><strong>Statistics outside DP-SGD:</strong> ${escapeHtml(statistics)}</p>` : '';
  return renderCallout(
    enabled === false ? 'danger' : 'warning',
    'What differential privacy protects in this run',
    covered + notCovered + statisticsNote + '<p>Treat everything not covered as identifiable patient data.</p>',
  );
}

function renderAudit(audit: LedgerAuditView | null): string {
  if (!audit) return unavailable('Ledger audit', 'no ledger was given to the report');
  if (audit.result === null || audit.result === undefined) {
    return unavailable('Ledger audit', audit.error ?? `no ledger at ${audit.ledgerPath}`);
  }
  const result = new Fields(audit.result);
  const parts: string[] = [];
  const ok = result.boolean('ok') ?? result.boolean('valid');
  const problems = [...result.array('problems'), ...result.array('errors'), ...result.array('discrepancies')];
  if (ok === true && problems.length === 0) {
    parts.push(renderCallout('ok', 'The ledger verifies', `<p>Hash chain intact and every epsilon recomputed from its logged parameters (<code>${escapeHtml(audit.ledgerPath)}</code>).</p>`));
  } else if (ok === false || problems.length > 0) {
    const items = problems.map((problem) => `<li>${formatValue(isRecord(problem) ? (problem.message ?? problem) : problem)}</li>`);
    parts.push(renderCallout('danger', 'The ledger audit found problems', `<ul>${items.join('')}</ul>`));
  }
  const rows = [...result.array('datasets'), ...result.array('budgets'), ...result.array('table')].filter(isRecord);
  if (rows.length === 0) {
    parts.push(unavailable('Budget table', 'the audit returned no per-dataset rows'));
    return parts.join('\n');
  }
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row).filter((key) => typeof row[key] !== 'object' || row[key] === null || Array.isArray(row[key]))))];
  const numeric = new Set(keys.filter((key) => rows.every((row) => row[key] === undefined || row[key] === null || typeof row[key] === 'number')));
  parts.push(
    renderTable({
      columns: keys.map((key) => ({ label: humanizeKey(key), numeric: numeric.has(key) })),
      rows: rows.map((row) => keys.map((key) => ({ html: formatValue(row[key]), sort: typeof row[key] === 'number' ? (row[key] as number) : undefined }))),
      sortable: true,
    }),
  );
  return parts.join('\n');
}
