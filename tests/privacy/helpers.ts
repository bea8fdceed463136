import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epsilonFor } from '../../src/privacy/accountant.js';
import type { ReservationRequest } from '../../src/privacy/ledger.js';

export const FINGERPRINT_A = 'a'.repeat(64);
export const FINGERPRINT_B = 'b'.repeat(64);

export function temporaryPrivacyDir(): string {
  return mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
}

const mechanism = { samplingRate: 0.02, noiseMultiplier: 1.2, clipNorm: 1, steps: 200, delta: 1e-5, sampling: 'poisson', accountant: 'rdp' } as const;

/** Epsilon of the test mechanism after `steps` steps. */
export function testEpsilon(steps: number = mechanism.steps): number {
  return epsilonFor({ ...mechanism, steps });
}

/** A valid reservation for tests; the planned epsilon matches the mechanism. */
export function reservation(overrides: Partial<ReservationRequest> = {}): ReservationRequest {
  return {
    runId: 'run-1',
    datasetFingerprint: FINGERPRINT_A,
    datasetLabel: 'cohort A',
    mechanism: { ...mechanism },
    plannedEpsilon: testEpsilon(),
    codeVersion: 'test',
    randomness: 'system',
    ...overrides,
  };
}

export function writeBudget(privacyDir: string, policy: unknown): void {
  writeFileSync(join(privacyDir, 'budget.json'), JSON.stringify(policy));
}

export function ledgerLines(privacyDir: string): string[] {
  return readFileSync(join(privacyDir, 'ledger.jsonl'), 'utf8').split('\n').filter((line) => line !== '');
}

export function writeLedgerLines(privacyDir: string, lines: string[]): void {
  writeFileSync(join(privacyDir, 'ledger.jsonl'), lines.map((line) => line + '\n').join(''));
}
