import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/model/backend.js';
import type { VaeConfig } from '../../src/model/config.js';
import type { TrainingData } from '../../src/model/data.js';
import { initParameters } from '../../src/model/parameters.js';
import {
  klWeightAt,
  localEngine,
  stepsPerEpoch,
  train,
  type GradientEngine,
  type TrainerSettings,
} from '../../src/model/trainer.js';
import { VaeModel } from '../../src/model/vae.js';
import { Rng } from '../../src/util/rng.js';
import { seededDpRandom, smallConfig, syntheticCohort, withoutCounts } from './synthetic.js';

await initBackend('wasm');

const cohort = syntheticCohort(120, 24);
const gaussianData = withoutCounts(cohort.data);
const rows = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);

const SETTINGS: TrainerSettings = {
  epochs: 4,
  batchSize: 32,
  learningRate: 3e-3,
  klWarmupFraction: 0.5,
  beta: 1,
  selectOnValidation: true,
  earlyStoppingPatience: 0,
  dp: null,
};

async function trainOnce(config: VaeConfig, data: TrainingData, settings: TrainerSettings, seed = 3) {
  const { layout, parameters } = initParameters(config, new Rng(seed).fork('init'));
  const model = new VaeModel(config, layout, parameters);
  const numTensors: number[] = [];
  const result = await train(localEngine(model), config, parameters, data, rows(0, 100), rows(100, 120), settings, {
    rng: new Rng(seed),
    onEpoch: () => numTensors.push(tf.memory().numTensors),
  });
  const latent = model.encodeMeans(data.x, data.nSamples);
  model.dispose();
  return { result, latent, numTensors, parameters };
}

describe('train', () => {
  it('lowers the validation loss', async () => {
    const { result } = await trainOnce(smallConfig(24), gaussianData, { ...SETTINGS, epochs: 15, klWarmupFraction: 0 });
    const first = result.history[0].validationLoss!;
    const last = result.history[result.history.length - 1].validationLoss!;
    expect(last).toBeLessThan(first);
  });

  it('repeats latents exactly without DP', async () => {
    const a = await trainOnce(smallConfig(24), gaussianData, SETTINGS);
    const b = await trainOnce(smallConfig(24), gaussianData, SETTINGS);
    expect(Array.from(b.latent)).toEqual(Array.from(a.latent));
  });

  it('keeps the tensor count flat across epochs', async () => {
    const dp = { clipNorm: 1, noiseMultiplier: 1, samplingRate: 0.3, random: seededDpRandom(5) };
    const { numTensors } = await trainOnce(smallConfig(24, { prior: 'mixture', mixtureComponents: 3 }), gaussianData, { ...SETTINGS, dp });
    expect(new Set(numTensors).size).toBe(1);
  });

  it('takes noise-only steps on empty Poisson batches', async () => {
    const dp = { clipNorm: 1, noiseMultiplier: 1, samplingRate: 0.3, random: seededDpRandom(5, { empty: true }) };
    const before = initParameters(smallConfig(24), new Rng(3).fork('init')).parameters;
    const { result, parameters } = await trainOnce(smallConfig(24), gaussianData, { ...SETTINGS, dp });
    expect(result.stepsTaken).toBe(result.plannedSteps);
    expect(result.history.every((record) => record.meanBatchSize === 0)).toBe(true);
    const moved = parameters.get('decoder.head.bias').some((v, i) => v !== before.get('decoder.head.bias')[i]);
    expect(moved).toBe(true);
    expect(parameters.get('decoder.head.bias').every(Number.isFinite)).toBe(true);
  });

  it('trains the tied model with DP', async () => {
    const dp = { clipNorm: 1, noiseMultiplier: 0.5, samplingRate: 0.3, random: seededDpRandom(11) };
    const config = smallConfig(24, { hiddenDims: [], dropout: 0, layerNorm: false, decoder: 'tied' });
    const { result, latent } = await trainOnce(config, gaussianData, { ...SETTINGS, dp });
    expect(result.history.every((record) => Number.isFinite(record.trainLoss))).toBe(true);
    expect(latent.every(Number.isFinite)).toBe(true);
    expect(result.clipping!.examples).toBeGreaterThan(0);
    expect(result.clipping!.clipped).toBeLessThanOrEqual(result.clipping!.examples);
    expect(result.clipping!.meanNorm).toBeGreaterThan(0);
  });

  it.each(['nb', 'zinb'] as const)('trains the %s likelihood with DP', async (likelihood) => {
    const dp = { clipNorm: 5, noiseMultiplier: 0.5, samplingRate: 0.3, random: seededDpRandom(9) };
    const { result, latent } = await trainOnce(smallConfig(24, { likelihood }), cohort.data, { ...SETTINGS, dp });
    expect(result.history.every((record) => Number.isFinite(record.trainLoss))).toBe(true);
    expect(latent.every(Number.isFinite)).toBe(true);
    expect(result.history[0].clippedFraction).toBeGreaterThan(0);
  });
});

describe('KL warm-up', () => {
  it.each([40, 400, 40_000])('reaches beta within the run for %i samples', (n) => {
    const perEpoch = stepsPerEpoch(n, 128, true);
    const planned = perEpoch * 20;
    const warmup = Math.round(0.25 * planned);
    expect(klWeightAt(planned, warmup, 0.5)).toBe(0.5);
    expect(klWeightAt(Math.max(1, Math.floor(warmup / 2)), warmup, 0.5)).toBeLessThan(0.5);
  });
});

describe('early stopping', () => {
  /** An engine whose gradients are zero and whose validation losses follow a script. */
  function scriptedEngine(config: VaeConfig, validationLosses: number[]): GradientEngine & { evaluations: number } {
    const sizes = initParameters(config, new Rng(0)).parameters;
    const engine = {
      evaluations: 0,
      async gradients() {
        const sums = new Map([...sizes.values].map(([name, v]) => [name, new Float32Array(v.length)]));
        return { sums, reconstructionSum: 0, klSum: 0, norms: null };
      },
      async losses(batch: { size: number }) {
        const value = validationLosses[Math.min(engine.evaluations++, validationLosses.length - 1)];
        return { reconstruction: new Float32Array(batch.size).fill(value), kl: new Float32Array(batch.size) };
      },
      async upload() {},
    };
    return engine;
  }

  it('stops after patience epochs without improvement', async () => {
    const config = smallConfig(24);
    const engine = scriptedEngine(config, [5, 4, 3, 3.5, 3.6, 3.7, 3.8, 2]);
    const { parameters } = initParameters(config, new Rng(1));
    const result = await train(engine, config, parameters, gaussianData, rows(0, 100), rows(100, 120), {
      ...SETTINGS,
      epochs: 8,
      klWarmupFraction: 0,
      earlyStoppingPatience: 2,
    }, { rng: new Rng(1) });
    expect(result.stoppedEarlyAt).toBe(5);
    expect(result.bestEpoch).toBe(3);
  });

  it('keeps the last weights without selection', async () => {
    const config = smallConfig(24);
    const engine = scriptedEngine(config, [5, 4, 3, 3.5, 3.6, 3.7, 3.8, 2.5]);
    const { parameters } = initParameters(config, new Rng(1));
    const result = await train(engine, config, parameters, gaussianData, rows(0, 100), rows(100, 120), {
      ...SETTINGS,
      epochs: 8,
      klWarmupFraction: 0,
      selectOnValidation: false,
      earlyStoppingPatience: 2,
    }, { rng: new Rng(1) });
    expect(result.stoppedEarlyAt).toBeNull();
    expect(result.bestEpoch).toBe(8);
    // Losses pass through float32 arrays, so compare with float32 values.
    expect(result.history.map((record) => record.validationLoss)).toEqual([5, 4, 3, 3.5, 3.6, 3.7, 3.8, 2.5].map(Math.fround));
  });

  it('does not count warm-up epochs', async () => {
    const config = smallConfig(24);
    const engine = scriptedEngine(config, [5, 6, 7, 8, 9, 10]);
    const { parameters } = initParameters(config, new Rng(1));
    const result = await train(engine, config, parameters, gaussianData, rows(0, 100), rows(100, 120), {
      ...SETTINGS,
      epochs: 6,
      klWarmupFraction: 0.6,
      earlyStoppingPatience: 1,
    }, { rng: new Rng(1) });
    // 4 steps per epoch and 14 warm-up steps: epochs 1-3 end inside the warm-up, so the
    // first epoch that counts is 4 (without the rule training would stop after epoch 2).
    expect(result.stoppedEarlyAt).toBe(4);
  });
});

describe('divergence', () => {
  it('stops with a clear error on a non-finite loss', async () => {
    const config = smallConfig(24);
    const { parameters } = initParameters(config, new Rng(1));
    const sizes = [...parameters.values].map(([name, v]) => [name, new Float32Array(v.length)] as const);
    const engine: GradientEngine = {
      gradients: async () => ({ sums: new Map(sizes.map(([name, v]) => [name, v.slice()])), reconstructionSum: Number.NaN, klSum: 0, norms: null }),
      losses: async (batch) => ({ reconstruction: new Float32Array(batch.size), kl: new Float32Array(batch.size) }),
      upload: async () => {},
    };
    await expect(train(engine, config, parameters, gaussianData, rows(0, 100), rows(100, 120), SETTINGS, { rng: new Rng(1) })).rejects.toThrow(
      /diverged in epoch 1/,
    );
  });
});
