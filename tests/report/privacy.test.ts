import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_DEFAULTS } from '../../pipeline/report.js';
import { epsilonFor } from '../../src/privacy/accountant.js';
import { PrivacyLedger } from '../../src/privacy/ledger.js';
import type { RecordedMechanism } from '../../src/privacy/ledger-chain.js';
import { runReport } from '../../src/stages/report.js';
import { testContext } from '../helpers/context.js';
import { writeFrame } from '../../src/io/arrow.js';
import { writeRunFixture, type RunFixtureOptions } from './fixture.js';

const MECHANISM: RecordedMechanism = { samplingRate: 0.05, noiseMultiplier: 1.1, clipNorm: 1, steps: 200, delta: 1e-5, sampling: 'poisson', accountant: 'rdp' };

/** Writes a ledger with this run finalized and a second dataset's run only reserved; returns this run's entry id. */
async function writeLedger(privacyDir: string): Promise<string> {
  const ledger = new PrivacyLedger(privacyDir);
  const epsilon = epsilonFor(MECHANISM);
  const ours = await ledger.reserve({ runId: 'test-run', datasetFingerprint: 'a'.repeat(64), datasetLabel: 'cohort.csv', mechanism: MECHANISM, plannedEpsilon: epsilon, codeVersion: 'test', randomness: 'system' });
  await ledger.finalize(ours.entryId, { stepsTaken: MECHANISM.steps, epsilon });
  await ledger.reserve({ runId: 'other-run', datasetFingerprint: 'b'.repeat(64), datasetLabel: 'other.csv', mechanism: MECHANISM, plannedEpsilon: epsilon, codeVersion: 'test', randomness: 'system' });
  return ours.entryId;
}

async function reportWithLedger(privacyDir: string, fixture: Partial<RunFixtureOptions> = {}): Promise<string> {
  const runDir = mkdtempSync(join(tmpdir(), 'genevae-report-'));
  writeRunFixture(runDir, { nSamples: 40, ...fixture });
  const ctx = testContext('report', runDir);
  await runReport(ctx, { ...REPORT_DEFAULTS, privacyDir });
  return readFileSync(join(ctx.outputDir, 'index.html'), 'utf8');
}

describe('report privacy audit', () => {
  it('shows a verified ledger', async () => {
    const privacyDir = mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
    await writeLedger(privacyDir);
    const html = await reportWithLedger(privacyDir);
    expect(html).toContain('The ledger verifies');
  });

  it('lists every dataset with its budget', async () => {
    const privacyDir = mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
    const entryId = await writeLedger(privacyDir);
    const html = await reportWithLedger(privacyDir, { ledgerEntryId: entryId });
    expect(html).toContain("cohort.csv <strong>(this run's data)</strong>");
    expect(html).toContain('other.csv');
    expect(html).toContain('<code>test-run</code> <strong>(this run)</strong>');
  });

  it('tells an earlier training in the directory from a model retrained without DP', async () => {
    const privacyDir = mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
    await writeLedger(privacyDir);
    const html = await reportWithLedger(privacyDir, { dp: false });
    expect(html).toContain('<code>test-run</code> (an earlier training in this run directory, not the current model)');
    expect(html).not.toContain('<strong>(this run)</strong>');
  });

  it('flags a tampered ledger', async () => {
    const privacyDir = mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
    await writeLedger(privacyDir);
    const path = join(privacyDir, 'ledger.jsonl');
    const original = readFileSync(path, 'utf8');
    const tampered = original.replace('"stepsTaken":200', '"stepsTaken":20');
    expect(tampered).not.toBe(original);
    writeFileSync(path, tampered);
    const html = await reportWithLedger(privacyDir);
    expect(html).toContain('The ledger audit found problems');
  });

  it('flags a ledger that is not JSON lines', async () => {
    const privacyDir = mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
    await writeLedger(privacyDir);
    appendFileSync(join(privacyDir, 'ledger.jsonl'), 'not json\n');
    const html = await reportWithLedger(privacyDir);
    expect(html).toContain('The ledger audit found problems');
  });

  it('states when no budget was spent', async () => {
    const html = await reportWithLedger(mkdtempSync(join(tmpdir(), 'genevae-privacy-')));
    expect(html).toContain('No dataset has spent privacy budget in this ledger yet.');
  });
});

describe('report privacy reading', () => {
  it('puts epsilon in words', async () => {
    const html = await reportWithLedger(mkdtempSync(join(tmpdir(), 'genevae-privacy-')));
    expect(html).toContain('Reading ε = 8');
    expect(html).toContain('finds at most half of the members');
  });

  it('warns about several samples per patient', async () => {
    const html = await reportWithLedger(mkdtempSync(join(tmpdir(), 'genevae-privacy-')));
    expect(html).toContain('only when each patient contributes one sample');
  });

  it('runs the membership check on per-sample losses', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'genevae-report-'));
    writeRunFixture(runDir, { nSamples: 40 });
    const ids = Array.from({ length: 40 }, (_, i) => `S${i}`);
    writeFrame(join(runDir, '03-train', 'sample_losses.arrow'), {
      sample_id: ids,
      split: ids.map((_, i) => (i < 30 ? 'train' : 'validation')),
      loss: Float64Array.from(ids, (_, i) => (i < 30 ? 100 + i : 110 + i)),
    });
    const ctx = testContext('report', runDir);
    await runReport(ctx, { ...REPORT_DEFAULTS, privacyDir: mkdtempSync(join(tmpdir(), 'genevae-privacy-')) });
    const html = readFileSync(join(ctx.outputDir, 'index.html'), 'utf8');
    expect(html).toContain('30 / 10');
    // Every training loss is below every held-out loss, so the attack separates them perfectly.
    expect(html).toMatch(/AUC \(0\.5 is a coin flip\)<\/th><td>1 \(95% CI/);
  });
});
