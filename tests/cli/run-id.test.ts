import { describe, expect, it } from 'vitest';
import { defaultRunId, resolvePipelineOptions } from '../../src/cli/run.js';

const INPUTS = ['data/cohort.csv'];
const HASHES = ['ab'.repeat(32)];

function runId(parsed: Record<string, unknown>): string {
  return defaultRunId(INPUTS, HASHES, resolvePipelineOptions(INPUTS, parsed));
}

describe('defaultRunId', () => {
  it('repeats for the same command', () => {
    expect(runId({})).toBe(runId({}));
    expect(runId({})).toMatch(/^cohort-[0-9a-f]{8}$/);
  });

  it('gives a model trained without DP its own directory', () => {
    expect(runId({ dp: false })).not.toBe(runId({}));
  });

  it('gives other training options their own directory', () => {
    expect(runId({ targetEpsilon: 4 })).not.toBe(runId({}));
    expect(runId({ latentDim: 5 })).not.toBe(runId({}));
  });

  it('gives another seed its own directory', () => {
    expect(runId({ seed: 1 })).not.toBe(runId({}));
  });

  it('keeps the directory when only later stages change', () => {
    expect(runId({ kMax: 6 })).toBe(runId({}));
    expect(runId({ classifyRepeats: 2 })).toBe(runId({}));
  });

  it('ignores where the privacy ledger lives', () => {
    expect(runId({ privacyDir: 'elsewhere' })).toBe(runId({}));
  });
});
