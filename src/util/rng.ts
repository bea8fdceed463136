import { createHash } from 'node:crypto';
import binomial from '@stdlib/random-base-binomial';
import gamma from '@stdlib/random-base-gamma';
import mt19937 from '@stdlib/random-base-mt19937';
import normal from '@stdlib/random-base-normal';
import poisson from '@stdlib/random-base-poisson';

/** Derives a 32-bit seed from a parent seed and a label, so each consumer gets its own stream. */
export function deriveSeed(seed: number, label: string): number {
  const digest = createHash('sha256').update(`${seed}:${label}`).digest();
  // MT19937 rejects a seed of 0, so map it to 1.
  return digest.readUInt32LE(0) || 1;
}

/**
 * Seeded random numbers for everything that must be reproducible (initialisation, splits,
 * synthetic data). Distributions come from @stdlib on one Mersenne Twister stream.
 *
 * NOTE: never use this for DP-SGD batch sampling or noise: a recorded seed would let anyone
 * replay them. Those come from `privacy/secure-random.ts`.
 */
export class Rng {
  private readonly uniformSource: () => number;
  private readonly normalSampler: ReturnType<typeof normal.factory>;
  private readonly gammaSampler: ReturnType<typeof gamma.factory>;
  private readonly poissonSampler: ReturnType<typeof poisson.factory>;
  private readonly binomialSampler: ReturnType<typeof binomial.factory>;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`seed must be an integer in [0, 4294967295], got ${seed}`);
    }
    // The typings omit `normalized`, the generator's uniform [0, 1) output.
    const generator = mt19937.factory({ seed: seed || 1 }) as unknown as { normalized: () => number };
    const uniform = generator.normalized;
    this.uniformSource = uniform;
    this.normalSampler = normal.factory({ prng: uniform });
    this.gammaSampler = gamma.factory({ prng: uniform });
    this.poissonSampler = poisson.factory({ prng: uniform });
    this.binomialSampler = binomial.factory({ prng: uniform });
  }

  /** A new generator whose stream depends only on this seed and `label`. */
  fork(label: string): Rng {
    return new Rng(deriveSeed(this.seed, label));
  }

  /** Uniform on [0, 1). */
  uniform(): number {
    return this.uniformSource();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  normal(mean = 0, sd = 1): number {
    return this.normalSampler(mean, sd);
  }

  /** Gamma with the given shape and rate (mean shape / rate). */
  gamma(shape: number, rate: number): number {
    return this.gammaSampler(shape, rate);
  }

  poisson(mean: number): number {
    return mean <= 0 ? 0 : this.poissonSampler(mean);
  }

  binomial(n: number, p: number): number {
    return this.binomialSampler(n, p);
  }

  /** Negative binomial with mean `mean` and inverse dispersion `theta` (variance mean + mean^2 / theta), as a gamma-Poisson mixture. */
  negativeBinomial(mean: number, theta: number): number {
    if (mean <= 0) return 0;
    return this.poisson(this.gamma(theta, theta / mean));
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = items[i];
      items[i] = items[j];
      items[j] = swap;
    }
    return items;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const order = Array.from({ length: n }, (_, i) => i);
    return Int32Array.from(this.shuffle(order));
  }
}
