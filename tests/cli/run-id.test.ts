import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRunId, resolvePipelineOptions, runPipeline } from '../../src/cli/run.js';
import { InputError } from '../../src/util/errors.js';

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

describe('runPipeline', () => {
  it('rejects impossible DP options before ingest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genevae-run-options-'));
    const input = join(dir, 'cohort.csv');
    writeFileSync(input, 's,g1,g2\na,1,2\nb,3,4\n');
    const reportsDir = join(dir, 'reports');
    for (const parsed of [
      { dpMechanism: 'second-moment', architecture: 'standard' },
      { dpMechanism: 'second-moment', clipNorm: 5 },
    ]) {
      const options = { ...resolvePipelineOptions([input], { ...parsed, reportsDir }), reportsDir };
      await expect(runPipeline(options)).rejects.toThrow(InputError);
    }
    expect(existsSync(reportsDir)).toBe(false);
  });
});
