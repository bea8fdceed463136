import type { TrainOptions } from '../../../pipeline/train.js';
import type { AuditResult } from '../../privacy/audit.js';
import type { RunRecord } from '../../privacy/budget.js';
import type { TrainPrivacy, TrainSummary } from '../../stages/train.js';
import { escapeHtml, formatInteger, formatNumber, formatValue, NOT_AVAILABLE } from '../format.js';
import { Fields, isRecord } from '../fields.js';
import { renderCallout, renderFacts, renderList, renderTable, skippedSection, unavailable, type Section } from '../html.js';
import type { SectionContext } from './context.js';
import { existsSync } from 'node:fs';
import { membershipFromFile, type MembershipResult } from '../../privacy/membership.js';

/**
 * DP facts of the train summary, plus two optional statements a stage may add: the dataset
 * fingerprint charged in the ledger, and how statistics computed outside DP-SGD were protected.
 */
export type PrivacyFields = TrainPrivacy & { datasetFingerprint: string; protectedStatistics: string };

/** Result of the privacy ledger audit, or the reason it could not run. */
export interface LedgerAuditView {
  result: AuditResult | null;
  /** Reason no audit is shown, when `result` is null. */
  error: string | null;
  ledgerPath: string;
  /** This run's id, to mark its rows in the budget table. */
  runId: string;
  /** ISO 8601 time of the audit: a cached report shows the ledger as it was then. */
  auditedAt: string;
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
    parts.push(renderEpsilonReading(privacy.number('epsilon'), privacy.number('delta')));
  }
  parts.push(renderCoverage(enabled, privacy, data.summary('normalize')));
  parts.push('<h3>Membership-inference check</h3>', renderMembership(data.path('train', 'sample_losses.arrow'), enabled === false ? null : privacy));
  parts.push('<h3>Budget per dataset (ledger audit)</h3>', renderAudit(audit, privacy.string('ledgerEntryId'), enabled !== false));
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
  const release = privacy.string('mechanism') === 'second-moment';
  const facts: [string, string][] = [
    ['mechanism', release ? "second-moment release: one noisy release of the training rows' second-moment matrix, to which the model was fitted" : 'DP-SGD'],
    ['epsilon (ε) spent', formatNumber(epsilon, 4)],
    ['target epsilon of the calibration', privacy.number('targetEpsilon') === null ? 'none (the noise multiplier was given)' : formatNumber(privacy.number('targetEpsilon'), 4)],
    ['delta (δ)', formatNumber(delta, 3)],
    [release ? 'noise standard deviation σ (sensitivity 1)' : 'noise multiplier σ (noise standard deviation σ·C)', formatNumber(privacy.number('noiseMultiplier'), 4)],
    [release ? 'norm of each row (the release\'s sensitivity)' : 'clipping norm C (per-example gradient)', formatNumber(privacy.number('clipNorm') ?? options.number('clipNorm'), 4)],
    ['sampling rate q', formatNumber(privacy.number('samplingRate'), 4)],
    ['sampling', release ? 'none: every training sample contributes once' : formatValue(privacy.string('sampling'))],
    [release ? 'noisy releases made / planned' : 'steps taken / planned', `${formatInteger(steps)} / ${formatInteger(planned)}`],
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
      : `<p><strong>Covered by DP:</strong> the trained model's weights. ${privacy.string('mechanism') === 'second-moment' ? 'The second-moment release' : 'DP-SGD'} bounds how much they can depend on any one sample, at the (ε, δ) above. ` +
        'That is a bound per patient only when each patient contributes one sample; a patient with several samples (repeat biopsies, several cells) is protected at a weaker level.</p>';
  const notCovered =
    '<p><strong>Not covered:</strong></p><ul>' +
    '<li>the per-sample outputs for the training samples: their latents, UMAP coordinates, cluster assignments and predicted labels, and the exports that hold them. Each is computed from that sample\'s own data;</li>' +
    '<li>cluster sizes, marker genes, classification metrics and every table and plot in this report that summarises the samples;</li>' +
    (statistics
      ? ''
      : '<li>statistics computed from the private data outside DP: the normalization (library sizes, per-gene means and standard deviations) and the selection of highly variable genes.</li>') +
    '</ul>';
  const statisticsNote = statistics ? `<p><strong>Statistics outside DP:</strong> ${escapeHtml(statistics)}</p>` : '';
  return renderCallout(
    enabled === false ? 'danger' : 'warning',
    'What differential privacy protects in this run',
    covered + notCovered + statisticsNote + '<p>Treat everything not covered as identifiable patient data.</p>',
  );
}

/** Formats a true-positive rate, or why it was not measured: a false-positive rate of 1 / minimum needs that many held-out samples. */
function tprText(value: number | null, minimum: number): string {
  return value === null ? `not measured (fewer than ${minimum} held-out samples)` : formatNumber(value, 3);
}

function renderAudit(audit: LedgerAuditView | null, ledgerEntryId: string | null, trainedWithDp: boolean): string {
  if (!audit) return unavailable('Ledger audit', 'no ledger was given to the report');
  const result = audit.result;
  if (!result) return unavailable('Ledger audit', audit.error ?? `the ledger at ${audit.ledgerPath} could not be audited`);
  const parts: string[] = [];
  const checked = result.checks.length;
  const mismatched = result.checks.filter((check) => !check.ok).length;
  if (result.ok) {
    parts.push(
      renderCallout(
        'ok',
        'The ledger verifies',
        `<p>${formatInteger(result.lineCount)} lines at <code>${escapeHtml(result.ledgerPath)}</code>: hash chain intact, ${formatInteger(checked)} epsilon values recomputed from their logged parameters, all matching, and no budget cap exceeded.</p>`,
      ),
    );
  } else {
    const items = result.problems.map((problem) => `${problem.line > 0 ? `line ${problem.line}: ` : ''}${escapeHtml(problem.message)}`);
    parts.push(
      renderCallout(
        'danger',
        'The ledger audit found problems',
        `<p>Hash chain ${result.chainOk ? 'intact' : '<strong>broken</strong>'}; ${formatInteger(mismatched)} of ${formatInteger(checked)} recomputed epsilon values differ from the logged ones. Run <code>genevae audit</code> for details.</p>` +
          renderList(items),
      ),
    );
  }
  if (result.notes.length > 0) parts.push(renderList(result.notes.map((note) => escapeHtml(note))));

  if (result.budgets.length === 0) {
    parts.push('<p>No dataset has spent privacy budget in this ledger yet.</p>');
    return parts.join('\n');
  }
  // A run directory can hold entries of earlier trainings (a DP run later rerun with other train
  // options under the same --run-id). Only the current model's entry is "this run".
  const isThisRun = (run: RunRecord) => (ledgerEntryId !== null ? run.entryId === ledgerEntryId : trainedWithDp && run.runId === audit.runId);
  const isThisDirectory = (run: RunRecord) => run.runId === audit.runId;
  const rows = result.budgets.map((budget) => {
    const ours = budget.runs.some((run) => isThisRun(run) || isThisDirectory(run));
    return [
      `${escapeHtml(budget.label)}${ours ? ' <strong>(this run\'s data)</strong>' : ''}`,
      `<code>${escapeHtml(budget.datasetFingerprint.slice(0, 12))}</code>`,
      { html: formatInteger(budget.runs.length), sort: budget.runs.length },
      { html: formatNumber(budget.finalizedEpsilon, 4), sort: budget.finalizedEpsilon },
      { html: formatNumber(budget.pendingEpsilon, 4), sort: budget.pendingEpsilon },
      { html: `<strong>${formatNumber(budget.totalEpsilon, 4)}</strong>`, sort: budget.totalEpsilon },
      { html: formatNumber(budget.totalDelta, 3), sort: budget.totalDelta },
      { html: budget.cap === null ? 'no cap' : formatNumber(budget.cap, 4), sort: budget.cap ?? Infinity },
      { html: budget.remaining === null ? '—' : formatNumber(budget.remaining, 4), sort: budget.remaining ?? Infinity },
    ];
  });
  parts.push(
    renderTable({
      columns: [
        'dataset',
        'fingerprint',
        { label: 'runs', numeric: true },
        { label: 'ε finalized', numeric: true },
        { label: 'ε reserved, not finalized', numeric: true },
        { label: 'ε total', numeric: true, title: 'summed over runs (basic composition); the cap is checked against it' },
        { label: 'δ total', numeric: true },
        { label: 'ε cap', numeric: true },
        { label: 'ε remaining', numeric: true },
      ],
      rows,
      sortable: true,
      caption: `Budget per dataset, recomputed from ${escapeHtml(result.ledgerPath)} at ${escapeHtml(audit.auditedAt)}${result.policySource ? ` with the caps of ${escapeHtml(result.policySource)}` : ''}`,
    }),
  );

  const ours = result.budgets.find((budget) => budget.runs.some((run) => isThisRun(run) || isThisDirectory(run)));
  if (ours) {
    const label = (run: RunRecord) => {
      if (isThisRun(run)) return ' <strong>(this run)</strong>';
      return isThisDirectory(run) ? ' (an earlier training in this run directory, not the current model)' : '';
    };
    const runRows = ours.runs.map((run) => [
      `<code>${escapeHtml(run.runId)}</code>${label(run)}`,
      escapeHtml(run.status),
      escapeHtml(run.reservedAt),
      run.mechanism.release === 'second-moment' ? 'second-moment release' : 'DP-SGD',
      { html: formatInteger(run.stepsTaken ?? run.mechanism.steps), sort: run.stepsTaken ?? run.mechanism.steps },
      { html: formatNumber(run.chargedEpsilon, 4), sort: run.chargedEpsilon },
      escapeHtml(run.mechanism.accountant),
      escapeHtml(run.randomness),
    ]);
    parts.push(
      renderTable({
        columns: ['run', 'status', 'reserved at', 'mechanism', { label: 'steps', numeric: true }, { label: 'ε charged', numeric: true }, 'accountant', 'randomness'],
        rows: runRows,
        sortable: true,
        caption: "Runs charged to this run's dataset",
      }),
    );
  }
  return parts.join('\n');
}

/**
 * Puts ε in words through its hypothesis-test reading: an attacker deciding whether one patient
 * was in training has a true-positive rate at most e^ε times its false-positive rate, plus δ.
 */
function renderEpsilonReading(epsilon: number | null, delta: number | null): string {
  if (epsilon === null || delta === null) return '';
  const factor = Math.exp(epsilon);
  const bound = factor * 0.01 + delta;
  const strength =
    epsilon < 1
      ? 'a strong guarantee: membership of one patient can barely be inferred'
      : epsilon <= 10
        ? 'within the range most published DP deep learning uses'
        : 'a weak formal guarantee, though it still limits worst-case memorisation';
  const test =
    bound < 1
      ? `An attacker who sees the model and guesses whether a given patient was in the training data, and is wrong about non-members 1% of the time, ` +
        `can be right about members at most ${formatNumber(100 * bound, 3)}% of the time (e<sup>ε</sup> × 1% + δ).`
      : `The formal bound is loose at this ε: an attacker's true-positive rate is at most e<sup>ε</sup> ≈ ${formatNumber(factor, 3)} times its false-positive rate (plus δ), ` +
        `so at a 1% false-positive rate it excludes nothing. ${halfMembersSentence(2 * factor)}` +
        'Measured attacks on DP-trained models are usually far weaker than the bound (see the check below).';
  return `<p><strong>Reading ε = ${formatNumber(epsilon, 3)}:</strong> ${strength}. ${test} See docs/privacy.md for how to choose ε.</p>`;
}

/** States the false-positive rate at which the bound still lets an attack find half of the members; above a billion the number is meaningless. */
function halfMembersSentence(oneIn: number): string {
  return oneIn <= 1e9
    ? `An attack that wrongly flags at most 1 in ${formatInteger(Math.round(oneIn))} non-members finds at most half of the members. `
    : 'Even an attack that almost never flags a non-member could, by the bound alone, find half of the members. ';
}

/** Runs the loss-threshold membership attack on the per-sample losses the train stage wrote. */
function renderMembership(path: string, privacy: Fields<PrivacyFields> | null): string {
  if (!existsSync(path)) return unavailable('Membership-inference check', 'the train stage wrote no per-sample losses');
  const epsilon = privacy?.number('epsilon') ?? null;
  const delta = privacy?.number('delta') ?? null;
  let result: MembershipResult;
  try {
    result = membershipFromFile(path, epsilon !== null && delta !== null ? { epsilon, delta } : null);
  } catch (error) {
    return unavailable('Membership-inference check', (error as Error).message);
  }
  const facts: [string, string][] = [
    ['attack', 'loss threshold: a sample whose loss under the trained model is low is guessed to have been in training'],
    ['training (members) / held-out (non-members) samples', `${formatInteger(result.members)} / ${formatInteger(result.nonMembers)}`],
    ['AUC (0.5 is a coin flip)', `${formatNumber(result.auc, 3)} (95% CI ${formatNumber(result.aucLow, 3)} to ${formatNumber(result.aucHigh, 3)})`],
    [
      'true-positive rate at 1% / 10% false positives',
      `${tprText(result.tprAtFpr1, 100)} / ${tprText(result.tprAtFpr10, 10)}`,
    ],
    ['largest AUC any attack can reach under this run\'s (ε, δ)', result.dpAucBound === null ? 'no bound: trained without DP' : formatNumber(result.dpAucBound, 3)],
  ];
  return renderFacts(facts) + `<p>${escapeHtml(result.summary)}</p>`;
}
