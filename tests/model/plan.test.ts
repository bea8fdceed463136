import { describe, expect, it } from 'vitest';
import { COMPACT_AUTO_MAX_SAMPLES, COMPACT_DEFAULTS, LATENT_DIM_DEFAULTS, SECOND_MOMENT_DEFAULTS, STANDARD_SCHEDULE, TRAIN_DEFAULTS } from '../../pipeline/train.js';
import type { VaeConfig } from '../../src/model/config.js';
import {
  noiseToSignal,
  parameterCount,
  resolveArchitecture,
  resolveDpMechanism,
  resolveFitSchedule,
  resolveGenes,
  resolveLatentDim,
  resolveSchedule,
  SECOND_MOMENT_GENE_RULE,
  standardOnlyFlags,
} from '../../src/model/plan.js';

const AUTO = { batchSize: 'auto', epochs: 'auto', learningRate: 'auto', dp: true } as const;

function tiedConfig(genes: number, latentDim = 10): VaeConfig {
  return { nGenes: genes, hiddenDims: [], latentDim, dropout: 0, layerNorm: false, likelihood: 'gaussian', prior: 'normal', mixtureComponents: 1, decoder: 'tied' };
}

describe('resolveArchitecture', () => {
  it('takes compact with DP', () => {
    expect(resolveArchitecture('auto', true, true, 5000).value).toBe('compact');
  });

  it('takes compact without DP for a small cohort', () => {
    const resolved = resolveArchitecture('auto', false, true, COMPACT_AUTO_MAX_SAMPLES);
    expect(resolved.value).toBe('compact');
    expect(resolved.reason).toMatch(/training samples/);
  });

  it('takes standard without DP for a large cohort', () => {
    expect(resolveArchitecture('auto', false, true, COMPACT_AUTO_MAX_SAMPLES + 1).value).toBe('standard');
  });

  it('takes standard without DP when standard options are set', () => {
    const resolved = resolveArchitecture('auto', false, true, 60, ['--hidden-dims']);
    expect(resolved.value).toBe('standard');
    expect(resolved.reason).toMatch(/--hidden-dims/);
  });

  it('keeps compact with DP when standard options are set', () => {
    expect(resolveArchitecture('auto', true, true, 60, ['--hidden-dims']).value).toBe('compact');
  });

  it('takes standard for unscaled input', () => {
    const resolved = resolveArchitecture('auto', true, false, 60);
    expect(resolved.value).toBe('standard');
    expect(resolved.reason).toMatch(/--no-scale/);
    expect(resolveArchitecture('auto', false, false, 60).value).toBe('standard');
  });

  it('keeps an explicit choice', () => {
    expect(resolveArchitecture('standard', true, true, 60).value).toBe('standard');
    expect(resolveArchitecture('compact', false, true, 50_000).value).toBe('compact');
  });
});

describe('standardOnlyFlags', () => {
  it('lists nothing for the defaults', () => {
    expect(standardOnlyFlags(TRAIN_DEFAULTS)).toEqual([]);
  });

  it('names changed standard options and a count likelihood', () => {
    const options = { ...TRAIN_DEFAULTS, hiddenDims: [64, 32], layerNorm: false, likelihood: 'nb' as const };
    expect(standardOnlyFlags(options)).toEqual(['--hidden-dims', '--no-layer-norm', '--likelihood nb']);
  });

  it('ignores a Gaussian likelihood', () => {
    expect(standardOnlyFlags({ ...TRAIN_DEFAULTS, likelihood: 'gaussian' })).toEqual([]);
  });
});

describe('resolveSchedule', () => {
  it('uses full batches for small cohorts', () => {
    const schedule = resolveSchedule(AUTO, 'compact', 57);
    expect(schedule.batchSize).toBe(57);
    expect(schedule.epochs).toBe(COMPACT_DEFAULTS.steps);
    expect(schedule.learningRate).toBe(COMPACT_DEFAULTS.learningRate);
  });

  it('uses half batches for large cohorts', () => {
    const schedule = resolveSchedule(AUTO, 'compact', 10_000);
    expect(schedule.batchSize).toBe(5000);
    expect(schedule.epochs).toBe(COMPACT_DEFAULTS.steps / 2);
  });

  it('uses the minimum batch in between', () => {
    expect(resolveSchedule(AUTO, 'compact', 400).batchSize).toBe(COMPACT_DEFAULTS.minBatchSize);
  });

  it('keeps the standard schedule', () => {
    const schedule = resolveSchedule(AUTO, 'standard', 540);
    expect(schedule).toMatchObject({ batchSize: STANDARD_SCHEDULE.batchSize, epochs: STANDARD_SCHEDULE.epochs, learningRate: STANDARD_SCHEDULE.learningRate });
  });

  it('keeps explicit values', () => {
    const schedule = resolveSchedule({ batchSize: 32, epochs: 7, learningRate: 0.5, dp: true }, 'compact', 540);
    expect(schedule).toMatchObject({ batchSize: 32, epochs: 7, learningRate: 0.5 });
    expect(schedule.reasons).toEqual([]);
  });
});

describe('parameterCount', () => {
  it('counts the tied model', () => {
    // W [genes, d], posterior log-variances [d], gene log-variances [genes].
    expect(parameterCount(tiedConfig(100, 10))).toBe(100 * 10 + 10 + 100);
  });
});

describe('noiseToSignal', () => {
  it('is sigma sqrt(P) over the expected batch', () => {
    expect(noiseToSignal(2, 400, 0.5, 100)).toBeCloseTo((2 * 20) / 50, 12);
  });
});

describe('resolveGenes', () => {
  const ratio = (sigma: number, q: number, n: number) => (genes: number) => noiseToSignal(sigma, parameterCount(tiedConfig(genes)), q, n);

  it('takes the largest count within the target', () => {
    const fit = ratio(3.9, 1, 57);
    const { value } = resolveGenes('auto', 2000, 'compact', fit);
    expect(fit(value)).toBeLessThanOrEqual(COMPACT_DEFAULTS.noiseToSignalTarget);
    expect(fit(value + 1)).toBeGreaterThan(COMPACT_DEFAULTS.noiseToSignalTarget);
  });

  it('caps large cohorts at the maximum', () => {
    expect(resolveGenes('auto', 2000, 'compact', ratio(2.3, 0.5, 5000)).value).toBe(COMPACT_DEFAULTS.maxGenes);
  });

  it('caps at the genes available', () => {
    expect(resolveGenes('auto', 100, 'compact', ratio(2.3, 0.5, 5000)).value).toBe(100);
  });

  it('falls back to the minimum and says so', () => {
    const resolved = resolveGenes('auto', 2000, 'compact', ratio(20, 1, 10));
    expect(resolved.value).toBe(COMPACT_DEFAULTS.minGenes);
    expect(resolved.reason).toMatch(/above the target/);
  });

  it('takes the maximum without DP', () => {
    expect(resolveGenes('auto', 2000, 'compact', () => null).value).toBe(COMPACT_DEFAULTS.maxGenes);
  });

  it('takes every gene for the standard model', () => {
    expect(resolveGenes('auto', 2000, 'standard', () => 100).value).toBe(2000);
  });

  it('keeps an explicit count', () => {
    expect(resolveGenes(50, 2000, 'standard', () => null).value).toBe(50);
    expect(resolveGenes(0, 2000, 'compact', () => null).value).toBe(2000);
    expect(resolveGenes(5000, 2000, 'compact', () => null).value).toBe(2000);
  });
});

describe('resolveLatentDim', () => {
  const genesAt = (sigma: number, q: number, n: number, available = 2000) => (dims: number) =>
    resolveGenes('auto', available, 'compact', (genes) => noiseToSignal(sigma, parameterCount(tiedConfig(genes, dims)), q, n)).value;

  it('keeps an explicit size', () => {
    expect(resolveLatentDim(7, true, genesAt(3.9, 1, 49), 256).value).toBe(7);
  });

  it('takes the usual size without a binding budget', () => {
    expect(resolveLatentDim('auto', false, genesAt(3.9, 1, 49), 256).value).toBe(LATENT_DIM_DEFAULTS.usual);
  });

  it('shrinks when the budget limits the genes', () => {
    const at = genesAt(3.9, 1, 49);
    const { value, reason } = resolveLatentDim('auto', true, at, 256);
    expect(value).toBe(LATENT_DIM_DEFAULTS.budgetLimited);
    expect(at(LATENT_DIM_DEFAULTS.budgetLimited)).toBeGreaterThan(at(LATENT_DIM_DEFAULTS.usual));
    expect(reason).toContain(`to ${at(LATENT_DIM_DEFAULTS.usual)} of 256 genes`);
  });

  it('keeps the usual size when every gene fits', () => {
    expect(resolveLatentDim('auto', true, genesAt(2.3, 0.5, 5000), 256).value).toBe(LATENT_DIM_DEFAULTS.usual);
  });
});

describe('resolveDpMechanism', () => {
  it('takes the second-moment release when DP-SGD would hold the genes down', () => {
    const resolved = resolveDpMechanism('auto', 'compact', 97, 256);
    expect(resolved.value).toBe('second-moment');
    expect(resolved.reason).toMatch(/97 of 256 genes at 10 latent dimensions/);
  });

  it('keeps DP-SGD when it leaves every gene', () => {
    expect(resolveDpMechanism('auto', 'compact', 256, 256).value).toBe('sgd');
    expect(resolveDpMechanism('auto', 'standard', null, 256).value).toBe('sgd');
  });

  it('keeps DP-SGD when a DP-SGD option is set', () => {
    const resolved = resolveDpMechanism('auto', 'compact', 97, 256, 10, ['--clip-norm']);
    expect(resolved.value).toBe('sgd');
    expect(resolved.reason).toMatch(/--clip-norm/);
    expect(() => resolveDpMechanism('second-moment', 'compact', 97, 256, 10, ['--clip-norm'])).toThrow(/--clip-norm applies only to DP-SGD/);
  });

  it('follows the option and refuses the release for the standard model', () => {
    expect(resolveDpMechanism('sgd', 'compact', 10, 256).value).toBe('sgd');
    expect(resolveDpMechanism('second-moment', 'compact', 256, 256).value).toBe('second-moment');
    expect(() => resolveDpMechanism('second-moment', 'standard', null, 256)).toThrow(/compact model/);
  });
});

describe('resolveFitSchedule', () => {
  it('fits every pseudo-sample for the default steps', () => {
    const schedule = resolveFitSchedule({ batchSize: 'auto', epochs: 'auto', learningRate: 'auto' }, 180);
    expect(schedule).toMatchObject({ batchSize: 180, epochs: SECOND_MOMENT_DEFAULTS.fitSteps, learningRate: COMPACT_DEFAULTS.learningRate });
    expect(resolveFitSchedule({ batchSize: 32, epochs: 7, learningRate: 0.1 }, 180)).toMatchObject({ batchSize: 32, epochs: 7, learningRate: 0.1 });
  });
});

describe('resolveGenes with the second-moment rule', () => {
  it('takes the most genes whose relative noise stays within the target', () => {
    const edge = (genes: number) => (2 * 0.5 * Math.sqrt(genes)) / 60;
    const resolved = resolveGenes('auto', 2000, 'compact', edge, SECOND_MOMENT_GENE_RULE);
    expect(edge(resolved.value)).toBeLessThanOrEqual(SECOND_MOMENT_DEFAULTS.noiseEdgeTarget);
    expect(resolved.value === COMPACT_DEFAULTS.maxGenes || edge(resolved.value + 1) > SECOND_MOMENT_DEFAULTS.noiseEdgeTarget).toBe(true);
    expect(resolved.reason).toMatch(/relative noise|limit/);
  });
});
