/** Options of the normalize stage: library-size normalization, log1p, gene selection and scaling. */
export interface NormalizeOptions {
  /**
   * What the input holds. 'auto' inspects every value: non-negative integers are counts,
   * negative values or a maximum below 30 mean log scale, other non-integers mean normalized
   * linear values. Default 'auto'.
   */
  inputKind: 'auto' | 'counts' | 'normalized' | 'log';
  /** Counts per sample after library-size normalization; null uses the median library size. Default 10,000. */
  targetSum: number | null;
  /** Number of highly variable genes to keep (all genes when there are fewer). Default 2,000. */
  nTopGenes: number;
  /** Drop genes detected (non-zero) in fewer samples than this before gene selection. Default 1. */
  minSamplesPerGene: number;
  /** Scale each gene to zero mean and unit variance. Default true. */
  scale: boolean;
  /** Clip scaled values to [-clip, clip]; null for no clipping. Default 10 (as scanpy's max_value). */
  clip: number | null;
}

export const NORMALIZE_DEFAULTS: NormalizeOptions = {
  inputKind: 'auto',
  targetSum: 10_000,
  nTopGenes: 2_000,
  minSamplesPerGene: 1,
  scale: true,
  clip: 10,
};
