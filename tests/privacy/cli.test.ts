import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerAudit } from '../../src/cli/audit.js';
import { registerPrivacy } from '../../src/cli/privacy.js';
import { writeFrame } from '../../src/io/arrow.js';
import { epsilonFor } from '../../src/privacy/accountant.js';
import { PrivacyLedger } from '../../src/privacy/ledger.js';
import { PrivacyError } from '../../src/util/errors.js';
import { ledgerLines, reservation, temporaryPrivacyDir, testEpsilon, writeLedgerLines } from './helpers.js';

/** Runs `genevae <args>` on a program holding only the privacy commands; returns stdout. */
async function run(...args: string[]): Promise<string> {
  const program = new Command('genevae').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerPrivacy(program);
  registerAudit(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'genevae', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

/**
 * Writes a ledger with one finalized entry for `runId`, and a run directory of that id holding
 * per-sample losses and, when given, a train summary.
 */
async function ledgerAndRun(runId: string, trainSummary?: unknown): Promise<{ dir: string; runDir: string }> {
  const dir = temporaryPrivacyDir();
  const ledger = new PrivacyLedger(dir);
  const { entryId } = await ledger.reserve(reservation({ runId }));
  await ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() });
  const runDir = mkdtempSync(join(tmpdir(), 'genevae-run-'));
  writeFileSync(join(runDir, 'manifest.json'), JSON.stringify({ runId }));
  mkdirSync(join(runDir, '03-train'));
  if (trainSummary !== undefined) writeFileSync(join(runDir, '03-train', 'summary.json'), JSON.stringify({ summary: trainSummary }));
  writeFrame(join(runDir, '03-train', 'sample_losses.arrow'), {
    sample_id: ['a', 'b', 'c', 'd'],
    split: ['train', 'train', 'validation', 'validation'],
    loss: Float64Array.from([1, 3, 2, 4]),
  });
  return { dir, runDir };
}

describe('genevae privacy epsilon', () => {
  it('prints epsilon as JSON', async () => {
    const out = await run('privacy', 'epsilon', '--sampling-rate', '0.01', '--noise-multiplier', '0.7', '--steps', '120', '--delta', '1e-5', '--json');
    const result = JSON.parse(out);
    // TensorFlow Privacy compute_dp_sgd_privacy_test.py: 3.2392676 for these settings.
    expect(result.epsilon).toBeCloseTo(3.2392676, 6);
    expect(result.accountant).toBe('rdp');
    expect(result.rdpOrder).toBeGreaterThan(1);
  });

  it('uses the PLD accountant on request', async () => {
    const out = await run('privacy', 'epsilon', '--sampling-rate', '0.01', '--noise-multiplier', '0.7', '--steps', '120', '--delta', '1e-5', '--accountant', 'pld', '--json');
    // dp_accounting PLD through TensorFlow Privacy: 2.4612381.
    expect(JSON.parse(out).epsilon).toBeCloseTo(2.4612381, 4);
  });

  it('prints text with the assumptions', async () => {
    const out = await run('privacy', 'epsilon', '--sampling-rate', '0.04', '--noise-multiplier', '1.5', '--steps', '2250', '--delta', '1e-5');
    expect(out).toMatch(/^epsilon = 7\.32\d+ at delta = 1e-5/);
    expect(out).toMatch(/Poisson sampling/);
  });

  it('prints zero for zero steps', async () => {
    const out = await run('privacy', 'epsilon', '--sampling-rate', '0.1', '--noise-multiplier', '1', '--steps', '0', '--delta', '1e-5', '--json');
    expect(JSON.parse(out).epsilon).toBe(0);
  });

  it('rejects a sampling rate above 1', async () => {
    await expect(run('privacy', 'epsilon', '--sampling-rate', '2', '--noise-multiplier', '1', '--steps', '10', '--delta', '1e-5')).rejects.toThrow(
      /expected a number in \(0, 1\]/,
    );
  });

  it('rejects a missing option', async () => {
    await expect(run('privacy', 'epsilon', '--sampling-rate', '0.1', '--steps', '10', '--delta', '1e-5')).rejects.toThrow(/--noise-multiplier/);
  });
});

describe('genevae privacy noise', () => {
  it('prints a noise multiplier that meets the target', async () => {
    const out = await run('privacy', 'noise', '--target-epsilon', '8', '--sampling-rate', '0.04', '--steps', '2000', '--delta', '1e-5', '--json');
    const result = JSON.parse(out);
    // Opacus accountants_test.py test_get_noise_multiplier_rdp_steps: 1.3562 (bisection to 0.01).
    expect(Math.abs(result.noiseMultiplier - 1.3562)).toBeLessThan(0.01);
    expect(result.epsilon).toBeLessThanOrEqual(8);
    expect(epsilonFor({ samplingRate: 0.04, noiseMultiplier: result.noiseMultiplier, steps: 2000, delta: 1e-5, accountant: 'rdp' })).toBeLessThanOrEqual(8);
  });

  it('prints text', async () => {
    const out = await run('privacy', 'noise', '--target-epsilon', '3', '--sampling-rate', '0.01', '--steps', '1000', '--delta', '1e-6');
    expect(out).toMatch(/^noise multiplier = \d/);
  });
});

describe('genevae audit', () => {
  it('prints the budget table for a valid ledger', async () => {
    const dir = temporaryPrivacyDir();
    const ledger = new PrivacyLedger(dir);
    const { entryId } = await ledger.reserve(reservation());
    await ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() });
    const out = await run('audit', '--privacy-dir', dir);
    expect(out).toMatch(/Hash chain: verified/);
    expect(out).toMatch(/cohort A/);
    expect(out).toMatch(/Audit passed/);
  });

  it('fails on a tampered ledger and names the line', async () => {
    const dir = temporaryPrivacyDir();
    const ledger = new PrivacyLedger(dir);
    const { entryId } = await ledger.reserve(reservation());
    await ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() });
    const lines = ledgerLines(dir);
    writeLedgerLines(dir, [lines[0], lines[1].replace('"stepsTaken":200', '"stepsTaken":20')]);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const program = new Command('genevae').exitOverride();
    registerAudit(program);
    await expect(program.parseAsync(['node', 'genevae', 'audit', '--privacy-dir', dir])).rejects.toThrow(PrivacyError);
    spy.mockRestore();
    expect(out).toMatch(/line 2: contents do not match the line hash/);
  });

  it('prints JSON', async () => {
    const out = await run('audit', '--privacy-dir', temporaryPrivacyDir(), '--json');
    expect(JSON.parse(out)).toMatchObject({ ok: true, lineCount: 0 });
  });

  it('audits a run with its membership attack', async () => {
    const { dir, runDir } = await ledgerAndRun('demo-run');
    const out = await run('audit', '--privacy-dir', dir, '--run', runDir);
    expect(out).toMatch(/Run demo-run/);
    expect(out).toMatch(/finalized: epsilon/);
    expect(out).toMatch(/membership attack: AUC 0\.750/);
  });

  it('does not bound a model retrained without DP by an earlier entry', async () => {
    const { dir, runDir } = await ledgerAndRun('retrained', { privacy: { dp: false, ledgerEntryId: null } });
    const out = await run('audit', '--privacy-dir', dir, '--run', runDir);
    expect(out).toMatch(/an earlier training in this run directory, not the current model/);
    expect(out).toMatch(/the current model was trained without DP/);
    expect(out).not.toMatch(/limits any attack/);
  });
});
