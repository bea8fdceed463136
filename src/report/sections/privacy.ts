import type { TrainOptions } from '../../../pipeline/train.js';
import type { TrainPrivacy, TrainSummary } from '../../stages/train.js';
import { escapeHtml, formatInteger, formatNumber, formatValue, NOT_AVAILABLE } from '../format.js';
import { Fields, isRecord } from '../fields.js';
import { humanizeKey, renderCallout, renderFacts, renderTable, skippedSection, unavailable, type Section } from '../html.js';
import type { SectionContext } from './context.js';

/**
 * DP facts of the train summary, plus two optional statements a stage may add: the dataset
 * fingerprint charged in the ledger, and how statistics computed outside DP-SGD were protected.
 */
export type PrivacyFields = TrainPrivacy & { datasetFingerprint: string; protectedStatistics: string };

/** Result of the privacy ledger audit, or the reason it could not run. */
export interface LedgerAuditView {
  /** The audit result as returned by the audit module; rendered defensively. */
  result: unknown;
  /** Reason no audit is shown, when `result` is null. */
  error: string | null;
  ledgerPath: string;
}

/** Reads the DP facts from the train summary's `privacy` record. */
export function privacyFields(train: Fields<TrainSummary>): Fields<PrivacyFields> {
  return train.object<PrivacyFields>('privacy');
}

/** Reports whether the run trained with DP-SGD: the train summary's statement first, else the recorded train options. */
export function dpEnabled(train: Fields<TrainSummary>, options: Fields<TrainOptions>): boolean | null {
  return privacyFields(train).boolean('dp') ?? options.boolean('dp');
}

/** Renders the privacy section: the parameters spent, the ledger's budget table and what DP does and does not cover. */
export async function renderPrivacySection({ data }: SectionContext, audit: LedgerAuditView | null): Promise<Section> {
  if (!data.completed('train')) {
    return skippedSection('privacy', 'Privacy', 'The train stage has not completed in this run, so no privacy was spent.');
  }
  const train = data.summary<TrainSummary>('train');
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
  const steps = privacy.number('steps');
  const planned = privacy.number('plannedSteps');
  const facts: [string, string][] = [
    ['epsilon (ε) spent', formatNumber(epsilon, 4)],
    ['target epsilon of the calibration', privacy.number('targetEpsilon') === null ? 'none (the noise multiplier was given)' : formatNumber(privacy.number('targetEpsilon'), 4)],
    ['delta (δ)', formatNumber(delta, 3)],
    ['noise multiplier σ (noise standard deviation σ·C)', formatNumber(privacy.number('noiseMultiplier'), 4)],
    ['clipping norm C (per-example gradient)', formatNumber(privacy.number('clipNorm') ?? options.number('clipNorm'), 4)],
    ['sampling rate q', formatNumber(privacy.number('samplingRate'), 4)],
    ['sampling', formatValue(privacy.string('sampling'))],
    ['steps taken / planned', `${formatInteger(steps)} / ${formatInteger(planned)}`],
    ['accountant', formatValue(privacy.string('accountant') ?? options.string('accountant'))],
    ['samples protected (the training split)', formatInteger(privacy.number('protectedSamples'))],
    ['randomness of sampling and noise', formatValue(privacy.string('randomness'))],
    ['ledger entry', privacy.string('ledgerEntryId') ? `<code>${escapeHtml(privacy.string('ledgerEntryId'))}</code>` : NOT_AVAILABLE],
  ];
  if (privacy.string('datasetFingerprint')) facts.push(['dataset fingerprint', `<code class="hash">${escapeHtml(privacy.string('datasetFingerprint'))}</code>`]);
  const note = privacy.string('note');
  return headline + renderFacts(facts) + (note ? `<p class="note">${escapeHtml(note)}</p>` : '');
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
