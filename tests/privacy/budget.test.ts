import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capFor, loadBudgetPolicy } from '../../src/privacy/budget.js';
import { InputError } from '../../src/util/errors.js';
import { FINGERPRINT_A, temporaryPrivacyDir, writeBudget } from './helpers.js';

describe('loadBudgetPolicy', () => {
  it('means no cap without a file', () => {
    const policy = loadBudgetPolicy(temporaryPrivacyDir());
    expect(policy.source).toBeNull();
    expect(capFor(policy, FINGERPRINT_A)).toBeNull();
  });

  it('reads the tracked example', () => {
    const dir = temporaryPrivacyDir();
    copyFileSync(join(import.meta.dirname, '..', '..', 'privacy', 'budget.example.json'), join(dir, 'budget.json'));
    const policy = loadBudgetPolicy(dir);
    expect(capFor(policy, FINGERPRINT_A)).toBe(10);
    expect(capFor(policy, '0'.repeat(64))).toBe(4);
  });

  it('prefers the dataset cap over the default', () => {
    const dir = temporaryPrivacyDir();
    writeBudget(dir, { defaultMaxEpsilon: 8, datasets: { [FINGERPRINT_A]: { maxEpsilon: 2 } } });
    expect(capFor(loadBudgetPolicy(dir), FINGERPRINT_A)).toBe(2);
  });

  it('rejects invalid JSON', () => {
    const dir = temporaryPrivacyDir();
    writeFileSync(join(dir, 'budget.json'), '{ "defaultMaxEpsilon": 3,, }');
    expect(() => loadBudgetPolicy(dir)).toThrow(InputError);
  });

  it('rejects a negative cap', () => {
    const dir = temporaryPrivacyDir();
    writeBudget(dir, { defaultMaxEpsilon: -1 });
    expect(() => loadBudgetPolicy(dir)).toThrow(/defaultMaxEpsilon must be a number >= 0/);
  });

  it('rejects a key that is not a fingerprint', () => {
    const dir = temporaryPrivacyDir();
    writeBudget(dir, { datasets: { 'my cohort': { maxEpsilon: 1 } } });
    expect(() => loadBudgetPolicy(dir)).toThrow(/not a dataset fingerprint/);
  });

  it('rejects an unknown field', () => {
    const dir = temporaryPrivacyDir();
    writeBudget(dir, { maxEpsilon: 1 });
    expect(() => loadBudgetPolicy(dir)).toThrow(/unknown field 'maxEpsilon'/);
  });
});
