import { describe, expect, it } from 'vitest';
import { generateDemoCohort } from '../../src/demo/cohort.js';

describe('demo cohort', () => {
  const cohort = generateDemoCohort({ samples: 120, genes: 400, moduleSize: 20 });

  it('is deterministic for a seed', () => {
    const again = generateDemoCohort({ samples: 120, genes: 400, moduleSize: 20 });
    expect(Array.from(again.counts)).toEqual(Array.from(cohort.counts));
    expect(again.labels).toEqual(cohort.labels);
  });

  it('changes with the seed', () => {
    const other = generateDemoCohort({ samples: 120, genes: 400, moduleSize: 20, seed: 1 });
    expect(Array.from(other.counts)).not.toEqual(Array.from(cohort.counts));
  });

  it('has dropout and varying library sizes', () => {
    const zeros = cohort.counts.filter((v) => v === 0).length / cohort.counts.length;
    expect(zeros).toBeGreaterThan(0.2);
    const sizes = cohort.sampleIds.map((_, i) => cohort.counts.subarray(i * 400, (i + 1) * 400).reduce((a, b) => a + b, 0));
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeGreaterThan(2);
  });

  it('raises each module in its own disease', () => {
    for (const [label, genes] of Object.entries(cohort.modules)) {
      let inside = 0;
      let outside = 0;
      let nInside = 0;
      for (let i = 0; i < cohort.sampleIds.length; i++) {
        const total = genes.reduce((s, j) => s + cohort.counts[i * 400 + j], 0);
        if (cohort.labels[i] === label) {
          inside += total;
          nInside++;
        } else outside += total;
      }
      const ratio = inside / nInside / (outside / (cohort.sampleIds.length - nInside));
      expect(ratio, label).toBeGreaterThan(2);
    }
  });
});
