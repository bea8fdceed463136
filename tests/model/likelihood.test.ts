import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/model/backend.js';
import { digamma, lgamma, lgammaNumber } from '../../src/model/likelihood.js';

await initBackend('wasm');

// Reference values from scipy.special.gammaln and digamma.
const CASES = [
  { x: 0.05, lgamma: 2.9688792011, digamma: -20.4978449913 },
  { x: 0.5, lgamma: 0.5723649429, digamma: -1.963510026 },
  { x: 1, lgamma: 0, digamma: -0.5772156649 },
  { x: 3.7, lgamma: 1.4280723267, digamma: 1.1671535394 },
  { x: 10, lgamma: 12.8018274801, digamma: 2.2517525891 },
  { x: 1234.5, lgamma: 7550.5509010779, digamma: 7.1180162318 },
];

describe('special functions', () => {
  const values = tf.tensor1d(CASES.map((c) => c.x));
  const lgammas = lgamma(values).dataSync();
  const digammas = digamma(values).dataSync();

  it.each(CASES.map((c, i) => ({ ...c, i })))('lgamma at $x', ({ lgamma: expected, i }) => {
    expect(Math.abs(lgammas[i] - expected)).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected)));
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('digamma at $x', ({ digamma: expected, i }) => {
    expect(Math.abs(digammas[i] - expected)).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected)));
  });

  it.each(CASES)('lgammaNumber at $x', ({ x, lgamma: expected }) => {
    expect(lgammaNumber(x)).toBeCloseTo(expected, 6);
  });
});
