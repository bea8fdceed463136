import { existsSync, readFileSync } from 'node:fs';
import type { TrainOptions } from '../../pipeline/train.js';
import { readFrame, readTable, tableToCsr } from '../io/arrow.js';
import { selectColumns } from '../matrix/csr.js';
import type { DenseMatrix } from '../matrix/dense.js';
import { isCountLikelihood, type Likelihood } from '../model/config.js';
import { countStatistics, type TrainingData } from '../model/data.js';
import { selectDenseColumns, topDispersionColumns } from '../model/gene-subset.js';
import { readDenseColumn } from '../model/input.js';
import type { Architecture } from '../model/plan.js';
import type { SavedNormalization } from '../model/saved.js';
import { FILES } from '../run/layout.js';
import type { StageContext } from '../run/stage.js';
import { InputError } from '../util/errors.js';

/** Normalize's outputs, before the model's genes are chosen. */
export interface NormalizedInputs {
  sampleIds: string[];
  normalization: SavedNormalization;
  /** X over every highly variable gene, in var order; usually a view into the file's bytes. */
  x: DenseMatrix;
  /** Whether normalize kept raw counts (counts.arrow). */
  hasCounts: boolean;
}

/** The matrices the model trains on: its genes only. */
export interface ModelInputs {
  geneIds: string[];
  /** The normalization restricted to the model's genes, saved with the model for `genevae encode`. */
  normalization: SavedNormalization;
  data: TrainingData;
}

/** Reads normalization.json, obs.arrow and X.arrow from the normalize stage and checks that they agree. */
export function loadNormalizedInputs(ctx: StageContext): NormalizedInputs {
  const normalizationPath = ctx.inputPath('normalize', 'normalization.json');
  if (!existsSync(normalizationPath)) {
    throw new InputError('normalization.json not found', { file: normalizationPath }, "run 'genevae normalize' on this run directory first");
  }
  const normalization = JSON.parse(readFileSync(normalizationPath, 'utf8')) as SavedNormalization;
  const obsPath = ctx.inputPath('normalize', FILES.obs);
  const sampleIds = (readFrame(obsPath).sample_id as (string | null)[]).map(String);
  const xPath = ctx.inputPath('normalize', FILES.X);
  const x = readDenseColumn(xPath, 'values');
  if (x.nRows !== sampleIds.length) {
    throw new InputError(`X has ${x.nRows} rows but obs has ${sampleIds.length} samples`, { file: xPath }, 'rerun normalize');
  }
  if (x.nCols !== normalization.geneIds.length) {
    throw new InputError(`X has ${x.nCols} columns but normalization.json lists ${normalization.geneIds.length} genes`, { file: xPath }, 'rerun normalize');
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) {
      throw new InputError(`value ${x.data[i]} is not finite`, { file: xPath, sample: sampleIds[Math.floor(i / x.nCols)], gene: normalization.geneIds[i % x.nCols] }, 'rerun normalize');
    }
  }
  return { sampleIds, normalization, x, hasCounts: existsSync(ctx.inputPath('normalize', FILES.counts)) };
}

/** Resolves the likelihood: the compact model's Gaussian, or the user's choice, or 'auto' by input kind. */
export function resolveLikelihood(
  option: TrainOptions['likelihood'],
  architecture: Architecture,
  hasCounts: boolean,
  countsPath: string,
): { likelihood: Likelihood; reason: string } {
  if (architecture === 'compact') {
    if (option !== 'auto' && option !== 'gaussian') {
      throw new InputError(
        `the compact model has a Gaussian likelihood, so --likelihood ${option} does not apply`,
        {},
        'leave --likelihood at auto, or use --architecture standard for a count likelihood',
      );
    }
    return { likelihood: 'gaussian', reason: 'the compact model is a Gaussian model of the standardized values' };
  }
  if (option === 'auto') {
    return hasCounts
      ? { likelihood: 'nb', reason: 'auto: the input holds raw counts, so a negative binomial on the counts' }
      : { likelihood: 'gaussian', reason: 'auto: the input is not counts, so a Gaussian on the normalized values' };
  }
  if (isCountLikelihood(option) && !hasCounts) {
    throw new InputError(
      `likelihood '${option}' needs raw counts, but normalize found no count input`,
      { file: countsPath },
      "use --likelihood gaussian, or --input-kind counts at normalize if the values are counts",
    );
  }
  return { likelihood: option, reason: 'set by --likelihood' };
}

/**
 * Restricts the inputs to the model's `genes` most variable genes (all when `genes` is every
 * gene) and loads raw counts for count likelihoods.
 */
export function modelInputs(ctx: StageContext, inputs: NormalizedInputs, genes: number, likelihood: Likelihood): ModelInputs {
  const { x, normalization } = inputs;
  const subset = genes < x.nCols ? modelGeneColumns(ctx, normalization.geneIds, genes) : null;
  const matrix = subset ? selectDenseColumns(x, subset) : x;
  const restricted = subset ? subsetNormalization(normalization, subset) : normalization;

  let counts = null;
  let statistics = null;
  if (isCountLikelihood(likelihood)) {
    const countsPath = ctx.inputPath('normalize', FILES.counts);
    counts = tableToCsr(readTable(countsPath), countsPath);
    if (counts.nRows !== x.nRows || counts.nCols !== x.nCols) {
      throw new InputError(`counts are ${counts.nRows} x ${counts.nCols} but X is ${x.nRows} x ${x.nCols}`, { file: countsPath }, 'rerun normalize');
    }
    if (subset) counts = selectColumns(counts, subset);
    statistics = countStatistics(counts);
  }
  return {
    geneIds: restricted.geneIds,
    normalization: restricted,
    data: {
      nSamples: matrix.nRows,
      nGenes: matrix.nCols,
      x: matrix.data,
      counts,
      logLibrary: statistics?.logLibrary ?? null,
      logFactorialSum: statistics?.logFactorialSum ?? null,
    },
  };
}

/**
 * Columns of X for a model of `count` genes: the highly variable genes that rank highest by
 * normalize's normalized dispersion in 02-normalize/var.arrow.
 */
function modelGeneColumns(ctx: StageContext, geneIds: string[], count: number): Int32Array {
  const varPath = ctx.inputPath('normalize', FILES.var);
  const genes = readFrame(varPath);
  const flags = genes.highly_variable as ArrayLike<boolean | null> | undefined;
  const dispersion = genes.dispersion_norm as ArrayLike<number | null> | undefined;
  if (!flags || !dispersion) {
    throw new InputError('var.arrow has no highly_variable or dispersion_norm column', { file: varPath }, 'rerun normalize, or set --model-genes 0 to use every gene');
  }
  const ids = (genes.gene_id as (string | null)[]).filter((_, j) => flags[j]).map(String);
  if (ids.length !== geneIds.length || ids.some((id, j) => id !== geneIds[j])) {
    throw new InputError('the highly variable genes in var.arrow differ from the genes of normalization.json', { file: varPath }, 'rerun normalize');
  }
  const ranked = Float64Array.from(Array.from(dispersion).filter((_, j) => flags[j]), (v) => (v === null ? Number.NaN : v));
  return topDispersionColumns(ranked, count);
}

/** Restricts the normalization to the model's genes, so that `genevae encode` aligns and scales only those. */
function subsetNormalization(normalization: SavedNormalization, columns: Int32Array): SavedNormalization {
  const pick = <T>(values: T[]) => Array.from(columns, (j) => values[j]);
  return { ...normalization, geneIds: pick(normalization.geneIds), mean: pick(normalization.mean), std: pick(normalization.std) };
}
