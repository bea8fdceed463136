import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NORMALIZE_DEFAULTS } from '../../pipeline/normalize.js';
import { csrToTable, readFrame, readTable, tableToCsr, tableToDense, writeFrame, writeTable } from '../../src/io/arrow.js';
import { csrFromDense, toDense } from '../../src/matrix/csr.js';
import { runNormalize, type NormalizeSummary } from '../../src/stages/normalize.js';
import { testContext } from '../helpers/context.js';
import { Rng } from '../../src/util/rng.js';

function writeIngest(values: number[], nRows: number, nCols: number) {
  const ingest = testContext('ingest');
  const sampleIds = Array.from({ length: nRows }, (_, i) => `s${i}`);
  writeFrame(join(ingest.outputDir, 'obs.arrow'), { sample_id: sampleIds, label: sampleIds.map((_, i) => (i % 2 ? 'a' : 'b')) });
  writeFrame(join(ingest.outputDir, 'var.arrow'), { gene_id: Array.from({ length: nCols }, (_, j) => `g${j}`) });
  writeTable(join(ingest.outputDir, 'X.arrow'), csrToTable(csrFromDense(nRows, nCols, values)));
  return testContext('normalize', ingest.runDir);
}

describe('normalize stage', () => {
  it('library-size normalizes and log-transforms counts', async () => {
    const ctx = writeIngest([1, 3, 0, 0, 2, 2, 5, 5, 0], 3, 3);
    const result = await runNormalize(ctx, { ...NORMALIZE_DEFAULTS, targetSum: 100, scale: false, clip: null, minSamplesPerGene: 0 });
    const summary = result.summary as unknown as NormalizeSummary;
    expect(summary.inputKind).toBe('counts');
    const lognorm = toDense(tableToCsr(readTable(join(ctx.outputDir, 'lognorm.arrow'))));
    expect(lognorm[0]).toBeCloseTo(Math.log1p(25), 5);
    expect(lognorm[1]).toBeCloseTo(Math.log1p(75), 5);
    expect(lognorm[4]).toBeCloseTo(Math.log1p(50), 5);
    expect(existsSync(join(ctx.outputDir, 'counts.arrow'))).toBe(true);
  });

  it('scales selected genes to mean 0 and unit variance', async () => {
    const rng = new Rng(1);
    const values = Array.from({ length: 40 * 6 }, () => rng.poisson(5));
    const ctx = writeIngest(values, 40, 6);
    await runNormalize(ctx, { ...NORMALIZE_DEFAULTS, clip: null });
    const X = tableToDense(readTable(join(ctx.outputDir, 'X.arrow')), 'values');
    expect(X.nCols).toBe(6);
    for (let j = 0; j < X.nCols; j++) {
      let sum = 0;
      let sumSquares = 0;
      for (let r = 0; r < X.nRows; r++) {
        sum += X.data[r * X.nCols + j];
        sumSquares += X.data[r * X.nCols + j] ** 2;
      }
      expect(sum / X.nRows).toBeCloseTo(0, 4);
      expect((sumSquares - (sum * sum) / X.nRows) / (X.nRows - 1)).toBeCloseTo(1, 4);
    }
  });

  it('selects the genes that vary beyond their mean bin', async () => {
    const rng = new Rng(2);
    const n = 100;
    const g = 400;
    const values: number[] = [];
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < g; j++) {
        // Genes 0-4 switch between two states; the rest are Poisson noise over a range of means.
        const mean = j < 5 ? (r % 2 ? 8 * (j + 1) : 1) : 1 + (j % 50);
        values.push(rng.poisson(mean));
      }
    }
    const ctx = writeIngest(values, n, g);
    await runNormalize(ctx, { ...NORMALIZE_DEFAULTS, nTopGenes: 5 });
    const vars = readFrame(join(ctx.outputDir, 'var.arrow'));
    const chosen = (vars.gene_id as string[]).filter((_, j) => (vars.highly_variable as boolean[])[j]);
    expect(chosen).toEqual(['g0', 'g1', 'g2', 'g3', 'g4']);
  });

  it('skips library size and log for log-scale input', async () => {
    const rng = new Rng(3);
    const values = Array.from({ length: 30 * 5 }, () => 6 + rng.normal(0, 1.5));
    const ctx = writeIngest(values, 30, 5);
    const result = await runNormalize(ctx, NORMALIZE_DEFAULTS);
    const summary = result.summary as unknown as NormalizeSummary;
    expect(summary.inputKind).toBe('log');
    const skipped = summary.steps.filter((s) => !s.applied).map((s) => s.step);
    expect(skipped).toContain('library-size');
    expect(skipped).toContain('log1p');
    expect(existsSync(join(ctx.outputDir, 'counts.arrow'))).toBe(false);
  });

  it('clips negative linear intensities and warns', async () => {
    const values = [-200, 500, 900, 12000, 300, -5, 70000, 800, 40, 5000, 650, 100];
    const ctx = writeIngest(values, 3, 4);
    const result = await runNormalize(ctx, NORMALIZE_DEFAULTS);
    const summary = result.summary as unknown as NormalizeSummary;
    expect(summary.inputKind).toBe('normalized');
    expect(summary.steps.find((s) => s.step === 'clip-negative')!.applied).toBe(true);
    expect(result.warnings.join(' ')).toMatch(/2 negative values/);
  });

  it('writes parameters that reproduce the scaling', async () => {
    const rng = new Rng(4);
    const values = Array.from({ length: 20 * 4 }, () => rng.poisson(8));
    const ctx = writeIngest(values, 20, 4);
    await runNormalize(ctx, NORMALIZE_DEFAULTS);
    const parameters = JSON.parse(readFileSync(join(ctx.outputDir, 'normalization.json'), 'utf8'));
    expect(parameters.geneIds).toHaveLength(4);
    expect(parameters.mean).toHaveLength(4);
    expect(parameters.targetSum).toBe(10_000);
  });

  it('rejects counts forced on negative input', async () => {
    const ctx = writeIngest([-1, 2, 3, 4], 2, 2);
    await expect(runNormalize(ctx, { ...NORMALIZE_DEFAULTS, inputKind: 'counts' })).rejects.toThrow(/negative/);
  });
});
