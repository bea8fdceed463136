import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import type { LedgerEntry, RecordedMechanism, ReserveLine } from './ledger-chain.js';

/**
 * The budget policy (privacy/budget.json) and what each dataset has spent.
 *
 * Runs on one dataset compose by basic composition: their epsilons add up, and so do their
 * deltas. Composing the runs' RDP curves before converting would give a smaller total, but
 * basic composition is valid whatever accountant each run used, so the total stays valid across
 * RDP and PLD runs.
 *
 * Without budget.json there is no cap. Any default number would be arbitrary against what an
 * ethics approval allows, while the ledger still records every run and `genevae audit` shows
 * the totals; reservations and the audit warn that no cap is set.
 */

export const BUDGET_FILE = 'budget.json';

/** The parsed budget.json. */
export interface BudgetPolicy {
  /** Cap on total epsilon for datasets not listed in `datasets`; null for no cap. */
  defaultMaxEpsilon: number | null;
  /** Caps per dataset fingerprint (the SHA-256 hex of datasetFingerprint). */
  datasets: Record<string, { maxEpsilon: number; label?: string }>;
  /** Path of the file the policy came from, or null when there is none. */
  source: string | null;
}

/** Reads privacy/budget.json; an absent file means no cap. Malformed files raise InputError naming the field. */
export function loadBudgetPolicy(privacyDir: string): BudgetPolicy {
  const path = join(privacyDir, BUDGET_FILE);
  if (!existsSync(path)) return { defaultMaxEpsilon: null, datasets: {}, source: null };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputError(`budget policy is not valid JSON: ${(error as Error).message}`, { file: path });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError('budget policy must be a JSON object', { file: path }, 'see privacy/budget.example.json');
  }
  const fields = raw as Record<string, unknown>;
  const known = new Set(['version', 'defaultMaxEpsilon', 'datasets', 'comment']);
  for (const key of Object.keys(fields)) {
    if (!known.has(key)) throw new InputError(`unknown field '${key}' in the budget policy`, { file: path }, `expected ${[...known].join(', ')}`);
  }
  if (fields.version !== undefined && fields.version !== 1) {
    throw new InputError(`budget policy version ${String(fields.version)} is not supported`, { file: path }, 'use "version": 1');
  }
  const defaultMaxEpsilon = fields.defaultMaxEpsilon ?? null;
  if (defaultMaxEpsilon !== null && !isCap(defaultMaxEpsilon)) {
    throw new InputError(`defaultMaxEpsilon must be a number >= 0 or null, got ${JSON.stringify(defaultMaxEpsilon)}`, { file: path });
  }
  const datasets: BudgetPolicy['datasets'] = {};
  const listed = fields.datasets ?? {};
  if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) {
    throw new InputError('datasets must be an object keyed by dataset fingerprint', { file: path });
  }
  for (const [fingerprint, value] of Object.entries(listed as Record<string, unknown>)) {
    if (!/^[0-9a-f]{64}$/.test(fingerprint)) {
      throw new InputError(`dataset key '${fingerprint}' is not a dataset fingerprint (64 hex digits)`, { file: path }, 'copy the fingerprint from `genevae audit`');
    }
    const entry = value as Record<string, unknown> | null;
    if (typeof entry !== 'object' || entry === null || !isCap(entry.maxEpsilon)) {
      throw new InputError(`datasets.${fingerprint.slice(0, 12)}….maxEpsilon must be a number >= 0`, { file: path });
    }
    if (entry.label !== undefined && typeof entry.label !== 'string') {
      throw new InputError(`datasets.${fingerprint.slice(0, 12)}….label must be a string`, { file: path });
    }
    datasets[fingerprint] = { maxEpsilon: entry.maxEpsilon as number, label: entry.label as string | undefined };
  }
  return { defaultMaxEpsilon: defaultMaxEpsilon as number | null, datasets, source: path };
}

function isCap(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Cap on total epsilon for a dataset under the policy; null for no cap. */
export function capFor(policy: BudgetPolicy, fingerprint: string): number | null {
  return policy.datasets[fingerprint]?.maxEpsilon ?? policy.defaultMaxEpsilon;
}

export type RunStatus = 'finalized' | 'reserved' | 'voided';

/** One reservation with its outcome, folded from its ledger lines. */
export interface RunRecord {
  entryId: string;
  runId: string;
  datasetFingerprint: string;
  datasetLabel: string;
  mechanism: RecordedMechanism;
  plannedEpsilon: number;
  randomness: ReserveLine['randomness'];
  codeVersion: string;
  reservedAt: string;
  status: RunStatus;
  /** Steps and epsilon from the finalize line. */
  stepsTaken: number | null;
  epsilon: number | null;
  voidReason: string | null;
  /**
   * Epsilon charged to the dataset: the final epsilon, or the planned epsilon while only
   * reserved (a crashed run may have released its updates), or 0 when voided.
   */
  chargedEpsilon: number;
  chargedDelta: number;
  /** 1-based ledger lines of the reservation and of its finalize or void line. */
  reserveLine: number;
  closeLine: number | null;
}

/** Folds ledger lines into one record per reservation, in ledger order. */
export function foldRuns(entries: readonly LedgerEntry[]): RunRecord[] {
  const runs = new Map<string, RunRecord>();
  for (const entry of entries) {
    if (entry.type === 'reserve') {
      runs.set(entry.entryId, {
        entryId: entry.entryId,
        runId: entry.runId,
        datasetFingerprint: entry.datasetFingerprint,
        datasetLabel: entry.datasetLabel,
        mechanism: entry.mechanism,
        plannedEpsilon: entry.plannedEpsilon,
        randomness: entry.randomness,
        codeVersion: entry.codeVersion,
        reservedAt: entry.time,
        status: 'reserved',
        stepsTaken: null,
        epsilon: null,
        voidReason: null,
        chargedEpsilon: entry.plannedEpsilon,
        chargedDelta: entry.mechanism.delta,
        reserveLine: entry.line,
        closeLine: null,
      });
      continue;
    }
    const run = runs.get(entry.entryId);
    if (!run || run.status !== 'reserved') continue; // the chain check reports these
    run.closeLine = entry.line;
    if (entry.type === 'finalize') {
      run.status = 'finalized';
      run.stepsTaken = entry.stepsTaken;
      run.epsilon = entry.epsilon;
      run.chargedEpsilon = entry.epsilon;
      run.chargedDelta = entry.stepsTaken === 0 ? 0 : run.mechanism.delta;
    } else {
      run.status = 'voided';
      run.voidReason = entry.reason;
      run.chargedEpsilon = 0;
      run.chargedDelta = 0;
    }
  }
  return [...runs.values()];
}

/** Budget of one dataset: what its runs spent against its cap. */
export interface DatasetBudget {
  datasetFingerprint: string;
  label: string;
  /** Cap on total epsilon; null for no cap. */
  cap: number | null;
  /** Sum of final epsilons of finalized runs. */
  finalizedEpsilon: number;
  /** Sum of planned epsilons of reservations never finalized (crashed or still running). */
  pendingEpsilon: number;
  /** finalizedEpsilon + pendingEpsilon: what the cap is checked against. */
  totalEpsilon: number;
  /** Sum of the deltas of runs that took at least one noisy step (basic composition). */
  totalDelta: number;
  /** cap - totalEpsilon, or null without a cap. */
  remaining: number | null;
  runs: RunRecord[];
}

/** Per-dataset budget table, in order of first use. */
export function datasetBudgets(runs: readonly RunRecord[], policy: BudgetPolicy): DatasetBudget[] {
  const byDataset = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const list = byDataset.get(run.datasetFingerprint) ?? [];
    list.push(run);
    byDataset.set(run.datasetFingerprint, list);
  }
  return [...byDataset.entries()].map(([fingerprint, list]) => {
    const finalizedEpsilon = sum(list.filter((r) => r.status === 'finalized').map((r) => r.chargedEpsilon));
    const pendingEpsilon = sum(list.filter((r) => r.status === 'reserved').map((r) => r.chargedEpsilon));
    const totalEpsilon = finalizedEpsilon + pendingEpsilon;
    const cap = capFor(policy, fingerprint);
    // One fingerprint can arrive under several file names; name them all, in first-seen order.
    const seenLabels = [...new Set(list.map((r) => r.datasetLabel))];
    const label = policy.datasets[fingerprint]?.label ?? seenLabels.join(' | ');
    return {
      datasetFingerprint: fingerprint,
      label,
      cap,
      finalizedEpsilon,
      pendingEpsilon,
      totalEpsilon,
      totalDelta: sum(list.map((r) => r.chargedDelta)),
      remaining: cap === null ? null : cap - totalEpsilon,
      runs: list,
    };
  });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Describes each run that charged a dataset, one clause per run, for refusals and reports. */
export function describeSpending(runs: readonly RunRecord[]): string {
  const charged = runs.filter((r) => r.status !== 'voided');
  if (charged.length === 0) return 'no run has spent any of it';
  return charged
    .map((r) =>
      r.status === 'finalized'
        ? `run ${r.runId}: epsilon ${formatEpsilon(r.chargedEpsilon)} (finalized, reserved ${r.reservedAt})`
        : `run ${r.runId}: epsilon ${formatEpsilon(r.chargedEpsilon)} (reserved ${r.reservedAt}, not finalized: counted at planned epsilon)`,
    )
    .join('; ');
}

export function formatEpsilon(epsilon: number): string {
  return epsilon.toPrecision(4);
}
