import { Rng } from '../util/rng.js';
import { writeFileAtomic } from '../io/atomic.js';

/** Parameters of the synthetic demo cohort. */
export interface DemoCohortOptions {
  /** Samples (rows). Default 600. */
  samples: number;
  /** Genes (columns). Default 2,500, more than normalize's 2,000 highly variable genes, as in real data. */
  genes: number;
  /** Disease labels; the first is the healthy reference without a module of its own. Default four labels. */
  labels: string[];
  /** Genes in each disease module. Default 40. */
  moduleSize: number;
  /** Mean multiplier of module genes in their disease (log2 fold change = log2 of this). Default 4. */
  foldChange: number;
  /** Standard deviation of the log library-size factor. Default 0.5. */
  librarySizeSd: number;
  /** Inverse dispersion of the negative binomial (variance = mu + mu^2 / theta). Default 5. */
  theta: number;
  /** Seed of every random choice. Default 0. */
  seed: number;
}

export const DEMO_COHORT_DEFAULTS: DemoCohortOptions = {
  samples: 600,
  genes: 2_500,
  labels: ['healthy', 'inflammatory', 'fibrotic', 'proliferative'],
  moduleSize: 40,
  foldChange: 4,
  librarySizeSd: 0.5,
  theta: 5,
  seed: 0,
};

export interface DemoCohort {
  sampleIds: string[];
  geneIds: string[];
  labels: string[];
  /** Counts, row-major samples x genes. */
  counts: Int32Array;
  /** Gene indices of each disease's module, keyed by label. */
  modules: Record<string, number[]>;
}

/**
 * Generates negative-binomial counts with log-normal gene means, varying library sizes and
 * dropout that is stronger for lowly expressed genes. Each non-reference label raises its own
 * module of genes by `foldChange`, and a shared interferon-like module is raised in two
 * labels, so clusters and classifiers have real but imperfect structure to find.
 */
export function generateDemoCohort(options: Partial<DemoCohortOptions> = {}): DemoCohort {
  const o = { ...DEMO_COHORT_DEFAULTS, ...options };
  if (o.labels.length < 2) throw new Error('the demo cohort needs at least two labels');
  if ((o.labels.length) * o.moduleSize > o.genes) {
    throw new Error(`${o.labels.length} modules of ${o.moduleSize} genes do not fit in ${o.genes} genes`);
  }
  const rng = new Rng(o.seed);
  const geneRng = rng.fork('genes');
  const sampleRng = rng.fork('samples');

  const geneIds = Array.from({ length: o.genes }, (_, j) => `GENE${String(j + 1).padStart(5, '0')}`);
  // Log-normal baseline means: most genes low, a few very high, as in RNA-seq.
  const baseMean = Float64Array.from({ length: o.genes }, () => Math.exp(geneRng.normal(0.5, 1.3)));

  const order = Array.from(geneRng.permutation(o.genes));
  const modules: Record<string, number[]> = {};
  o.labels.slice(1).forEach((label, i) => {
    modules[label] = order.slice(i * o.moduleSize, (i + 1) * o.moduleSize);
  });
  const sharedStart = (o.labels.length - 1) * o.moduleSize;
  const shared = order.slice(sharedStart, sharedStart + o.moduleSize);
  const sharedLabels = new Set(o.labels.slice(1, 3));
  // Module genes need enough baseline expression for the signal to survive dropout.
  for (const genes of [...Object.values(modules), shared]) for (const j of genes) baseMean[j] = Math.max(baseMean[j], 2);

  const sampleIds = Array.from({ length: o.samples }, (_, i) => `S${String(i + 1).padStart(5, '0')}`);
  const labels = sampleIds.map((_, i) => o.labels[i % o.labels.length]);
  sampleRng.shuffle(labels);
  const counts = new Int32Array(o.samples * o.genes);
  const multiplier = new Float64Array(o.genes);
  for (let i = 0; i < o.samples; i++) {
    multiplier.fill(1);
    const label = labels[i];
    // Disease severity varies per patient, so modules are raised by different amounts.
    const severity = Math.exp(sampleRng.normal(0, 0.3));
    for (const j of modules[label] ?? []) multiplier[j] = o.foldChange * severity;
    if (sharedLabels.has(label)) for (const j of shared) multiplier[j] *= o.foldChange / 2;
    const sizeFactor = Math.exp(sampleRng.normal(0, o.librarySizeSd));
    for (let j = 0; j < o.genes; j++) {
      const mu = baseMean[j] * multiplier[j] * sizeFactor;
      // Dropout: the chance of a technical zero falls with expression, as in droplet data.
      const dropout = 1 / (1 + Math.exp(1.5 * (Math.log(mu) + 0.5)));
      counts[i * o.genes + j] = sampleRng.uniform() < dropout ? 0 : sampleRng.negativeBinomial(mu, o.theta);
    }
  }
  return { sampleIds, geneIds, labels, counts, modules };
}

/** Writes the cohort as a samples x genes CSV with a `sample_id` and a `disease` column. */
export function writeDemoCohortCsv(path: string, cohort: DemoCohort): void {
  const lines: string[] = [['sample_id', 'disease', ...cohort.geneIds].join(',')];
  const g = cohort.geneIds.length;
  for (let i = 0; i < cohort.sampleIds.length; i++) {
    const row = Array.from(cohort.counts.subarray(i * g, (i + 1) * g));
    lines.push(`${cohort.sampleIds[i]},${cohort.labels[i]},${row.join(',')}`);
  }
  writeFileAtomic(path, lines.join('\n') + '\n');
}
