import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLASSIFY_DEFAULTS, type ClassifyOptions } from '../../pipeline/classify.js';
import { denseToTable, readTable, tableToFrame, writeTable } from '../../src/io/arrow.js';
import { STAGE_DIRS } from '../../src/run/layout.js';
import { Rng } from '../../src/util/rng.js';
import { resolveRepeats, runClassify, type ClassifierModelFile, type ClassifySummary } from '../../src/stages/classify.js';
import { testContext } from '../helpers/context.js';
import { blobs, writeLatentFixture } from '../classify/fixtures.js';

const FAST: ClassifyOptions = { ...CLASSIFY_DEFAULTS, repeats: 2, forestTrees: 30, importancePermutations: 2 };

async function classify(labels: (string | null)[] | undefined, options = FAST, sizes = [40, 30, 20], withLoadings = false) {
  const ctx = testContext('classify');
  const { x, y } = blobs(sizes, 6, 3);
  const given = labels ?? undefined;
  const geneIds = Array.from({ length: 12 }, (_, g) => `G${g}`);
  // Gene g loads on dimension g % 6 only, with weight 1 for g < 6 and 0.5 after.
  const loadings = new Float32Array(12 * 6);
  for (let g = 0; g < 12; g++) loadings[g * 6 + (g % 6)] = g < 6 ? 1 : 0.5;
  const ids = writeLatentFixture(ctx.runDir, x, given, withLoadings ? { geneIds, values: loadings } : undefined);
  const result = await runClassify(ctx, options);
  return { ctx, y, ids, result, summary: result.summary as unknown as ClassifySummary };
}

const threeClassLabels = (y: Int32Array) => Array.from(y, (k) => ['A', 'B', 'C'][k]);
const { y: blobLabels } = blobs([40, 30, 20], 6, 3);

describe('runClassify', () => {
  it('scores every model above chance on separable blobs', async () => {
    const { summary } = await classify(threeClassLabels(blobLabels));
    expect(summary.status).toBe('done');
    expect(summary.models).toEqual(['logistic', 'forest', 'knn', 'svm', 'voting', 'stacking']);
    for (const name of summary.models) {
      expect(summary.results[name]!.folds.balancedAccuracy.mean, name).toBeGreaterThan(0.8);
    }
  });

  it('reports every metric with spread', async () => {
    const { summary } = await classify(threeClassLabels(blobLabels));
    const voting = summary.results.voting!;
    for (const score of ['accuracy', 'balancedAccuracy', 'macroF1', 'aurocMacro', 'brier'] as const) {
      expect(Number.isFinite(voting.folds[score].mean), score).toBe(true);
      expect(voting.folds[score].sd, score).toBeGreaterThanOrEqual(0);
      expect(voting.repeats[score], score).toHaveLength(2);
    }
    expect(voting.confusion.flat().reduce((a, b) => a + b, 0)).toBe(90 * 2);
    expect(voting.perClass.map((c) => c.label)).toEqual(['A', 'B', 'C']);
    expect(voting.roc).toHaveLength(3);
    expect(voting.calibration.bins).toHaveLength(10);
    expect(summary.chanceBalancedAccuracy).toBeCloseTo(1 / 3);
  });

  it('tests each ensemble against the best learner', async () => {
    const { summary } = await classify(threeClassLabels(blobLabels));
    for (const name of ['voting', 'stacking'] as const) {
      const comparison = summary.ensembleComparison[name]!;
      expect(comparison.reference, name).toBe(summary.bestLearner);
      const gap = summary.results[name]!.folds.balancedAccuracy.mean - summary.results[summary.bestLearner!]!.folds.balancedAccuracy.mean;
      expect(comparison.difference, name).toBeCloseTo(gap, 12);
      expect(comparison.degreesOfFreedom, name).toBe(summary.repeats * summary.folds - 1);
      expect(comparison.pValue, name).toBeGreaterThanOrEqual(0);
      expect(comparison.pValue, name).toBeLessThanOrEqual(1);
    }
  });

  it('writes predictions with one row per sample and repeat', async () => {
    const { ctx, summary } = await classify(threeClassLabels(blobLabels));
    const table = readTable(join(ctx.outputDir, 'predictions.arrow'));
    expect(table.numRows).toBe(90 * 2);
    expect(JSON.parse(table.schema.metadata.get('genevae.classes')!)).toEqual(['A', 'B', 'C']);
    for (const name of summary.models) {
      expect(table.getChild(`${name}_label`), name).not.toBeNull();
      expect(table.getChild(`${name}_proba`)!.type.listSize, name).toBe(3);
    }
    const frame = tableToFrame(table.select(['sample_id', 'repeat', 'fold']));
    const folds = frame.fold as Int32Array;
    expect(Math.min(...folds)).toBe(0);
    expect(Math.max(...folds)).toBe(4);
  });

  it('is reproducible for a seed', async () => {
    // Without the SVM: libsvm's Platt scaling draws from a process-wide C rand() state.
    const options: ClassifyOptions = { ...FAST, learners: ['logistic', 'forest', 'knn'] };
    const first = await classify(threeClassLabels(blobLabels), options);
    const second = await classify(threeClassLabels(blobLabels), options);
    expect(second.summary.results.forest!.folds.balancedAccuracy).toEqual(first.summary.results.forest!.folds.balancedAccuracy);
    expect(second.summary.results.stacking!.repeats.brier).toEqual(first.summary.results.stacking!.repeats.brier);
  });

  it('counts unlabelled samples and predicts them with the final model', async () => {
    const labels: (string | null)[] = threeClassLabels(blobLabels);
    for (let i = 0; i < 90; i += 9) labels[i] = null;
    const { ctx, summary, result } = await classify(labels);
    expect(summary.nUnlabelled).toBe(10);
    expect(summary.nLabelled).toBe(80);
    expect(result.warnings.some((w) => w.includes('10 of 90 samples have no label'))).toBe(true);
    const frame = tableToFrame(readTable(join(ctx.outputDir, 'predictions.arrow')));
    const outside = (frame.repeat as Int32Array).filter((r) => r === -1);
    expect(outside).toHaveLength(10);
  });

  it('skips without a label column', async () => {
    const { ctx, summary } = await classify(undefined);
    expect(summary.status).toBe('skipped');
    expect(summary.skipReason).toContain("no 'label' column");
    expect(existsSync(join(ctx.outputDir, 'predictions.arrow'))).toBe(false);
  });

  it('skips with a single class', async () => {
    const { summary } = await classify(Array.from({ length: 90 }, () => 'tumour'));
    expect(summary.status).toBe('skipped');
    expect(summary.skipReason).toContain("same label ('tumour')");
  });

  it('reduces folds for a small class', async () => {
    const labels = threeClassLabels(blobs([40, 30, 3], 6, 3).y);
    const { summary, result } = await classify(labels, FAST, [40, 30, 3]);
    expect(summary.folds).toBe(3);
    expect(result.warnings.some((w) => w.includes('3 folds instead of 5'))).toBe(true);
  });

  it('drops a small class on request', async () => {
    const labels = threeClassLabels(blobs([40, 30, 3], 6, 3).y);
    const { summary } = await classify(labels, { ...FAST, smallClasses: 'drop' }, [40, 30, 3]);
    expect(summary.folds).toBe(5);
    expect(summary.classes).toEqual(['A', 'B']);
    expect(summary.droppedClasses.map((c) => c.label)).toEqual(['C']);
  });

  it('maps importance to genes through the loadings', async () => {
    const { ctx, summary } = await classify(threeClassLabels(blobLabels), FAST, [40, 30, 20], true);
    const importance = summary.importance!;
    // Classes differ only along dimensions 0, 1 and 2.
    const informative = importance.dimensions.slice(0, 3).map((d) => d.mean);
    const noise = importance.dimensions.slice(3).map((d) => d.mean);
    expect(Math.min(...informative)).toBeGreaterThan(Math.max(...noise));
    const genes = tableToFrame(readTable(join(ctx.outputDir, 'importance.arrow')));
    expect((genes.gene_id as string[]).slice(0, 3).sort()).toEqual(['G0', 'G1', 'G2']);
    expect(genes.symbol![0]).toMatch(/^SYM_G[012]$/);
    expect(new Set(genes.source as string[])).toEqual(new Set(['classifier-permutation']));
  });

  it('states the caps that applied', async () => {
    const sizes = [200, 150, 100];
    const labels = threeClassLabels(blobs(sizes, 6, 3).y);
    const options: ClassifyOptions = { ...FAST, repeats: 1, svmMaxSamples: 100, importanceMaxSamples: 40, stackingFolds: 0 };
    const { summary } = await classify(labels, options, sizes);
    expect(summary.scaling.svmFinalTrainedOn).toBe(100);
    // 40 rows in shares 18, 13 and 9, and the third class raised to its floor of 10.
    expect(summary.scaling.importanceRows).toEqual({ min: 41, max: 41 });
    expect(summary.scaling.notes.some((note) => note.includes('RBF SVM trained on a stratified'))).toBe(true);
    expect(summary.scaling.notes.some((note) => note.includes('Permutation importance scored'))).toBe(true);
  });

  it('states no caps for a small cohort', async () => {
    const { summary } = await classify(threeClassLabels(blobLabels), { ...FAST, repeats: 'auto' });
    expect(summary.repeats).toBe(10);
    expect(summary.repeatsRequested).toBe('auto');
    expect(summary.scaling.notes).toEqual([]);
    expect(summary.scaling.svmFinalTrainedOn).toBe(90);
  });

  it('resolves auto repeats by cohort size', () => {
    expect(resolveRepeats('auto', 500)).toBe(10);
    expect(resolveRepeats('auto', 501)).toBe(3);
    expect(resolveRepeats('auto', 10_000)).toBe(3);
    expect(resolveRepeats('auto', 10_001)).toBe(1);
    expect(resolveRepeats(4, 50_000)).toBe(4);
  });

  it('saves a final model for predict', async () => {
    const { ctx } = await classify(threeClassLabels(blobLabels));
    const model = JSON.parse(readFileSync(join(ctx.outputDir, 'model.json'), 'utf8')) as ClassifierModelFile;
    expect(model.classes).toEqual(['A', 'B', 'C']);
    expect(model.trainedOn).toBe(90);
    expect(model.model.learners.map((l) => l.name)).toEqual(['logistic', 'forest', 'knn', 'svm']);
    expect(model.model.meta).not.toBeNull();
  });

  it('compares the latents with principal components', async () => {
    // The "principal components" are the blobs and the "latents" pure noise, so PCA must win.
    // The baseline reads as many components as there are latent dimensions: 4 of the 6.
    const ctx = testContext('classify');
    const { x, y } = blobs([40, 30, 20], 6, 3);
    const rng = new Rng(5);
    const noise = { nRows: x.nRows, nCols: 4, data: Float64Array.from({ length: x.nRows * 4 }, () => rng.normal()) };
    const ids = writeLatentFixture(ctx.runDir, noise, threeClassLabels(y));
    writeTable(
      join(ctx.runDir, STAGE_DIRS.cluster, 'pca.arrow'),
      denseToTable({ nRows: x.nRows, nCols: x.nCols, data: Float32Array.from(x.data) }, 'z', { name: 'sample_id', values: ids }),
    );

    const result = await runClassify(ctx, FAST);
    const summary = result.summary as unknown as ClassifySummary;

    const baseline = summary.pcaBaseline!;
    expect(baseline.nComponents).toBe(4);
    expect(baseline.pca.balancedAccuracy.mean).toBeGreaterThan(0.8);
    expect(baseline.latent.balancedAccuracy.mean).toBeLessThan(0.6);
    expect(baseline.latent.balancedAccuracy.mean).toBeCloseTo(summary.results.logistic!.folds.balancedAccuracy.mean, 12);
    expect(baseline.difference).toBeLessThan(-0.2);
    expect(baseline.test.difference).toBeCloseTo(baseline.difference, 12);
    expect(baseline.test.verdict).toBe('worse');
    expect(result.warnings.some((w) => /less well than 4 principal components/.test(w))).toBe(true);
  });

  it('says why the PCA comparison is missing', async () => {
    const { summary } = await classify(threeClassLabels(blobLabels));
    expect(summary.pcaBaseline).toBeNull();
    expect(summary.pcaBaselineSkipped).toMatch(/pca\.arrow not found/);
  });
});
