import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { epsilonFor } from './accountant.js';
import { datasetBudgets, foldRuns, formatEpsilon, loadBudgetPolicy, type DatasetBudget, type RunRecord } from './budget.js';
import { checkChain, checkHead, HEAD_FILE, LEDGER_FILE, type LedgerHead, type LedgerProblem } from './ledger-chain.js';

/**
 * Verification of the privacy ledger, used by `genevae audit` and by the report: the hash
 * chain, every epsilon recomputed from its logged parameters, and the per-dataset budget table.
 */

/** Relative difference tolerated between a logged and a recomputed epsilon. */
const TOLERANCE = { rdp: 1e-6, pld: 1e-3 } as const; // PLD is numerical; later grids may move it slightly

/** One epsilon recomputed from the ledger. */
export interface EpsilonCheck {
  entryId: string;
  runId: string;
  /** Ledger line of the value checked: the finalize line, or the reserve line for planned epsilon. */
  line: number;
  /** 'final' checks a finalize line; 'planned' checks a reservation's planned epsilon. */
  kind: 'final' | 'planned';
  accountant: string;
  steps: number;
  logged: number;
  recomputed: number;
  ok: boolean;
}

/** Everything `genevae audit` prints. */
export interface AuditResult {
  /** True when the chain verifies, every epsilon matches and no cap is exceeded. */
  ok: boolean;
  ledgerPath: string;
  lineCount: number;
  /** Hash of the last line: record it elsewhere to detect a later rewrite of the whole file. */
  lastHash: string | null;
  chainOk: boolean;
  /** Failures, each with its 1-based ledger line (0 for the ledger as a whole). */
  problems: LedgerProblem[];
  /** Findings that are not failures: reservations never finalized, no cap set, test randomness. */
  notes: string[];
  checks: EpsilonCheck[];
  budgets: DatasetBudget[];
  policySource: string | null;
}

/** Re-reads of a ledger that ends mid-line, and the pause before each, before the audit reports the cut-off line. */
const MID_LINE_REREADS = 5;
const MID_LINE_PAUSE_MS = 20;

/**
 * Reads the ledger, reading it again when it ends mid-line. A reader can see an append that is
 * still being written: audits run in a loop during appends saw a partial last line on Linux,
 * although each line is one write call. Such a line completes within milliseconds, while a line
 * cut off by a crash or a truncation stays cut off.
 */
function readSettledLedger(ledgerPath: string): string {
  const read = () => (existsSync(ledgerPath) ? readFileSync(ledgerPath, 'utf8') : '');
  let text = read();
  for (let attempt = 0; attempt < MID_LINE_REREADS && text !== '' && !text.endsWith('\n'); attempt++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, MID_LINE_PAUSE_MS);
    text = read();
  }
  return text;
}

/** Verifies privacy/ledger.jsonl in `privacyDir`; a missing ledger is an empty, valid one. */
export function auditLedger(privacyDir: string): AuditResult {
  const ledgerPath = join(privacyDir, LEDGER_FILE);
  const headPath = join(privacyDir, HEAD_FILE);
  // Read the head before the ledger: writers append a line before they update the head, so
  // the head read first can only lag the ledger read second, even while a run is appending.
  let headText: string | null = null;
  if (existsSync(headPath)) headText = readFileSync(headPath, 'utf8');
  const text = readSettledLedger(ledgerPath);
  const chain = checkChain(text);
  const problems: LedgerProblem[] = [...chain.problems];
  const notes: string[] = [];

  let head: LedgerHead | null = null;
  if (headText !== null) {
    try {
      head = JSON.parse(headText) as LedgerHead;
    } catch {
      problems.push({ line: 0, message: `${HEAD_FILE} is not valid JSON` });
    }
  }
  const headCheck = checkHead(chain, head);
  problems.push(...headCheck.problems);
  notes.push(...headCheck.notes);
  const chainOk = problems.length === 0;

  const policy = loadBudgetPolicy(privacyDir);
  const runs = foldRuns(chain.entries);
  const checks = recomputeEpsilons(runs);
  for (const check of checks.filter((c) => !c.ok)) {
    problems.push({
      line: check.line,
      message:
        `run ${check.runId}: logged ${check.kind} epsilon ${check.logged} but the ${check.accountant} accountant gives ` +
        `${check.recomputed} for the logged parameters (${check.steps} steps)`,
    });
  }
  for (const run of runs) {
    if (run.mechanism.sampling !== 'poisson') {
      problems.push({ line: run.reserveLine, message: `run ${run.runId}: sampling '${run.mechanism.sampling}' is not covered by the accountant` });
    }
    if (run.status === 'reserved') {
      notes.push(`run ${run.runId} (line ${run.reserveLine}): reserved, not finalized (counted at planned epsilon ${formatEpsilon(run.plannedEpsilon)})`);
    }
    if (run.randomness === 'insecure-test-seed') {
      notes.push(`run ${run.runId} (line ${run.reserveLine}): used a seeded test random stream, so its epsilon is no guarantee`);
    }
  }

  const budgets = datasetBudgets(runs, policy);
  for (const budget of budgets) {
    if (budget.cap === null) {
      notes.push(`dataset ${budget.label} (${budget.datasetFingerprint.slice(0, 12)}): no budget cap is set`);
    } else if (budget.totalEpsilon > budget.cap * (1 + 1e-12)) {
      const last = budget.runs[budget.runs.length - 1];
      problems.push({
        line: last.closeLine ?? last.reserveLine,
        message: `dataset ${budget.label} (${budget.datasetFingerprint.slice(0, 12)}): total epsilon ${formatEpsilon(budget.totalEpsilon)} exceeds its cap ${formatEpsilon(budget.cap)}`,
      });
    }
  }

  problems.sort((a, b) => a.line - b.line);
  return {
    ok: problems.length === 0,
    ledgerPath,
    lineCount: chain.entries.length,
    lastHash: chain.entries.length > 0 ? chain.lastHash : null,
    chainOk,
    problems,
    notes,
    checks,
    budgets,
    policySource: policy.source,
  };
}

/** Recomputes each final epsilon, and the planned epsilon of every reservation. */
function recomputeEpsilons(runs: readonly RunRecord[]): EpsilonCheck[] {
  const cache = new Map<string, number>();
  const epsilonOf = (run: RunRecord, steps: number): number => {
    const m = run.mechanism;
    const key = JSON.stringify([m.samplingRate, m.noiseMultiplier, steps, m.delta, m.accountant]);
    let value = cache.get(key);
    if (value === undefined) {
      value = epsilonFor({ samplingRate: m.samplingRate, noiseMultiplier: m.noiseMultiplier, steps, delta: m.delta, accountant: m.accountant });
      cache.set(key, value);
    }
    return value;
  };
  const checks: EpsilonCheck[] = [];
  for (const run of runs) {
    const add = (kind: EpsilonCheck['kind'], line: number, steps: number, logged: number) => {
      let recomputed: number;
      try {
        recomputed = epsilonOf(run, steps);
      } catch {
        recomputed = Number.NaN; // parameters the accountant rejects cannot match anything
      }
      const tolerance = TOLERANCE[run.mechanism.accountant as keyof typeof TOLERANCE] ?? 0;
      const ok = Number.isFinite(recomputed) && Math.abs(logged - recomputed) <= tolerance * Math.max(Math.abs(recomputed), 1e-12);
      checks.push({ entryId: run.entryId, runId: run.runId, line, kind, accountant: run.mechanism.accountant, steps, logged, recomputed, ok });
    };
    add('planned', run.reserveLine, run.mechanism.steps, run.plannedEpsilon);
    if (run.status === 'finalized') add('final', run.closeLine!, run.stepsTaken!, run.epsilon!);
  }
  return checks;
}

/** Per-dataset budget table as aligned text, the same in the CLI and the HTML report. */
export function formatBudgetTable(budgets: readonly DatasetBudget[]): string {
  if (budgets.length === 0) return 'No dataset has spent privacy budget yet.';
  const header = ['dataset', 'fingerprint', 'runs', 'finalized eps', 'pending eps', 'total eps', 'total delta', 'cap', 'remaining'];
  const rows = budgets.map((b) => [
    b.label,
    b.datasetFingerprint.slice(0, 12),
    describeRunCounts(b.runs),
    formatEpsilon(b.finalizedEpsilon),
    formatEpsilon(b.pendingEpsilon),
    formatEpsilon(b.totalEpsilon),
    b.totalDelta.toExponential(2),
    b.cap === null ? 'none' : formatEpsilon(b.cap),
    b.remaining === null ? '-' : formatEpsilon(b.remaining),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n');
}

function describeRunCounts(runs: readonly RunRecord[]): string {
  const count = (status: RunRecord['status']) => runs.filter((r) => r.status === status).length;
  const parts = [`${count('finalized')} finalized`];
  if (count('reserved') > 0) parts.push(`${count('reserved')} pending`);
  if (count('voided') > 0) parts.push(`${count('voided')} voided`);
  return parts.join(', ');
}

/** Lists each run of the ledger, one line apiece, with its status in words. */
export function formatRunList(budgets: readonly DatasetBudget[]): string {
  const lines: string[] = [];
  for (const budget of budgets) {
    for (const run of budget.runs) {
      const m = run.mechanism;
      const kind = m.release === 'second-moment' ? 'second-moment release' : 'DP-SGD';
      const parameters = `${kind} q=${m.samplingRate.toPrecision(3)} sigma=${m.noiseMultiplier.toPrecision(4)} C=${m.clipNorm} delta=${m.delta.toExponential(2)} ${m.accountant}`;
      const status =
        run.status === 'finalized'
          ? `finalized: epsilon ${formatEpsilon(run.epsilon!)} after ${m.release === 'second-moment' ? 'one release' : `${run.stepsTaken} steps`}`
          : run.status === 'voided'
            ? `voided (nothing spent): ${run.voidReason}`
            : `reserved, not finalized (counted at planned epsilon ${formatEpsilon(run.plannedEpsilon)})`;
      lines.push(`line ${run.reserveLine}  run ${run.runId}  ${budget.label}  ${parameters}  ${status}`);
    }
  }
  return lines.join('\n');
}

/** Formats the whole audit as text for a terminal. */
export function formatAudit(result: AuditResult): string {
  const out: string[] = [];
  out.push(`Privacy ledger: ${result.ledgerPath} (${result.lineCount} lines)`);
  out.push(result.chainOk ? `Hash chain: verified; last line hash ${result.lastHash ?? '(empty ledger)'}` : 'Hash chain: FAILED');
  out.push(`Budget policy: ${result.policySource ?? 'none (no cap on any dataset)'}`);
  const failed = result.checks.filter((c) => !c.ok).length;
  out.push(`Epsilons recomputed: ${result.checks.length}, ${failed === 0 ? 'all match' : `${failed} differ`}`);
  out.push('', formatBudgetTable(result.budgets));
  if (result.budgets.length > 0) out.push('', 'Runs:', formatRunList(result.budgets));
  if (result.notes.length > 0) out.push('', 'Notes:', ...result.notes.map((n) => `  - ${n}`));
  if (result.problems.length > 0) {
    out.push('', `PROBLEMS (${result.problems.length}):`);
    for (const p of result.problems) out.push(`  ${p.line > 0 ? `line ${p.line}` : 'ledger'}: ${p.message}`);
  }
  out.push('', result.ok ? 'Audit passed.' : 'Audit FAILED.');
  return out.join('\n');
}
