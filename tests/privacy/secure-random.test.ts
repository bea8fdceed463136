import { describe, expect, it } from 'vitest';
import { SecureRandom } from '../../src/privacy/secure-random.js';
import { logNormalCdf } from '../../src/privacy/normal.js';

/** Kolmogorov-Smirnov distance between a sample and the N(0, std^2) CDF. */
function ksDistance(values: Float32Array, std: number): number {
  const sorted = Float64Array.from(values).sort();
  let distance = 0;
  for (let i = 0; i < sorted.length; i++) {
    const cdf = Math.exp(logNormalCdf(sorted[i] / std));
    distance = Math.max(distance, Math.abs(cdf - i / sorted.length), Math.abs(cdf - (i + 1) / sorted.length));
  }
  return distance;
}

describe('SecureRandom.fillGaussian', () => {
  it('has standard deviation std', () => {
    const random = SecureRandom.fromSystem();
    const values = new Float32Array(1_000_000);
    random.fillGaussian(values, 2.5);
    let sum = 0;
    let squares = 0;
    for (const v of values) {
      sum += v;
      squares += v * v;
    }
    const mean = sum / values.length;
    const std = Math.sqrt(squares / values.length - mean * mean);
    // Standard errors: 2.5 / sqrt(1e6) = 0.0025 for the mean, 2.5 / sqrt(2e6) = 0.0018 for the std.
    expect(Math.abs(mean)).toBeLessThan(0.0125);
    expect(Math.abs(std - 2.5)).toBeLessThan(0.009);
  });

  it('passes a Kolmogorov-Smirnov test', () => {
    const values = new Float32Array(200_000);
    SecureRandom.fromSystem().fillGaussian(values, 1);
    // Critical value at significance 0.001 is 1.95 / sqrt(n).
    expect(ksDistance(values, 1)).toBeLessThan(1.95 / Math.sqrt(values.length));
  });

  it('fills an odd length', () => {
    const values = new Float32Array(3).fill(Number.NaN);
    SecureRandom.fromSystem().fillGaussian(values, 1);
    expect(values.every(Number.isFinite)).toBe(true);
  });

  it('fills zeros for std 0', () => {
    const values = new Float32Array(4).fill(7);
    SecureRandom.fromSystem().fillGaussian(values, 0);
    expect(values.every((v) => v === 0)).toBe(true);
  });

  it('measures the time per million values', () => {
    const random = SecureRandom.fromSystem();
    const values = new Float32Array(1_000_000);
    random.fillGaussian(values, 1);
    const rounds = 5;
    const started = performance.now();
    for (let r = 0; r < rounds; r++) random.fillGaussian(values, 1);
    const msPerMillion = (performance.now() - started) / rounds;
    console.log(`SecureRandom.fillGaussian: ${msPerMillion.toFixed(1)} ms per million values`);
    expect(msPerMillion).toBeGreaterThan(0);
  });
});

describe('SecureRandom.poissonBatch', () => {
  it('includes each index with probability q', () => {
    const random = SecureRandom.fromSystem();
    const n = 200;
    const q = 0.1;
    const rounds = 20_000;
    const counts = new Float64Array(n);
    const sizes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const batch = random.poissonBatch(n, q);
      sizes.push(batch.length);
      for (const i of batch) counts[i]++;
    }
    // Each count is Binomial(20000, 0.1): sd 42.4; 6 sd is a generous band over 200 indices.
    for (let i = 0; i < n; i++) expect(Math.abs(counts[i] - rounds * q), `index ${i}`).toBeLessThan(6 * 42.4);
    const mean = sizes.reduce((a, b) => a + b, 0) / rounds;
    const variance = sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / rounds;
    // Batch size is Binomial(200, 0.1): mean 20, variance 18; fixed-size batches would give variance 0.
    expect(Math.abs(mean - 20)).toBeLessThan(0.2);
    expect(Math.abs(variance - 18)).toBeLessThan(1.5);
  });

  it('includes pairs independently', () => {
    const random = SecureRandom.fromSystem();
    let both = 0;
    const rounds = 100_000;
    for (let r = 0; r < rounds; r++) {
      const batch = random.poissonBatch(10, 0.3);
      if (batch.includes(3) && batch.includes(4)) both++;
    }
    // P(both) = 0.09 with sd sqrt(0.09 * 0.91 / 1e5) = 0.0009.
    expect(Math.abs(both / rounds - 0.09)).toBeLessThan(0.005);
  });

  it('returns sorted unique indices', () => {
    const batch = SecureRandom.fromSystem().poissonBatch(10_000, 0.05);
    for (let i = 1; i < batch.length; i++) expect(batch[i]).toBeGreaterThan(batch[i - 1]);
  });

  it('allows an empty batch', () => {
    const random = SecureRandom.fromSystem();
    let empty = 0;
    for (let r = 0; r < 2000; r++) if (random.poissonBatch(5, 0.2).length === 0) empty++;
    // P(empty) = 0.8^5 = 0.328.
    expect(empty).toBeGreaterThan(500);
  });

  it('returns every index at q = 1', () => {
    expect(Array.from(SecureRandom.fromSystem().poissonBatch(4, 1))).toEqual([0, 1, 2, 3]);
  });

  it('returns no index at q = 0', () => {
    expect(SecureRandom.fromSystem().poissonBatch(4, 0).length).toBe(0);
  });

  it('rejects a sampling rate above 1', () => {
    expect(() => SecureRandom.fromSystem().poissonBatch(4, 1.5)).toThrow(/sampling rate/);
  });
});

describe('SecureRandom sources', () => {
  it('differs between system instances', () => {
    const a = new Float32Array(8);
    const b = new Float32Array(8);
    SecureRandom.fromSystem().fillGaussian(a, 1);
    SecureRandom.fromSystem().fillGaussian(b, 1);
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('repeats for the same test seed', () => {
    const a = new Float32Array(8);
    const b = new Float32Array(8);
    SecureRandom.insecureForTests(7).fillGaussian(a, 1);
    SecureRandom.insecureForTests(7).fillGaussian(b, 1);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('differs between test seeds', () => {
    const a = SecureRandom.insecureForTests(1).poissonBatch(1000, 0.5);
    const b = SecureRandom.insecureForTests(2).poissonBatch(1000, 0.5);
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('marks only the test stream insecure', () => {
    expect(SecureRandom.fromSystem().insecure).toBe(false);
    expect(SecureRandom.insecureForTests(1).insecure).toBe(true);
  });

  it('draws uniforms in [0, 1)', () => {
    const random = SecureRandom.fromSystem();
    for (let i = 0; i < 10_000; i++) {
      const u = random.uniform();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});
