import type { ParameterSet } from './parameters.js';

/**
 * Randomness of DP-SGD: Poisson sampling and Gaussian noise. It must come from a
 * cryptographically secure source, never from the run seed, because a recorded seed would
 * let anyone replay the sampling and subtract the noise. `SecureRandom` implements it.
 */
export interface DpRandomSource {
  /** Indices in [0, n) of the examples that join this step, each independently with probability q. */
  poissonBatch(n: number, q: number): Int32Array;
  /** Fills `out` with independent N(0, std²) samples. */
  fillGaussian(out: Float32Array, std: number): void;
}

/** DP-SGD settings, resolved before training (sigma calibrated for the planned steps). */
export interface DpSettings {
  clipNorm: number;
  noiseMultiplier: number;
  samplingRate: number;
  random: DpRandomSource;
}

/**
 * Draws N(0, (sigma·C)²) noise for every parameter into `buffers` (one array per parameter,
 * reused across steps). It needs no gradient, so a caller can draw it while workers compute.
 */
export function drawNoise(parameters: ParameterSet, dp: DpSettings, buffers: Map<string, Float32Array>): Map<string, Float32Array> {
  const std = dp.noiseMultiplier * dp.clipNorm;
  for (const spec of parameters.specs) {
    let noise = buffers.get(spec.name);
    if (!noise) {
      noise = new Float32Array(parameters.get(spec.name).length);
      buffers.set(spec.name, noise);
    }
    dp.random.fillGaussian(noise, std);
  }
  return buffers;
}

/**
 * Computes the DP-SGD update direction (Σ_i clip(g_i) + noise) / (q·n) in place of the sums.
 * `sums` is null for an empty Poisson batch, which still gets the noise. Dividing by the
 * expected batch size q·n rather than the realised one keeps the sensitivity of the released
 * average at C / (q·n) whatever batch was sampled, as the accountant assumes.
 */
export function noisyAverage(
  parameters: ParameterSet,
  sums: Map<string, Float32Array> | null,
  noise: Map<string, Float32Array>,
  expectedBatch: number,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const spec of parameters.specs) {
    const size = parameters.get(spec.name).length;
    const gradient = sums?.get(spec.name) ?? new Float32Array(size);
    const draw = noise.get(spec.name)!;
    for (let i = 0; i < size; i++) gradient[i] = (gradient[i] + draw[i]) / expectedBatch;
    out.set(spec.name, gradient);
  }
  return out;
}

/** drawNoise followed by noisyAverage: one DP-SGD update direction. */
export function privatizeGradients(
  parameters: ParameterSet,
  sums: Map<string, Float32Array> | null,
  dp: DpSettings,
  expectedBatch: number,
  buffers: Map<string, Float32Array>,
): Map<string, Float32Array> {
  return noisyAverage(parameters, sums, drawNoise(parameters, dp, buffers), expectedBatch);
}
