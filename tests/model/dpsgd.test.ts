import { describe, expect, it } from 'vitest';
import { noisyAverage, privatizeGradients, drawNoise } from '../../src/model/dpsgd.js';
import { ParameterSet } from '../../src/model/parameters.js';
import { SecureRandom } from '../../src/privacy/secure-random.js';

const SPECS = [
  { name: 'a.weight', shape: [300, 400] },
  { name: 'a.bias', shape: [400] },
  { name: 'b', shape: [80_000] },
];

function moments(values: Float32Array[]): { mean: number; std: number; n: number } {
  let n = 0;
  let sum = 0;
  let squares = 0;
  for (const array of values) {
    for (const v of array) {
      n++;
      sum += v;
      squares += v * v;
    }
  }
  const mean = sum / n;
  return { mean, std: Math.sqrt(squares / n - mean * mean), n };
}

describe('DP-SGD noise', () => {
  const parameters = new ParameterSet(SPECS);
  const noiseMultiplier = 1.3;
  const clipNorm = 0.7;
  const expectedBatch = 50;

  it('has standard deviation sigma times C', () => {
    const dp = { clipNorm, noiseMultiplier, samplingRate: 0.1, random: SecureRandom.insecureForTests(11) };
    const update = privatizeGradients(parameters, null, dp, expectedBatch, new Map());
    const noise = [...update.values()].map((values) => values.map((v) => v * expectedBatch));
    const { mean, std, n } = moments(noise);
    const expected = noiseMultiplier * clipNorm;
    // The sample standard deviation of n normal draws has standard error sigma / sqrt(2n);
    // the mean has sigma / sqrt(n). Five standard errors keep false alarms below 1e-6.
    expect(Math.abs(std - expected)).toBeLessThan((5 * expected) / Math.sqrt(2 * n));
    expect(Math.abs(mean)).toBeLessThan((5 * expected) / Math.sqrt(n));
  });

  it('adds the noise to the clipped sum over the expected batch', () => {
    const dp = { clipNorm, noiseMultiplier, samplingRate: 0.1, random: SecureRandom.insecureForTests(12) };
    const noise = new Map([...drawNoise(parameters, dp, new Map())].map(([name, values]) => [name, values.slice()]));
    const sums = new Map(SPECS.map((spec) => [spec.name, new Float32Array(parameters.get(spec.name).length).fill(2)]));
    const update = noisyAverage(parameters, sums, noise, expectedBatch);
    const first = update.get('b')!;
    expect(first[0]).toBeCloseTo((2 + noise.get('b')![0]) / expectedBatch, 6);
    expect(first[1]).toBeCloseTo((2 + noise.get('b')![1]) / expectedBatch, 6);
  });

  it('draws fresh noise every step', () => {
    const dp = { clipNorm, noiseMultiplier, samplingRate: 0.1, random: SecureRandom.insecureForTests(13) };
    const buffers = new Map<string, Float32Array>();
    const first = drawNoise(parameters, dp, buffers).get('a.bias')!.slice();
    const second = drawNoise(parameters, dp, buffers).get('a.bias')!;
    expect(Array.from(second)).not.toEqual(Array.from(first));
  });
});
