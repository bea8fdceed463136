import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FILES, stageFile } from '../run/layout.js';
import { readManifest, readStageSummary } from '../run/runner.js';
import { auditLedger, formatAudit, type AuditResult } from '../privacy/audit.js';
import type { RunRecord } from '../privacy/budget.js';
import { membershipFromFile, type MembershipResult } from '../privacy/membership.js';
import { InputError, PrivacyError } from '../util/errors.js';

/**
 * `genevae audit`: verifies the privacy ledger (hash chain, every epsilon recomputed, budget
 * caps), prints the per-dataset budget table and, with --run, that run's ledger entries and a
 * loss-threshold membership-inference attack on its training samples. Exits with status 3
 * (PrivacyError) when any check fails, so scripts and CI can stop on it.
 */

interface AuditOptions {
  privacyDir: string;
  run?: string;
  json?: boolean;
}

/** Findings of --run: the run's own ledger entries and the membership attack. */
export interface RunAudit {
  runDir: string;
  runId: string;
  entries: RunRecord[];
  /** Ledger entry of the run's current model; null when it was trained without DP (or before entries were recorded). */
  currentEntryId: string | null;
  /** Whether the current model was trained with DP; null when the train summary lacks the field. */
  trainedWithDp: boolean | null;
  problems: string[];
  membership: MembershipResult | null;
  membershipError: string | null;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('verify the privacy ledger, recompute every epsilon and print the per-dataset budget table')
    .option('--privacy-dir <dir>', 'directory holding ledger.jsonl and budget.json', 'privacy')
    .option('--run <run-dir>', 'also audit one run: its ledger entries and a membership-inference attack on its losses')
    .option('--json', 'print one JSON object instead of text')
    .action((options: AuditOptions) => {
      const result = auditLedger(resolve(options.privacyDir));
      const run = options.run ? auditRun(resolve(options.run), result) : null;
      if (options.json) {
        process.stdout.write(JSON.stringify({ ...result, run }, null, 2) + '\n');
      } else {
        process.stdout.write(formatAudit(result) + '\n');
        if (run) process.stdout.write('\n' + formatRunAudit(run) + '\n');
      }
      const failures = result.problems.length + (run?.problems.length ?? 0);
      if (failures > 0) throw new PrivacyError(`audit failed with ${failures} problem${failures === 1 ? '' : 's'}; see the report above`);
    });
}

/** Audits one run directory against the verified ledger. */
export function auditRun(runDir: string, ledger: AuditResult): RunAudit {
  const manifest = readManifest(runDir);
  if (!manifest) throw new InputError('not a run directory: manifest.json not found', { file: join(runDir, FILES.manifest) });
  const runId = manifest.runId ?? '';
  const entries = ledger.budgets.flatMap((b) => b.runs).filter((r) => r.runId === runId);
  const problems: string[] = [];

  const summary = readStageSummary(runDir, 'train')?.summary as { privacy?: { dp?: boolean; ledgerEntryId?: string | null } } | undefined;
  const entryId = summary?.privacy?.ledgerEntryId ?? null;
  if (entryId && !entries.some((r) => r.entryId === entryId)) {
    problems.push(`run ${runId}: its train stage recorded ledger entry ${entryId}, which is not in the ledger for this run`);
  }
  if (summary?.privacy?.dp && entries.length === 0) {
    problems.push(`run ${runId}: trained with DP but has no ledger entry`);
  }

  // The attack is bounded by the current model's entry. Entries of earlier trainings in the same
  // run directory (for example a DP run rerun with --no-dp) do not bound the model now on disk.
  const trainedWithDp = typeof summary?.privacy?.dp === 'boolean' ? summary.privacy.dp : null;
  const finalized = entries.filter((r) => r.status === 'finalized');
  let current: RunRecord | undefined;
  if (trainedWithDp !== false) {
    current = entryId ? finalized.find((r) => r.entryId === entryId) : finalized[finalized.length - 1];
  }
  const dp = current ? { epsilon: current.epsilon!, delta: current.mechanism.delta } : null;
  let membership: MembershipResult | null = null;
  let membershipError: string | null = null;
  try {
    membership = membershipFromFile(stageFile(runDir, 'train', 'sample_losses.arrow'), dp);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    membershipError = error.message;
  }
  return { runDir, runId, entries, currentEntryId: current?.entryId ?? null, trainedWithDp, problems, membership, membershipError };
}

export function formatRunAudit(run: RunAudit): string {
  const out = [`Run ${run.runId} (${run.runDir}):`];
  if (run.entries.length === 0) out.push('  no ledger entries (trained without DP, or not trained yet)');
  for (const entry of run.entries) {
    const status =
      entry.status === 'finalized'
        ? `finalized: epsilon ${entry.epsilon!.toPrecision(4)} at delta ${entry.mechanism.delta.toExponential(2)} after ` +
          (entry.mechanism.release === 'second-moment' ? 'one second-moment release' : `${entry.stepsTaken} steps`)
        : entry.status === 'voided'
          ? `voided (nothing spent): ${entry.voidReason}`
          : `reserved, not finalized (counted at planned epsilon ${entry.plannedEpsilon.toPrecision(4)})`;
    const earlier = run.trainedWithDp === false || (run.currentEntryId !== null && entry.entryId !== run.currentEntryId);
    out.push(`  ledger line ${entry.reserveLine}: ${status}${earlier ? ' (an earlier training in this run directory, not the current model)' : ''}`);
  }
  if (run.trainedWithDp === false) out.push('  the current model was trained without DP: no epsilon bounds it');
  out.push('');
  out.push(run.membership ? run.membership.summary : `Membership inference not run: ${run.membershipError}`);
  for (const problem of run.problems) out.push(`PROBLEM: ${problem}`);
  return out.join('\n');
}
