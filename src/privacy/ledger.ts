import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirectory, removeDeadTemporaries, writeJsonAtomic } from '../io/atomic.js';
import { FileLock } from '../run/lock.js';
import { PrivacyError } from '../util/errors.js';
import { ACCOUNTANTS } from './accountant.js';
import { capFor, datasetBudgets, describeSpending, foldRuns, formatEpsilon, loadBudgetPolicy } from './budget.js';
import {
  checkChain,
  checkHead,
  GENESIS_HASH,
  HEAD_FILE,
  LEDGER_FILE,
  LEDGER_FORMAT_VERSION,
  LOCK_FILE,
  lineHash,
  type FinalizeLine,
  type LedgerEntry,
  type LedgerHead,
  type RecordedMechanism,
  type ReserveLine,
  type VoidLine,
} from './ledger-chain.js';

export type { LedgerEntry } from './ledger-chain.js';

/** Facts about a training run that `reserve` records before the run starts. */
export interface ReservationRequest {
  runId: string;
  /** datasetFingerprint() of the training data; the budget is kept per fingerprint. */
  datasetFingerprint: string;
  /** Human-readable name of the dataset (input file name or cohort name). */
  datasetLabel: string;
  mechanism: RecordedMechanism;
  /** Epsilon after all planned steps; charged to the dataset until the entry is finalized or voided. */
  plannedEpsilon: number;
  codeVersion: string;
  randomness: 'system' | 'insecure-test-seed';
}

/** A written ledger line: its entry, 1-based line number and hash (for the run's own record). */
export interface LedgerReceipt {
  entryId: string;
  line: number;
  hash: string;
  /** Warnings for the caller to log and report, such as "no budget cap is set". */
  warnings: string[];
}

/** How long a writer waits for another writer's lock before giving up. */
const LOCK_TIMEOUT_MS = 60_000;

/**
 * The privacy ledger: privacy/ledger.jsonl, append-only and hash-chained (see ledger-chain.ts).
 *
 * Every write holds privacy/ledger.jsonl.lock, re-reads and verifies the whole ledger, appends
 * one line with a single write, fsyncs it, then records the new head in ledger.head.json. A
 * writer never rewrites or truncates the file, and refuses to append to a ledger that fails
 * verification, so tampering cannot be buried under new lines.
 *
 * Reservation protocol: `reserve` before the first noisy update (it checks the budget cap),
 * then `finalize` with the steps actually taken, or `void` if training failed before any noisy
 * update was computed. A reservation that is never closed (the process crashed) keeps counting
 * at its planned epsilon, because the run may have released updates before it died.
 */
export class PrivacyLedger {
  readonly ledgerPath: string;
  readonly headPath: string;
  private readonly lock: FileLock;

  constructor(readonly privacyDir: string) {
    this.ledgerPath = join(privacyDir, LEDGER_FILE);
    this.headPath = join(privacyDir, HEAD_FILE);
    this.lock = new FileLock(join(privacyDir, LOCK_FILE));
  }

  /**
   * Records a reservation, after checking that the dataset's budget cap leaves room for
   * plannedEpsilon. Raises PrivacyError with the remaining budget and the runs that spent the
   * rest when it does not.
   */
  async reserve(input: ReservationRequest): Promise<LedgerReceipt> {
    validateReservation(input);
    return this.withLock(async (entries) => {
      const warnings: string[] = [];
      const policy = loadBudgetPolicy(this.privacyDir);
      const cap = capFor(policy, input.datasetFingerprint);
      const budget = datasetBudgets(foldRuns(entries), policy).find((b) => b.datasetFingerprint === input.datasetFingerprint);
      const spent = budget?.totalEpsilon ?? 0;
      if (cap === null) {
        warnings.push(
          `no privacy budget cap is set for dataset ${input.datasetLabel} (${input.datasetFingerprint.slice(0, 12)}): ` +
            `it had spent epsilon ${formatEpsilon(spent)} before this run, which plans to spend ${formatEpsilon(input.plannedEpsilon)}; ` +
            `set a cap in ${join(this.privacyDir, 'budget.json')}`,
        );
      } else if (spent + input.plannedEpsilon > cap * (1 + 1e-12)) {
        const remaining = Math.max(0, cap - spent);
        throw new PrivacyError(
          `run ${input.runId} would spend epsilon ${formatEpsilon(input.plannedEpsilon)} on dataset ${input.datasetLabel} ` +
            `(${input.datasetFingerprint.slice(0, 12)}), but only ${formatEpsilon(remaining)} of its cap ${formatEpsilon(cap)} ` +
            `remains (${policy.source}). Spent by: ${describeSpending(budget?.runs ?? [])}. ` +
            'Lower the target epsilon or the number of epochs, or raise the cap if the ethics approval allows it.',
        );
      }
      const open = foldRuns(entries).filter((r) => r.runId === input.runId && r.status === 'reserved');
      for (const earlier of open) {
        warnings.push(
          `run ${input.runId} has an earlier attempt that was never finalized (entry ${earlier.entryId}, ledger line ` +
            `${earlier.reserveLine}, reserved ${earlier.reservedAt}): it stays charged at its planned epsilon ` +
            `${formatEpsilon(earlier.plannedEpsilon)} in addition to this run, because the attempt may have released updates`,
        );
      }
      if (input.randomness === 'insecure-test-seed') {
        warnings.push(`run ${input.runId} uses a seeded test random stream: its epsilon is not a privacy guarantee`);
      }
      const receipt = this.append<ReserveLine>(entries, {
        type: 'reserve',
        entryId: randomUUID(),
        runId: input.runId,
        datasetFingerprint: input.datasetFingerprint,
        datasetLabel: input.datasetLabel,
        mechanism: { ...input.mechanism },
        plannedEpsilon: input.plannedEpsilon,
        codeVersion: input.codeVersion,
        randomness: input.randomness,
      });
      return { ...receipt, warnings };
    });
  }

  /**
   * Closes a reservation with the steps actually taken and the epsilon they spent. The line is
   * written even when epsilon exceeds the reservation, because the updates were released. A
   * PrivacyError is raised afterwards so that the overrun is not missed.
   */
  async finalize(entryId: string, result: { stepsTaken: number; epsilon: number }): Promise<LedgerReceipt> {
    if (!(Number.isInteger(result.stepsTaken) && result.stepsTaken >= 0)) {
      throw new RangeError(`stepsTaken must be an integer >= 0, got ${result.stepsTaken}`);
    }
    if (!(Number.isFinite(result.epsilon) && result.epsilon >= 0)) {
      throw new RangeError(`epsilon must be a finite number >= 0, got ${result.epsilon}`);
    }
    let overrun: string | null = null;
    const receipt = await this.withLock(async (entries) => {
      const reservation = openReservation(entries, entryId);
      if (result.epsilon > reservation.plannedEpsilon * (1 + 1e-9) || result.stepsTaken > reservation.mechanism.steps) {
        overrun =
          `run ${reservation.runId} spent epsilon ${formatEpsilon(result.epsilon)} in ${result.stepsTaken} steps, more than the ` +
          `${formatEpsilon(reservation.plannedEpsilon)} in ${reservation.mechanism.steps} steps it reserved; the ledger records what was spent`;
      }
      return this.append<FinalizeLine>(entries, { type: 'finalize', entryId, stepsTaken: result.stepsTaken, epsilon: result.epsilon });
    });
    if (overrun) throw new PrivacyError(overrun);
    return { ...receipt, warnings: [] };
  }

  /** Closes a reservation that released nothing: call only when no noisy update was computed. */
  async void(entryId: string, reason: string): Promise<void> {
    await this.withLock(async (entries) => {
      openReservation(entries, entryId);
      return this.append<VoidLine>(entries, { type: 'void', entryId, reason: String(reason) });
    });
  }

  /** Returns all ledger lines in order; raises PrivacyError when the ledger fails verification. */
  entries(): LedgerEntry[] {
    return this.readVerified();
  }

  private async withLock<T>(action: (entries: LedgerEntry[]) => Promise<T>): Promise<T> {
    mkdirSync(this.privacyDir, { recursive: true });
    await this.lock.acquireWithin(`privacy ledger ${this.ledgerPath}`, LOCK_TIMEOUT_MS);
    try {
      // Writers killed mid-write leave `.ledger.head.json.tmp-*` files; the lock makes them safe to remove.
      removeDeadTemporaries(this.privacyDir);
      return await action(this.readVerified());
    } finally {
      this.lock.release();
    }
  }

  private readVerified(): LedgerEntry[] {
    const text = existsSync(this.ledgerPath) ? readFileSync(this.ledgerPath, 'utf8') : '';
    const check = checkChain(text);
    const head = existsSync(this.headPath) ? (JSON.parse(readFileSync(this.headPath, 'utf8')) as LedgerHead) : null;
    const problems = [...check.problems, ...checkHead(check, head).problems];
    if (problems.length > 0) {
      const first = problems[0];
      throw new PrivacyError(
        `privacy ledger ${this.ledgerPath} fails verification${first.line > 0 ? ` at line ${first.line}` : ''}: ${first.message}` +
          `${problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : ''}. Nothing was recorded; ` +
          'run `genevae audit` for the full report and restore the ledger from a backup before training again.',
      );
    }
    return check.entries;
  }

  /** Appends one line after `entries` and makes it durable; the caller holds the lock. */
  private append<T extends LedgerEntry>(
    entries: LedgerEntry[],
    fields: Omit<T, 'v' | 'line' | 'time' | 'prevHash' | 'hash'>,
  ): Omit<LedgerReceipt, 'warnings'> {
    const previous = entries[entries.length - 1];
    const unhashed = {
      v: LEDGER_FORMAT_VERSION,
      line: entries.length + 1,
      time: new Date().toISOString(),
      prevHash: previous ? previous.hash : GENESIS_HASH,
      ...fields,
    } as Omit<T, 'hash'>;
    const entry = { ...unhashed, hash: lineHash(unhashed as Omit<LedgerEntry, 'hash'>) } as T;

    // One write of the whole line, then fsync, so the line is on disk before the caller goes on.
    const fd = openSync(this.ledgerPath, 'a');
    try {
      const bytes = Buffer.from(JSON.stringify(entry) + '\n', 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const head: LedgerHead = { line: entry.line, hash: entry.hash, time: entry.time };
    writeJsonAtomic(this.headPath, head);
    fsyncDirectory(this.privacyDir);
    return { entryId: entry.entryId, line: entry.line, hash: entry.hash };
  }
}

/** Finds the reservation line of an entry that is neither finalized nor voided yet. */
function openReservation(entries: LedgerEntry[], entryId: string): ReserveLine {
  const reservation = entries.find((e): e is ReserveLine => e.type === 'reserve' && e.entryId === entryId);
  if (!reservation) throw new PrivacyError(`ledger entry ${entryId} was never reserved`);
  const closing = entries.find((e) => e.type !== 'reserve' && e.entryId === entryId);
  if (closing) throw new PrivacyError(`ledger entry ${entryId} (run ${reservation.runId}) was already closed by a ${closing.type} line at line ${closing.line}`);
  return reservation;
}


function validateReservation(input: ReservationRequest): void {
  const m = input.mechanism;
  const problems: string[] = [];
  if (!input.runId) problems.push('runId is empty');
  if (!/^[0-9a-f]{64}$/.test(input.datasetFingerprint)) problems.push('datasetFingerprint is not a SHA-256 hex digest');
  if (!(Number.isFinite(input.plannedEpsilon) && input.plannedEpsilon >= 0)) problems.push(`plannedEpsilon ${input.plannedEpsilon} is not a finite number >= 0`);
  if (!(m.samplingRate > 0 && m.samplingRate <= 1)) problems.push(`samplingRate ${m.samplingRate} is not in (0, 1]`);
  if (!(m.noiseMultiplier > 0 && Number.isFinite(m.noiseMultiplier))) problems.push(`noiseMultiplier ${m.noiseMultiplier} is not a positive number`);
  if (!(m.clipNorm > 0 && Number.isFinite(m.clipNorm))) problems.push(`clipNorm ${m.clipNorm} is not a positive number`);
  if (!(Number.isInteger(m.steps) && m.steps >= 0)) problems.push(`steps ${m.steps} is not an integer >= 0`);
  if (!(m.delta > 0 && m.delta < 1)) problems.push(`delta ${m.delta} is not in (0, 1)`);
  if (m.sampling !== 'poisson') problems.push(`sampling '${m.sampling}' is not accounted for; only 'poisson' is`);
  if (!ACCOUNTANTS.includes(m.accountant)) problems.push(`accountant '${m.accountant}' is unknown`);
  if (m.release !== undefined && m.release !== 'gradients' && m.release !== 'second-moment') problems.push(`release '${m.release}' is unknown`);
  if (m.release === 'second-moment' && !(m.steps === 1 && m.samplingRate === 1 && m.clipNorm === 1)) {
    problems.push('a second-moment release is one full-batch Gaussian step of sensitivity 1, so it needs steps 1, samplingRate 1 and clipNorm 1');
  }
  if (input.randomness !== 'system' && input.randomness !== 'insecure-test-seed') problems.push(`randomness '${input.randomness}' is unknown`);
  if (problems.length > 0) throw new PrivacyError(`invalid privacy ledger reservation for run ${input.runId || '(none)'}: ${problems.join('; ')}`);
}
