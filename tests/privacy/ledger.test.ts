import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'rolldown';
import { beforeAll, describe, expect, it } from 'vitest';
import { epsilonFor } from '../../src/privacy/accountant.js';
import { auditLedger } from '../../src/privacy/audit.js';
import { PrivacyLedger } from '../../src/privacy/ledger.js';
import { lineHash } from '../../src/privacy/ledger-chain.js';
import { PrivacyError } from '../../src/util/errors.js';
import { FINGERPRINT_A, FINGERPRINT_B, ledgerLines, reservation, temporaryPrivacyDir, testEpsilon, writeBudget } from './helpers.js';

describe('PrivacyLedger', () => {
  it('records a reservation and its finalization', async () => {
    const dir = temporaryPrivacyDir();
    const ledger = new PrivacyLedger(dir);
    const { entryId } = await ledger.reserve(reservation());
    await ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() });
    const entries = ledger.entries();
    expect(entries.map((e) => e.type)).toEqual(['reserve', 'finalize']);
    expect(entries[1].prevHash).toBe(entries[0].hash);
    expect(auditLedger(dir).ok).toBe(true);
  });

  it('returns the hash of the written line', async () => {
    const dir = temporaryPrivacyDir();
    const receipt = await new PrivacyLedger(dir).reserve(reservation());
    const written = JSON.parse(ledgerLines(dir)[0]);
    expect(receipt.hash).toBe(written.hash);
    expect(lineHash(written)).toBe(written.hash);
    expect(receipt.line).toBe(1);
  });

  it('records the mechanism and provenance', async () => {
    const dir = temporaryPrivacyDir();
    await new PrivacyLedger(dir).reserve(reservation({ codeVersion: '0.1.0+abc', randomness: 'insecure-test-seed' }));
    const written = JSON.parse(ledgerLines(dir)[0]);
    expect(written.mechanism).toEqual({ samplingRate: 0.02, noiseMultiplier: 1.2, clipNorm: 1, steps: 200, delta: 1e-5, sampling: 'poisson', accountant: 'rdp' });
    expect(written.codeVersion).toBe('0.1.0+abc');
    expect(written.randomness).toBe('insecure-test-seed');
    expect(written.datasetFingerprint).toBe(FINGERPRINT_A);
    expect(Number.isNaN(Date.parse(written.time))).toBe(false);
  });

  it('warns when no cap is set', async () => {
    const receipt = await new PrivacyLedger(temporaryPrivacyDir()).reserve(reservation());
    expect(receipt.warnings.join(' ')).toMatch(/no privacy budget cap/);
  });

  it('refuses a run that would exceed the cap', async () => {
    const dir = temporaryPrivacyDir();
    const epsilon = testEpsilon();
    writeBudget(dir, { version: 1, datasets: { [FINGERPRINT_A]: { maxEpsilon: 1.5 * epsilon } } });
    const ledger = new PrivacyLedger(dir);
    const first = await ledger.reserve(reservation({ runId: 'first-run' }));
    await ledger.finalize(first.entryId, { stepsTaken: 200, epsilon });
    const refusal = ledger.reserve(reservation({ runId: 'second-run' }));
    await expect(refusal).rejects.toThrow(PrivacyError);
    await expect(refusal).rejects.toThrow(/only 0\.\d+ of its cap/);
    await expect(refusal).rejects.toThrow(/run first-run: epsilon/);
    expect(ledgerLines(dir)).toHaveLength(2);
  });

  it('keeps caps per dataset', async () => {
    const dir = temporaryPrivacyDir();
    writeBudget(dir, { defaultMaxEpsilon: 1.5 * testEpsilon() });
    const ledger = new PrivacyLedger(dir);
    await ledger.reserve(reservation({ datasetFingerprint: FINGERPRINT_A }));
    await expect(ledger.reserve(reservation({ datasetFingerprint: FINGERPRINT_B }))).resolves.toBeDefined();
  });

  it('counts an unfinished reservation at its planned epsilon', async () => {
    // A process that crashes between reserve and finalize may have released noisy updates.
    const dir = temporaryPrivacyDir();
    writeBudget(dir, { defaultMaxEpsilon: 1.5 * testEpsilon() });
    const ledger = new PrivacyLedger(dir);
    await ledger.reserve(reservation({ runId: 'crashed-run' }));
    await expect(ledger.reserve(reservation({ runId: 'next-run' }))).rejects.toThrow(/crashed-run: epsilon .* not finalized: counted at planned epsilon/);
  });

  it('counts a voided reservation as nothing', async () => {
    const dir = temporaryPrivacyDir();
    writeBudget(dir, { defaultMaxEpsilon: 1.5 * testEpsilon() });
    const ledger = new PrivacyLedger(dir);
    const failed = await ledger.reserve(reservation({ runId: 'failed-run' }));
    await ledger.void(failed.entryId, 'out of memory before the first step');
    await expect(ledger.reserve(reservation({ runId: 'retry-run' }))).resolves.toBeDefined();
  });

  it('accepts a second-moment release only as one full-batch step of sensitivity 1', async () => {
    const ledger = new PrivacyLedger(temporaryPrivacyDir());
    const release = { samplingRate: 1, noiseMultiplier: 0.5, clipNorm: 1, steps: 1, delta: 1e-3, sampling: 'poisson' as const, accountant: 'rdp' as const, release: 'second-moment' as const };
    const epsilon = epsilonFor(release);
    await expect(ledger.reserve(reservation({ runId: 'release-run', mechanism: release, plannedEpsilon: epsilon }))).resolves.toBeDefined();
    for (const wrong of [{ steps: 2 }, { samplingRate: 0.5 }, { clipNorm: 2 }]) {
      await expect(ledger.reserve(reservation({ runId: 'wrong-run', mechanism: { ...release, ...wrong }, plannedEpsilon: epsilon }))).rejects.toThrow(/one full-batch Gaussian step of sensitivity 1/);
    }
  });

  it('rejects finalizing twice', async () => {
    const ledger = new PrivacyLedger(temporaryPrivacyDir());
    const { entryId } = await ledger.reserve(reservation());
    await ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() });
    await expect(ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() })).rejects.toThrow(/already closed/);
  });

  it('rejects voiding a finalized entry', async () => {
    const ledger = new PrivacyLedger(temporaryPrivacyDir());
    const { entryId } = await ledger.reserve(reservation());
    await ledger.finalize(entryId, { stepsTaken: 200, epsilon: testEpsilon() });
    await expect(ledger.void(entryId, 'late')).rejects.toThrow(/already closed/);
  });

  it('rejects an unknown entry', async () => {
    await expect(new PrivacyLedger(temporaryPrivacyDir()).finalize('nope', { stepsTaken: 1, epsilon: 0.1 })).rejects.toThrow(/never reserved/);
  });

  it('records an overrun and then raises', async () => {
    const dir = temporaryPrivacyDir();
    const ledger = new PrivacyLedger(dir);
    const { entryId } = await ledger.reserve(reservation());
    await expect(ledger.finalize(entryId, { stepsTaken: 300, epsilon: testEpsilon(300) })).rejects.toThrow(/more than/);
    expect(ledgerLines(dir)).toHaveLength(2);
  });

  it('rejects sampling other than Poisson', async () => {
    const request = reservation();
    (request.mechanism as { sampling: string }).sampling = 'shuffle';
    await expect(new PrivacyLedger(temporaryPrivacyDir()).reserve(request)).rejects.toThrow(/only 'poisson'/);
  });

  it('refuses to append to a tampered ledger', async () => {
    const dir = temporaryPrivacyDir();
    const ledger = new PrivacyLedger(dir);
    await ledger.reserve(reservation());
    const { writeFileSync } = await import('node:fs');
    const line = ledgerLines(dir)[0].replace('"cohort A"', '"cohort Z"');
    writeFileSync(join(dir, 'ledger.jsonl'), line + '\n');
    await expect(ledger.reserve(reservation({ runId: 'run-2' }))).rejects.toThrow(/fails verification at line 1/);
    expect(ledgerLines(dir)).toHaveLength(1);
  });
});

describe('PrivacyLedger under concurrent writers', () => {
  let writerScript = '';

  beforeAll(async () => {
    // Bundle the writer (TypeScript) into one ES module so that plain node child processes can run it.
    writerScript = join(mkdtempSync(join(tmpdir(), 'genevae-ledger-writer-')), 'ledger-writer.mjs');
    await build({
      input: join(import.meta.dirname, 'fixtures', 'ledger-writer.ts'),
      platform: 'node',
      output: { file: writerScript, format: 'esm' },
      logLevel: 'silent',
    });
  });

  it('keeps the chain intact', async () => {
    const dir = temporaryPrivacyDir();
    const writers = 4;
    const perWriter = 6;
    const run = promisify(execFile);
    await Promise.all(
      Array.from({ length: writers }, (_, w) => run(process.execPath, [writerScript, dir, String(w), String(perWriter)], { timeout: 60_000 })),
    );
    const lines = ledgerLines(dir);
    // Each writer reserves perWriter times and finalizes every other reservation.
    expect(lines).toHaveLength(writers * (perWriter + perWriter / 2));
    const audit = auditLedger(dir);
    expect(audit.problems).toEqual([]);
    const runIds = new Set(audit.budgets.flatMap((b) => b.runs.map((r) => r.runId)));
    expect(runIds.size).toBe(writers * perWriter);
    const head = JSON.parse(readFileSync(join(dir, 'ledger.head.json'), 'utf8'));
    expect(head.line).toBe(lines.length);
  }, 120_000);
});
