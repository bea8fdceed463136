import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLASSIFY_DEFAULTS } from '../../pipeline/classify.js';
import { NORMALIZE_DEFAULTS } from '../../pipeline/normalize.js';
import { TRAIN_DEFAULTS } from '../../pipeline/train.js';
import { predictCohort, predictionTsv, readClassifierModel } from '../../src/cli/predict.js';
import { evaluateHoldout } from '../../src/classify/holdout.js';
import { csrToTable, writeFrame, writeTable } from '../../src/io/arrow.js';
import { csrFromDense } from '../../src/matrix/csr.js';
import { runClassify } from '../../src/stages/classify.js';
import { runNormalize } from '../../src/stages/normalize.js';
import { runTrain } from '../../src/stages/train.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { testContext } from '../helpers/context.js';

const SAMPLES = 90;
const GENES = 30;

/** Counts of three groups, each with its own highly expressed third of the genes. */
function groupCounts(samples: number, seed: number): number[] {
  const rng = new Rng(seed);
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    for (let g = 0; g < GENES; g++) values.push(rng.negativeBinomial(g % 3 === i % 3 ? 40 : 4, 4));
  }
  return values;
}

/** A run directory with ingest, normalize, train (no DP, a few epochs) and classify done. */
async function classifiedRun(labels: string[]): Promise<string> {
  const ingest = testContext('ingest');
  const sampleIds = Array.from({ length: SAMPLES }, (_, i) => `s${i}`);
  writeFrame(join(ingest.outputDir, 'obs.arrow'), { sample_id: sampleIds, label: labels });
  writeFrame(join(ingest.outputDir, 'var.arrow'), { gene_id: Array.from({ length: GENES }, (_, j) => `g${j}`) });
  writeTable(join(ingest.outputDir, 'X.arrow'), csrToTable(csrFromDense(SAMPLES, GENES, groupCounts(SAMPLES, 4))));
  await runNormalize(testContext('normalize', ingest.runDir), { ...NORMALIZE_DEFAULTS, minSamplesPerGene: 0 });
  await runTrain(testContext('train', ingest.runDir), {
    ...TRAIN_DEFAULTS,
    hiddenDims: [16],
    latentDim: 3,
    epochs: 30,
    batchSize: 16,
    dp: false,
    likelihood: 'gaussian',
    privacyDir: mkdtempSync(join(tmpdir(), 'genevae-privacy-')),
    backend: 'wasm',
  });
  const classify = testContext('classify', ingest.runDir);
  const result = await runClassify(classify, { ...CLASSIFY_DEFAULTS, repeats: 1, forestTrees: 30, importancePermutations: 0 });
  // The runner writes summary.json; this test calls the stage directly.
  writeFileSync(join(classify.outputDir, 'summary.json'), JSON.stringify({ stage: 'classify', summary: result.summary, warnings: result.warnings }));
  return ingest.runDir;
}

/** A CSV of new samples of the three groups, without gene g4 and with one unknown gene. */
function newCohortCsv(): string {
  const values = groupCounts(12, 9);
  const keep = Array.from({ length: GENES }, (_, j) => j).filter((j) => j !== 4);
  const lines = [['sample_id', ...keep.map((j) => `g${j}`), 'extra_gene'].join(',')];
  for (let i = 0; i < 12; i++) lines.push([`new${i}`, ...keep.map((j) => values[i * GENES + j]), 7].join(','));
  const csv = join(mkdtempSync(join(tmpdir(), 'genevae-predict-')), 'new.csv');
  writeFileSync(csv, lines.join('\n') + '\n');
  return csv;
}

describe('predictCohort', () => {
  it('predicts the groups of new samples', async () => {
    const runDir = await classifiedRun(Array.from({ length: SAMPLES }, (_, i) => `group${i % 3}`));
    const prediction = await predictCohort(runDir, newCohortCsv(), {});
    expect(prediction.sampleIds).toHaveLength(12);
    expect(prediction.classes).toEqual(['group0', 'group1', 'group2']);
    expect(prediction.alignment.missing).toEqual(['g4']);
    expect(prediction.alignment.extra).toEqual(['extra_gene']);
    expect(prediction.seenInTraining?.some(Boolean)).toBe(false);
    expect(predictionTsv(prediction).split('\n')[0]).not.toContain('seen_in_training');
    const correct = prediction.predicted.filter((label, i) => label === `group${i % 3}`).length;
    expect(correct).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < 12; i++) {
      const row = prediction.probabilities.subarray(i * 3, i * 3 + 3);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    const tsv = predictionTsv(prediction).split('\n');
    expect(tsv[0]).toBe('sample_id\tpredicted_label\tp_group0\tp_group1\tp_group2');
  }, 300_000);

  it('scores the predictions against the labels a new cohort comes with', async () => {
    const runDir = await classifiedRun(Array.from({ length: SAMPLES }, (_, i) => `group${i % 3}`));
    const csv = newCohortCsv();
    const metadata = join(mkdtempSync(join(tmpdir(), 'genevae-predict-')), 'labels.csv');
    // new10 has no label and new11 a class the classifier never saw.
    const labels = Array.from({ length: 12 }, (_, i) => `group${i % 3}`);
    labels[10] = '';
    labels[11] = 'group9';
    writeFileSync(metadata, ['sample_id,diagnosis', ...labels.map((label, i) => `new${i},${label}`)].join('\n') + '\n');
    const prediction = await predictCohort(runDir, csv, { metadata, metadataLabelColumn: 'diagnosis' });
    const evaluation = prediction.evaluation!;
    expect(evaluation.scored).toBe(10);
    expect(evaluation.unlabelled).toBe(1);
    expect(evaluation.unknownLabels).toEqual({ group9: 1 });
    const correct = prediction.predicted.slice(0, 10).filter((label, i) => label === labels[i]).length;
    expect(evaluation.scores!.accuracy).toBeCloseTo(correct / 10, 12);
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(10);
    expect(evaluation.perClass.map((c) => c.label)).toEqual(['group0', 'group1', 'group2']);
    const tsv = predictionTsv(prediction).split('\n');
    expect(tsv[0]).toBe('sample_id\tpredicted_label\ttrue_label\tp_group0\tp_group1\tp_group2');
    expect(tsv[11].split('\t')[2]).toBe('');
    expect(tsv[12].split('\t')[2]).toBe('group9');
  }, 300_000);

  it('flags samples seen in training', () => {
    const tsv = predictionTsv({
      sampleIds: ['a', 'b'],
      classes: ['x', 'y'],
      ensemble: 'voting',
      predicted: ['x', 'y'],
      probabilities: Float64Array.from([0.9, 0.1, 0.2, 0.8]),
      alignment: { modelGenes: 1, matched: 1, missing: [], extra: [], missingFraction: 0 },
      warnings: [],
      labels: null,
      evaluation: null,
      seenInTraining: [true, false],
    }).split('\n');
    expect(tsv[0]).toBe('sample_id\tpredicted_label\tseen_in_training\tp_x\tp_y');
    expect(tsv[1].split('\t')[2]).toBe('1');
    expect(tsv[2].split('\t')[2]).toBe('0');
  });

  it('explains a run without a classifier', async () => {
    const runDir = await classifiedRun(Array.from({ length: SAMPLES }, () => 'same'));
    expect(() => readClassifierModel(runDir)).toThrow(InputError);
    expect(() => readClassifierModel(runDir)).toThrow(/classification was skipped/);
  }, 300_000);
});

describe('evaluateHoldout', () => {
  it('scores only samples whose label the classifier knows', () => {
    // Four samples: two a (one predicted b), one b (predicted a) and one of an unknown class c.
    const probabilities = Float64Array.from([0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.5, 0.5]);
    const evaluation = evaluateHoldout(['a', 'a', 'b', 'c'], ['a', 'b'], probabilities);
    expect(evaluation.scored).toBe(3);
    expect(evaluation.unknownLabels).toEqual({ c: 1 });
    expect(evaluation.confusion).toEqual([
      [1, 1],
      [1, 0],
    ]);
    expect(evaluation.scores!.accuracy).toBeCloseTo(1 / 3, 12);
    expect(evaluation.scores!.balancedAccuracy).toBeCloseTo(0.25, 12);
  });

  it('has no scores when no label is known', () => {
    const evaluation = evaluateHoldout([null, 'z'], ['a', 'b'], Float64Array.from([1, 0, 0, 1]));
    expect(evaluation.scored).toBe(0);
    expect(evaluation.unlabelled).toBe(1);
    expect(evaluation.scores).toBeNull();
  });
});
