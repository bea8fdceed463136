import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { epsilonFor } from '../../src/privacy/accountant.js';
import { auditLedger, formatAudit, formatBudgetTable } from '../../src/privacy/audit.js';
import { PrivacyLedger } from '../../src/privacy/ledger.js';
import { lineHash } from '../../src/privacy/ledger-chain.js';
import { FINGERPRINT_A, ledgerLines, reservation, temporaryPrivacyDir, testEpsilon, writeBudget, writeLedgerLines } from './helpers.js';

/** A ledger with three finalized runs: six lines. */
async function threeRuns(): Promise<string> {
  const dir = temporaryPrivacyDir();
  const ledger = new PrivacyLedger(dir);
  for (const runId of ['run-1', 'run-2', 'run-3']) {
    const { entryId } = await ledger.reserve(reservation({ runId }));
    await ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() });
  }
  return dir;
}

const problemLines = (dir: string) => auditLedger(dir).problems.map((p) => p.line);

describe('auditLedger', () => {
  it('passes an intact ledger', async () => {
    const result = auditLedger(await threeRuns());
    expect(result.ok).toBe(true);
    expect(result.checks).toHaveLength(6);
    expect(result.checks.every((c) => c.ok)).toBe(true);
  });

  it('passes an empty ledger', () => {
    expect(auditLedger(temporaryPrivacyDir()).ok).toBe(true);
  });

  it('detects an edited field', async () => {
    const dir = await threeRuns();
    const lines = ledgerLines(dir);
    lines[3] = lines[3].replace(/"epsilon":[0-9.e-]+/, '"epsilon":0.01');
    writeLedgerLines(dir, lines);
    const result = auditLedger(dir);
    expect(result.ok).toBe(false);
    expect(result.problems.some((p) => p.line === 4 && /edited/.test(p.message))).toBe(true);
  });

  it('detects an edit with a recomputed line hash', async () => {
    // Fixing up the edited line's own hash still breaks the link from the next line.
    const dir = await threeRuns();
    const lines = ledgerLines(dir);
    const edited = JSON.parse(lines[3]);
    edited.epsilon = 0.01;
    edited.hash = lineHash(edited);
    lines[3] = JSON.stringify(edited);
    writeLedgerLines(dir, lines);
    const problems = auditLedger(dir).problems;
    expect(problems.some((p) => p.line === 5 && /chain broken/.test(p.message))).toBe(true);
    expect(problems.some((p) => p.line === 4 && /logged final epsilon 0.01/.test(p.message))).toBe(true);
  });

  it('detects a deleted line', async () => {
    const dir = await threeRuns();
    const lines = ledgerLines(dir);
    lines.splice(2, 1);
    writeLedgerLines(dir, lines);
    expect(problemLines(dir)).toContain(3);
    expect(auditLedger(dir).problems.find((p) => p.line === 3)?.message).toMatch(/deleted, inserted or reordered/);
  });

  it('detects two swapped lines', async () => {
    const dir = await threeRuns();
    const lines = ledgerLines(dir);
    [lines[2], lines[3]] = [lines[3], lines[2]];
    writeLedgerLines(dir, lines);
    expect(problemLines(dir)).toContain(3);
    expect(problemLines(dir)).toContain(4);
  });

  it('detects lines removed from the end', async () => {
    const dir = await threeRuns();
    writeLedgerLines(dir, ledgerLines(dir).slice(0, 4));
    const result = auditLedger(dir);
    expect(result.ok).toBe(false);
    expect(result.problems[0].message).toMatch(/ends at line 4 but ledger.head.json records line 6/);
  });

  it('detects a line cut off mid-write', async () => {
    const dir = await threeRuns();
    const lines = ledgerLines(dir);
    writeFileSync(join(dir, 'ledger.jsonl'), lines.slice(0, 5).map((l) => l + '\n').join('') + lines[5].slice(0, 40));
    expect(auditLedger(dir).problems.some((p) => p.line === 6 && /incomplete line/.test(p.message))).toBe(true);
  });

  it('notes a missing head file', async () => {
    const dir = await threeRuns();
    rmSync(join(dir, 'ledger.head.json'));
    const result = auditLedger(dir);
    expect(result.ok).toBe(true);
    expect(result.notes.join('\n')).toMatch(/cannot be detected/);
  });

  it('reports a crash between reserve and finalize', async () => {
    const dir = temporaryPrivacyDir();
    await new PrivacyLedger(dir).reserve(reservation({ runId: 'crashed-run' }));
    const result = auditLedger(dir);
    expect(result.ok).toBe(true);
    expect(result.notes.join('\n')).toMatch(/run crashed-run \(line 1\): reserved, not finalized \(counted at planned epsilon/);
    expect(result.budgets[0].pendingEpsilon).toBeCloseTo(testEpsilon(), 12);
    expect(formatAudit(result)).toMatch(/reserved, not finalized \(counted at planned epsilon/);
  });

  it('detects a logged epsilon that the accountant does not reproduce', async () => {
    const dir = temporaryPrivacyDir();
    const ledger = new PrivacyLedger(dir);
    const { entryId } = await ledger.reserve(reservation({ plannedEpsilon: 0.1 }));
    await ledger.void(entryId, 'test');
    const result = auditLedger(dir);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ line: 1 });
    expect(result.problems[0].message).toMatch(/logged planned epsilon 0.1 but the rdp accountant gives/);
  });

  it('detects a cap exceeded after the fact', async () => {
    const dir = await threeRuns();
    writeBudget(dir, { datasets: { [FINGERPRINT_A]: { maxEpsilon: testEpsilon() } } });
    const result = auditLedger(dir);
    expect(result.ok).toBe(false);
    expect(result.problems.some((p) => /exceeds its cap/.test(p.message))).toBe(true);
  });

  it('sums epsilon and delta per dataset', async () => {
    const result = auditLedger(await threeRuns());
    expect(result.budgets).toHaveLength(1);
    expect(result.budgets[0].totalEpsilon).toBeCloseTo(3 * testEpsilon(), 10);
    expect(result.budgets[0].totalDelta).toBeCloseTo(3e-5, 15);
  });
});

describe('formatBudgetTable', () => {
  it('shows cap and remaining budget', async () => {
    const dir = await threeRuns();
    writeBudget(dir, { datasets: { [FINGERPRINT_A]: { maxEpsilon: 10, label: 'ward 4 cohort' } } });
    const table = formatBudgetTable(auditLedger(dir).budgets);
    expect(table).toMatch(/ward 4 cohort/);
    expect(table).toMatch(/3 finalized/);
    expect(table).toMatch(new RegExp((10 - 3 * testEpsilon()).toPrecision(4)));
  });

  it('names the mechanism of each run', async () => {
    const dir = temporaryPrivacyDir();
    const ledger = new PrivacyLedger(dir);
    const release = { samplingRate: 1, noiseMultiplier: 0.5, clipNorm: 1, steps: 1, delta: 1e-3, sampling: 'poisson' as const, accountant: 'rdp' as const, release: 'second-moment' as const };
    const epsilon = epsilonFor(release);
    const { entryId } = await ledger.reserve(reservation({ runId: 'release-run', mechanism: release, plannedEpsilon: epsilon }));
    await ledger.finalize(entryId, { stepsTaken: 1, epsilon });
    const sgd = await ledger.reserve(reservation({ runId: 'sgd-run' }));
    await ledger.finalize(sgd.entryId, { stepsTaken: 200, epsilon: testEpsilon() });
    const result = auditLedger(dir);
    expect(result.ok).toBe(true);
    const text = formatAudit(result);
    expect(text).toMatch(/run release-run .* second-moment release q=1\.00 sigma=0\.5000 C=1 /);
    expect(text).toMatch(/run sgd-run .* DP-SGD q=/);
  });

  it('says when nothing was spent', () => {
    expect(formatBudgetTable([])).toMatch(/No dataset/);
  });
});
