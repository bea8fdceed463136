import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INGEST_DEFAULTS } from '../../pipeline/ingest.js';
import { NORMALIZE_DEFAULTS } from '../../pipeline/normalize.js';
import { TRAIN_DEFAULTS, type TrainOptions } from '../../pipeline/train.js';
import { csrToTable, readFrame, readTable, tableToDense, writeFrame, writeTable } from '../../src/io/arrow.js';
import { csrFromDense } from '../../src/matrix/csr.js';
import { encodeCohort } from '../../src/model/encode.js';
import { loadModel } from '../../src/model/saved.js';
import { VaeModel } from '../../src/model/vae.js';
import { runIngest } from '../../src/stages/ingest.js';
import { runNormalize } from '../../src/stages/normalize.js';
import { runTrain, type TrainSummary } from '../../src/stages/train.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { testContext } from '../helpers/context.js';

const SAMPLES = 90;
const GENES = 30;

/** Counts of three groups with different gene programmes, as ingest would write them. */
function cohortCounts(seed = 4): number[] {
  const rng = new Rng(seed);
  const values: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    for (let g = 0; g < GENES; g++) values.push(rng.negativeBinomial(g % 3 === i % 3 ? 30 : 5, 4));
  }
  return values;
}

async function normalizedRun(values = cohortCounts()) {
  const ingest = testContext('ingest');
  const sampleIds = Array.from({ length: SAMPLES }, (_, i) => `s${i}`);
  writeFrame(join(ingest.outputDir, 'obs.arrow'), { sample_id: sampleIds, label: sampleIds.map((_, i) => `group${i % 3}`) });
  writeFrame(join(ingest.outputDir, 'var.arrow'), { gene_id: Array.from({ length: GENES }, (_, j) => `g${j}`) });
  writeTable(join(ingest.outputDir, 'X.arrow'), csrToTable(csrFromDense(SAMPLES, GENES, values)));
  const normalize = testContext('normalize', ingest.runDir);
  await runNormalize(normalize, { ...NORMALIZE_DEFAULTS, minSamplesPerGene: 0 });
  return ingest.runDir;
}

function options(overrides: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...TRAIN_DEFAULTS,
    hiddenDims: [16],
    latentDim: 3,
    epochs: 3,
    batchSize: 16,
    privacyDir: mkdtempSync(join(tmpdir(), 'genevae-privacy-')),
    backend: 'wasm',
    ...overrides,
  };
}

async function train(runDir: string, overrides: Partial<TrainOptions> = {}) {
  const ctx = testContext('train', runDir);
  const result = await runTrain(ctx, options(overrides));
  return { ctx, summary: result.summary as unknown as TrainSummary, warnings: result.warnings };
}

describe('train stage', () => {
  it('writes latents, history, losses, loadings and the model', async () => {
    const runDir = await normalizedRun();
    const { ctx, summary } = await train(runDir, { dp: false, likelihood: 'gaussian' });
    const latent = readTable(join(ctx.outputDir, 'latent.arrow'));
    expect(latent.numRows).toBe(SAMPLES);
    expect(tableToDense(latent, 'z').nCols).toBe(3);
    const history = JSON.parse(readFileSync(join(ctx.outputDir, 'history.json'), 'utf8')) as unknown[];
    expect(history).toHaveLength(3);
    const losses = readFrame(join(ctx.outputDir, 'sample_losses.arrow'));
    expect(new Set(losses.split as string[])).toEqual(new Set(['train', 'validation']));
    expect((losses.split as string[]).filter((s) => s === 'validation')).toHaveLength(summary.nValidation);
    expect(readTable(join(ctx.outputDir, 'gene_loadings.arrow')).numRows).toBe(GENES);
    expect(summary.privacy.dp).toBe(false);
    expect(summary.backend.name).toBe('wasm');
  });

  it('saves a model that reproduces the latents', async () => {
    const runDir = await normalizedRun();
    const { ctx } = await train(runDir, { dp: false });
    const saved = loadModel(join(ctx.outputDir, 'model'));
    const x = tableToDense(readTable(join(runDir, '02-normalize', 'X.arrow')), 'values');
    const model = new VaeModel(saved.config.architecture, saved.layout, saved.parameters, { training: false });
    const means = model.encodeMeans(x.data, x.nRows);
    model.dispose();
    expect(Array.from(means)).toEqual(Array.from(tableToDense(readTable(join(ctx.outputDir, 'latent.arrow')), 'z').data));
  });

  it('repeats latents without DP', async () => {
    const runDir = await normalizedRun();
    const first = await train(runDir, { dp: false });
    const a = readFileSync(join(first.ctx.outputDir, 'latent.arrow'));
    const second = await train(runDir, { dp: false });
    expect(readFileSync(join(second.ctx.outputDir, 'latent.arrow')).equals(a)).toBe(true);
  });

  it('picks a count likelihood for counts', async () => {
    const { summary } = await train(await normalizedRun(), { dp: false });
    expect(summary.likelihood).toBe('nb');
  });

  it('writes mixture components', async () => {
    const { ctx } = await train(await normalizedRun(), { dp: false, prior: 'mixture', mixtureComponents: 3, likelihood: 'zinb' });
    const latent = readFrame(join(ctx.outputDir, 'latent.arrow'));
    const components = latent.prior_component as Int32Array;
    expect(components).toHaveLength(SAMPLES);
    expect(components.every((c) => c >= 0 && c < 3)).toBe(true);
  });

  it('spends at most the target epsilon with DP', async () => {
    const { summary } = await train(await normalizedRun(), { targetEpsilon: 2 });
    expect(summary.privacy.dp).toBe(true);
    expect(summary.privacy.sampling).toBe('poisson');
    expect(summary.privacy.steps).toBe(summary.privacy.plannedSteps);
    expect(summary.privacy.epsilon!).toBeLessThanOrEqual(2);
    expect(summary.privacy.epsilon!).toBeGreaterThan(1.9);
    expect(summary.privacy.ledgerEntryId).not.toBeNull();
  });

  it('uses the compact model with DP', async () => {
    const { summary } = await train(await normalizedRun());
    expect(summary.resolved.architecture).toBe('compact');
    expect(summary.architecture.decoder).toBe('tied');
    expect(summary.likelihood).toBe('gaussian');
    expect(summary.weightsKept).toBe('last');
    expect(summary.bestEpoch).toBe(summary.epochsPlanned);
    expect(summary.privacy.selectionSamples).toBe(0);
    expect(summary.privacy.note).toMatch(/last weights were kept/);
  });

  it('records the noise-to-signal ratio', async () => {
    const { summary } = await train(await normalizedRun());
    const { noiseMultiplier, samplingRate } = summary.privacy;
    const expected = (noiseMultiplier! * Math.sqrt(summary.parameterCount)) / (samplingRate! * summary.nTrain);
    expect(summary.dpDiagnostics!.noiseToSignal).toBeCloseTo(expected, 10);
    expect(summary.dpDiagnostics!.clippedFraction).toBeGreaterThanOrEqual(0);
    expect(summary.dpDiagnostics!.clippedFraction).toBeLessThanOrEqual(1);
  });

  it('says which samples chose the weights with DP', async () => {
    const { summary, warnings } = await train(await normalizedRun(), { earlyStopping: 'on' });
    expect(summary.weightsKept).toBe('best-validation');
    expect(summary.privacy.selectionSamples).toBe(summary.nValidation);
    expect(summary.privacy.note).toMatch(/validation samples chose which epoch/);
    expect(warnings.some((w) => w.includes('outside the privacy guarantee'))).toBe(true);
  });

  it('compares the latents with the untrained model', async () => {
    const { summary } = await train(await normalizedRun(), { dp: false, architecture: 'compact', epochs: 30 });
    const comparison = summary.untrainedComparison;
    expect(comparison.samples).toBe(SAMPLES);
    expect(comparison.trainedExplainedVariance).toBeGreaterThan(comparison.untrainedExplainedVariance);
    expect(comparison.pcaExplainedVariance).toBeGreaterThanOrEqual(comparison.trainedExplainedVariance - 1e-6);
  });

  it('trains on the most variable genes', async () => {
    const runDir = await normalizedRun();
    const { ctx, summary } = await train(runDir, { dp: false, genes: 12 });
    expect(summary.nGenes).toBe(12);
    expect(summary.nGenesAvailable).toBe(GENES);
    const genes = readFrame(join(runDir, '02-normalize', 'var.arrow'));
    const dispersion = Array.from(genes.dispersion_norm as Float64Array);
    const threshold = [...dispersion].sort((a, b) => b - a)[11];
    const kept = readFrame(join(ctx.outputDir, 'gene_loadings.arrow')).gene_id as string[];
    expect(kept).toHaveLength(12);
    for (const gene of kept) expect(dispersion[(genes.gene_id as string[]).indexOf(gene)]).toBeGreaterThanOrEqual(threshold);
    expect(loadModel(join(ctx.outputDir, 'model')).config.normalization.geneIds).toEqual(kept);
  });

  it('falls back to the standard model without scaling', async () => {
    const ingest = testContext('ingest');
    const sampleIds = Array.from({ length: SAMPLES }, (_, i) => `s${i}`);
    writeFrame(join(ingest.outputDir, 'obs.arrow'), { sample_id: sampleIds });
    writeFrame(join(ingest.outputDir, 'var.arrow'), { gene_id: Array.from({ length: GENES }, (_, j) => `g${j}`) });
    writeTable(join(ingest.outputDir, 'X.arrow'), csrToTable(csrFromDense(SAMPLES, GENES, cohortCounts())));
    await runNormalize(testContext('normalize', ingest.runDir), { ...NORMALIZE_DEFAULTS, minSamplesPerGene: 0, scale: false });
    const { summary } = await train(ingest.runDir);
    expect(summary.resolved.architecture).toBe('standard');
    await expect(train(ingest.runDir, { architecture: 'compact' })).rejects.toThrow(/--no-scale/);
  });

  it('records the run in the ledger', async () => {
    const privacyDir = mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
    await train(await normalizedRun(), { privacyDir });
    const ledger = readFileSync(join(privacyDir, 'ledger.jsonl'), 'utf8').trim().split('\n');
    expect(ledger.length).toBeGreaterThan(0);
  });

  it('fits the compact model to a second-moment release', async () => {
    const privacyDir = mkdtempSync(join(tmpdir(), 'genevae-privacy-'));
    const { ctx, summary } = await train(await normalizedRun(), { dpMechanism: 'second-moment', targetEpsilon: 2, epochs: 'auto', batchSize: 'auto', privacyDir });
    const { privacy } = summary;
    expect(privacy.mechanism).toBe('second-moment');
    expect(summary.resolved.dpMechanism).toBe('second-moment');
    expect([privacy.steps, privacy.plannedSteps, privacy.samplingRate, privacy.clipNorm]).toEqual([1, 1, 1, 1]);
    expect(privacy.epsilon!).toBeLessThanOrEqual(2);
    expect(privacy.epsilon!).toBeGreaterThan(1.9);
    expect(privacy.note).toMatch(/second-moment release/);
    expect(summary.dpDiagnostics).toBeNull();
    expect(summary.secondMoment!.pseudoSamples).toBe(summary.nGenes);
    expect(summary.secondMoment!.leadingShares).toHaveLength(3);
    expect(summary.resolved.latentDim).toBe(3);
    const history = JSON.parse(readFileSync(join(ctx.outputDir, 'history.json'), 'utf8')) as { epsilon: number; validationLoss: number | null }[];
    expect(history.length).toBeGreaterThan(1);
    for (const record of history) {
      expect(record.epsilon).toBe(privacy.epsilon);
      expect(record.validationLoss).toBeNull();
    }
    const lines = readFileSync(join(privacyDir, 'ledger.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const reserve = lines.find((line) => line.type === 'reserve') as { mechanism: Record<string, unknown> };
    expect(reserve.mechanism).toMatchObject({ release: 'second-moment', steps: 1, samplingRate: 1, clipNorm: 1 });
    const finalize = lines.find((line) => line.type === 'finalize') as { stepsTaken: number; epsilon: number };
    expect(finalize.stepsTaken).toBe(1);
    expect(finalize.epsilon).toBe(privacy.epsilon);
  });

  it('takes the second-moment release when DP-SGD would hold the genes down', async () => {
    const runDir = await normalizedRun();
    const tight = await train(runDir, { epochs: 'auto', batchSize: 'auto', latentDim: 'auto', targetEpsilon: 1 });
    expect(tight.summary.privacy.mechanism).toBe('second-moment');
    expect(tight.summary.resolved.latentDim).toBe(10);
    expect(tight.summary.resolved.reasons.join(' ')).toMatch(/would hold the compact model to \d+ of 30 genes/);
    expect(tight.warnings.some((w) => /release's noise is 0\.\d+ of the matrix's trace at 16 genes, above the target/.test(w))).toBe(true);
    const loose = await train(runDir, { epochs: 'auto', batchSize: 'auto', latentDim: 'auto' });
    expect(loose.summary.privacy.mechanism).toBe('sgd');
    expect(loose.summary.resolved.reasons.join(' ')).toMatch(/leaves the compact model all 30 genes/);
  });

  it('chooses the mechanism whatever the schedule, noise and gene options say', async () => {
    const runDir = await normalizedRun();
    // At epsilon 1 the default DP-SGD plan would hold the genes down; a given sigma, epochs or gene count must not change that.
    const flagged = await train(runDir, { latentDim: 'auto', targetEpsilon: 1, noiseMultiplier: 1, epochs: 5, genes: 12 });
    expect(flagged.summary.privacy.mechanism).toBe('second-moment');
    expect(flagged.summary.privacy.noiseMultiplier).toBe(1);
    expect(flagged.summary.nGenes).toBe(12);
    expect(flagged.summary.epochsRun).toBe(5);
    const clipped = await train(runDir, { latentDim: 'auto', targetEpsilon: 1, clipNorm: 2 });
    expect(clipped.summary.privacy.mechanism).toBe('sgd');
    await expect(train(runDir, { dpMechanism: 'second-moment', clipNorm: 2 })).rejects.toThrow(/--clip-norm applies only to DP-SGD/);
  });

  it('rejects the second-moment release for the standard model', async () => {
    await expect(train(await normalizedRun(), { architecture: 'standard', dpMechanism: 'second-moment' })).rejects.toThrow(/only the compact model/);
  });

  it('rejects a delta at or above 1/n', async () => {
    const runDir = await normalizedRun();
    await expect(train(runDir, { delta: 1 / SAMPLES })).rejects.toThrow(InputError);
  });

  it('rejects a count likelihood without counts', async () => {
    const values = cohortCounts().map((v) => v + 0.5);
    await expect(train(await normalizedRun(values), { dp: false, likelihood: 'nb' })).rejects.toThrow(/needs raw counts/);
  });
});

/** Writes `values` as a samples x genes CSV, then ingests and normalizes it into a new run. */
async function ingestedCsvRun(values: number[]) {
  const lines = [['sample_id', ...Array.from({ length: GENES }, (_, j) => `g${j}`)].join(',')];
  for (let i = 0; i < SAMPLES; i++) lines.push([`s${i}`, ...values.slice(i * GENES, (i + 1) * GENES)].join(','));
  const csv = join(mkdtempSync(join(tmpdir(), 'genevae-encode-')), 'cohort.csv');
  writeFileSync(csv, lines.join('\n') + '\n');
  const ingest = testContext('ingest');
  await runIngest(ingest, { ...INGEST_DEFAULTS, inputs: [csv] });
  await runNormalize(testContext('normalize', ingest.runDir), { ...NORMALIZE_DEFAULTS, minSamplesPerGene: 0 });
  return { csv, ingest };
}

describe('encodeCohort', () => {
  it('reproduces compact model latents', async () => {
    const values = cohortCounts(6);
    const { csv, ingest } = await ingestedCsvRun(values);
    const { ctx, summary } = await train(ingest.runDir, { genes: 20 });
    expect(summary.architecture.decoder).toBe('tied');
    const trained = tableToDense(readTable(join(ctx.outputDir, 'latent.arrow')), 'z').data;
    const encoded = await encodeCohort(ingest.runDir, csv);
    expect(encoded.alignment.modelGenes).toBe(20);
    let worst = 0;
    for (let i = 0; i < trained.length; i++) worst = Math.max(worst, Math.abs(encoded.latent.data[i] - trained[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  it('reproduces the training latents from the training file', async () => {
    const values = cohortCounts(5);
    const { csv, ingest } = await ingestedCsvRun(values);
    const { ctx } = await train(ingest.runDir, { dp: false, likelihood: 'gaussian' });
    const trained = tableToDense(readTable(join(ctx.outputDir, 'latent.arrow')), 'z').data;
    const encoded = await encodeCohort(ingest.runDir, csv);
    expect(encoded.alignment.missing).toEqual([]);
    expect(encoded.seenInTraining?.filter(Boolean)).toHaveLength(SAMPLES);
    expect(encoded.warnings.join(' ')).toContain(`${SAMPLES} of the ${SAMPLES} samples have the same values as samples the model was trained on`);
    let worst = 0;
    for (let i = 0; i < trained.length; i++) worst = Math.max(worst, Math.abs(encoded.latent.data[i] - trained[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  it('embeds a new cohort and reports missing genes', async () => {
    const runDir = await normalizedRun();
    await train(runDir, { dp: false, likelihood: 'gaussian' });
    const values = cohortCounts(9);
    const keep = Array.from({ length: GENES }, (_, j) => j).filter((j) => j !== 4);
    const lines = [['sample_id', ...keep.map((j) => `g${j}`), 'extra_gene'].join(',')];
    for (let i = 0; i < 12; i++) lines.push([`new${i}`, ...keep.map((j) => values[i * GENES + j]), 7].join(','));
    const csv = join(mkdtempSync(join(tmpdir(), 'genevae-encode-')), 'new.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    const encoded = await encodeCohort(runDir, csv);
    expect(encoded.sampleIds).toHaveLength(12);
    expect(encoded.latent.nCols).toBe(3);
    expect(encoded.alignment.missing).toEqual(['g4']);
    expect(encoded.alignment.extra).toEqual(['extra_gene']);
    expect(encoded.latent.data.every(Number.isFinite)).toBe(true);
    expect(existsSync(csv)).toBe(true);
  });
});
