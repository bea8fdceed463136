import type { NormalizeOptions } from '../../pipeline/normalize.js';
import { readFrame, readTable, tableToCsr, writeFrame, writeTable, csrToTable, denseToTable, type Frame } from '../io/arrow.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { columnNonzeroCounts, rowSums, selectColumns, type CsrMatrix } from '../matrix/csr.js';
import { detectInputKind, profileValues, type InputKind, type ValueProfile } from '../preprocess/detect.js';
import { geneDispersion, selectHighlyVariable } from '../preprocess/hvg.js';
import { clipNegative, columnMeanStd, log1p, normalizeTotal, scaleToDense } from '../preprocess/transform.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { InputError } from '../util/errors.js';
import { join } from 'node:path';

/** One normalization step, whether it ran, and why. */
export interface NormalizationStep {
  step: 'filter-genes' | 'clip-negative' | 'library-size' | 'log1p' | 'highly-variable-genes' | 'scale' | 'clip';
  applied: boolean;
  detail: string;
}

export interface NormalizeSummary {
  inputKind: InputKind;
  /** 'detected' when inferred from the values, 'option' when the user set --input-kind. */
  inputKindSource: 'detected' | 'option';
  inputKindReason: string;
  profile: ValueProfile;
  steps: NormalizationStep[];
  nSamples: number;
  genesIn: number;
  genesKept: number;
  nHighlyVariable: number;
  /** Target sum of the library-size normalization, when it ran. */
  targetSum: number | null;
  /** Samples whose values sum to zero; they stay all-zero after normalization. */
  zeroLibrarySamples: string[];
  /** Genes whose values do not vary across samples (kept, but scaled to zero). */
  constantGenes: number;
}

/** Contents of normalization.json: everything needed to apply the same steps to a new cohort. */
export interface NormalizationParameters {
  formatVersion: 1;
  inputKind: InputKind;
  targetSum: number | null;
  clipNegative: boolean;
  log1p: boolean;
  /** Ids of the selected genes, in the column order of X.arrow. */
  geneIds: string[];
  /** Ids of the genes whose sum was each sample's library size (every kept gene), for count input. */
  libraryGeneIds?: string[];
  /** Per selected gene: the centring mean and scaling divisor (1 where the gene is constant). */
  mean: number[];
  std: number[];
  scale: boolean;
  clip: number | null;
}

/**
 * Normalizes the ingested matrix. Reads 01-ingest/{obs,var,X}.arrow and writes:
 * - obs.arrow: sample_id and library_size (sum of the input values). Labels stay in
 *   01-ingest/obs.arrow, so that a change of labels alone never reruns normalization or training;
 * - var.arrow: every gene kept after filtering, with gene_id, symbol (when present),
 *   n_samples_detected, mean, dispersion, dispersion_norm (the 'seurat' statistics) and
 *   highly_variable;
 * - X.arrow: dense `values` FixedSizeList<Float32>[nHVG], the highly variable genes in
 *   var order after log normalization, scaling and clipping;
 * - lognorm.arrow: CSR over all kept genes on the log1p scale (the input itself when it was
 *   already log-transformed), for marker-gene tests;
 * - counts.arrow: CSR raw counts of the highly variable genes, only for count input;
 * - normalization.json: the parameters to apply the same normalization to a new cohort.
 */
export async function runNormalize(ctx: StageContext, options: NormalizeOptions): Promise<StageResult> {
  const warnings: string[] = [];
  const obs = readFrame(ctx.inputPath('ingest', FILES.obs));
  const vars = readFrame(ctx.inputPath('ingest', FILES.var));
  const input = tableToCsr(readTable(ctx.inputPath('ingest', FILES.X)), ctx.inputPath('ingest', FILES.X));
  const sampleIds = obs.sample_id as string[];
  const geneIds = vars.gene_id as string[];
  if (input.nRows === 0 || input.nCols === 0) {
    throw new InputError(`the ingested matrix is empty (${input.nRows} samples x ${input.nCols} genes)`, {
      file: ctx.inputPath('ingest', FILES.X),
    });
  }

  const profile = profileValues(input);
  if (profile.nonFiniteCount > 0) {
    throw new InputError(`${profile.nonFiniteCount} values are infinite or NaN`, { file: ctx.inputPath('ingest', FILES.X) }, 'declare missing values at ingest (--na-values, --missing) or remove them');
  }
  const detected = detectInputKind(profile);
  const inputKind: InputKind = options.inputKind === 'auto' ? detected.kind : options.inputKind;
  const inputKindSource = options.inputKind === 'auto' ? 'detected' : 'option';
  const inputKindReason = options.inputKind === 'auto' ? detected.reason : `set by --input-kind (detection said ${detected.kind}: ${detected.reason})`;
  ctx.log.info(`input holds ${inputKind} values: ${inputKindReason}`);
  if (inputKind === 'counts' && (!profile.allIntegers || profile.negativeCount > 0)) {
    throw new InputError(
      `--input-kind counts was given, but the values include ${profile.negativeCount > 0 ? `${profile.negativeCount} negative values` : 'non-integers'}`,
      { file: ctx.inputPath('ingest', FILES.X) },
      'use --input-kind normalized or log, or leave it at auto',
    );
  }

  const steps: NormalizationStep[] = [];
  const librarySizes = rowSums(input);
  const zeroLibrarySamples = sampleIds.filter((_, r) => librarySizes[r] === 0);
  if (zeroLibrarySamples.length > 0) {
    warnings.push(
      `${zeroLibrarySamples.length} sample(s) have no non-zero value and stay all-zero after normalization: ${preview(zeroLibrarySamples)}`,
    );
  }

  // Filter genes detected in too few samples; they carry no information and break dispersion.
  const detectedIn = columnNonzeroCounts(input);
  const keptGenes: number[] = [];
  for (let j = 0; j < input.nCols; j++) if (detectedIn[j] >= options.minSamplesPerGene) keptGenes.push(j);
  steps.push({
    step: 'filter-genes',
    applied: true,
    detail: `kept ${keptGenes.length} of ${input.nCols} genes non-zero in at least ${options.minSamplesPerGene} sample(s)`,
  });
  if (keptGenes.length === 0) {
    throw new InputError(
      `no gene is non-zero in at least ${options.minSamplesPerGene} samples`,
      { file: ctx.inputPath('ingest', FILES.X) },
      'lower --min-samples-per-gene or check the input',
    );
  }
  // Selecting every column would only copy the matrix, which at 50,000 samples is hundreds of MB.
  const kept = keptGenes.length === input.nCols ? input : selectColumns(input, keptGenes);

  // Bring every input kind to the natural-log scale that the rest of the pipeline expects.
  let logData: CsrMatrix;
  let targetSum: number | null = null;
  let clipNegativeApplied = false;
  if (inputKind === 'counts') {
    targetSum = options.targetSum ?? median(librarySizes.filter((s) => s > 0));
    logData = log1p(normalizeTotal(kept, rowSums(kept), targetSum));
    steps.push({ step: 'clip-negative', applied: false, detail: 'counts are never negative' });
    steps.push({
      step: 'library-size',
      applied: true,
      detail: `each sample scaled to sum to ${targetSum}${options.targetSum === null ? ' (the median library size)' : ''}`,
    });
    steps.push({ step: 'log1p', applied: true, detail: 'natural log of 1 + value' });
  } else if (inputKind === 'normalized') {
    const clipped = clipNegative(kept);
    clipNegativeApplied = clipped.clipped > 0;
    steps.push({
      step: 'clip-negative',
      applied: clipped.clipped > 0,
      detail:
        clipped.clipped > 0
          ? `${clipped.clipped} negative values set to 0 before the log (linear-scale values below 0 are measurement noise)`
          : 'no negative values',
    });
    if (clipped.clipped > 0) {
      warnings.push(`${clipped.clipped} negative values were set to 0 before log1p; the input looks like linear-scale intensities`);
    }
    steps.push({
      step: 'library-size',
      applied: false,
      detail: 'skipped: the values are not counts, so a sample total does not measure sequencing depth',
    });
    logData = log1p(clipped.matrix);
    steps.push({ step: 'log1p', applied: true, detail: 'natural log of 1 + value (the input is on a linear scale)' });
  } else {
    logData = kept;
    steps.push({ step: 'clip-negative', applied: false, detail: 'skipped: negative values are valid on a log scale' });
    steps.push({ step: 'library-size', applied: false, detail: 'skipped: the input is already normalized and log-transformed' });
    steps.push({ step: 'log1p', applied: false, detail: 'skipped: the input is already on a log scale' });
  }

  const stats = geneDispersion(logData);
  const nTop = Math.min(options.nTopGenes, logData.nCols);
  if (options.nTopGenes > logData.nCols) {
    warnings.push(`${options.nTopGenes} highly variable genes were requested but only ${logData.nCols} genes are kept; using all of them`);
  }
  const hvg = selectHighlyVariable(stats, nTop);
  steps.push({
    step: 'highly-variable-genes',
    applied: nTop < logData.nCols,
    detail:
      nTop < logData.nCols
        ? `top ${nTop} genes by dispersion normalized within mean bins (scanpy's 'seurat' flavour)`
        : `all ${logData.nCols} genes kept (fewer than the ${options.nTopGenes} requested)`,
  });

  // The sparse outputs are written first, so that their serialized copies are released before
  // the dense matrix exists: each writeTable holds the whole file in memory once.
  if (inputKind === 'counts') writeTable(join(ctx.outputDir, FILES.counts), csrToTable(selectColumns(kept, hvg)));
  writeTable(join(ctx.outputDir, 'lognorm.arrow'), csrToTable(logData));

  // Statistics of every kept gene, then of the selected ones: the same sums in the same order as
  // on the selected columns, without a named copy of them that would outlive the scaling.
  const allGenes = columnMeanStd(logData);
  const mean = Float64Array.from(hvg, (j) => allGenes.mean[j]);
  const std = Float64Array.from(hvg, (j) => allGenes.std[j]);
  let constantGenes = 0;
  for (let j = 0; j < std.length; j++) if (std[j] === 0) constantGenes++;
  if (constantGenes > 0) warnings.push(`${constantGenes} selected gene(s) are constant across samples; they scale to 0`);
  const scaled = scaleToDense(selectColumns(logData, hvg), { mean, std, clip: options.clip }, options.scale);
  steps.push({
    step: 'scale',
    applied: options.scale,
    detail: options.scale ? 'each gene centred to mean 0 and divided by its standard deviation' : 'skipped: --no-scale',
  });
  steps.push({
    step: 'clip',
    applied: options.clip !== null,
    detail: options.clip !== null ? `${scaled.clipped} values clipped to [-${options.clip}, ${options.clip}]` : 'skipped: no clip value',
  });

  const keptIds = keptGenes.map((j) => geneIds[j]);
  const isHvg = new Array<boolean>(keptGenes.length).fill(false);
  for (const j of hvg) isHvg[j] = true;
  const varOut: Frame = { gene_id: keptIds };
  if (vars.symbol) varOut.symbol = keptGenes.map((j) => (vars.symbol as (string | null)[])[j]);
  varOut.n_samples_detected = Int32Array.from(keptGenes, (j) => detectedIn[j]);
  varOut.mean = stats.mean;
  varOut.dispersion = stats.dispersion;
  varOut.dispersion_norm = stats.dispersionNorm;
  varOut.highly_variable = isHvg;
  writeFrame(join(ctx.outputDir, FILES.var), varOut);

  const obsOut: Frame = { sample_id: sampleIds };
  obsOut.library_size = Float64Array.from(librarySizes);
  writeFrame(join(ctx.outputDir, FILES.obs), obsOut);

  const hvgIds = Array.from(hvg, (j) => keptIds[j]);
  writeTable(join(ctx.outputDir, FILES.X), denseToTable(scaled.matrix, 'values', undefined, { 'genevae.genes': 'highly_variable' }));

  const parameters: NormalizationParameters = {
    formatVersion: 1,
    inputKind,
    targetSum,
    clipNegative: clipNegativeApplied || inputKind === 'normalized',
    log1p: inputKind !== 'log',
    geneIds: hvgIds,
    ...(inputKind === 'counts' && { libraryGeneIds: keptIds }),
    mean: Array.from(mean),
    std: Array.from(std, (s) => (s > 0 ? s : 1)),
    scale: options.scale,
    clip: options.clip,
  };
  writeJsonAtomic(join(ctx.outputDir, 'normalization.json'), parameters);

  const summary: NormalizeSummary = {
    inputKind,
    inputKindSource,
    inputKindReason,
    profile,
    steps,
    nSamples: input.nRows,
    genesIn: input.nCols,
    genesKept: keptGenes.length,
    nHighlyVariable: hvg.length,
    targetSum,
    zeroLibrarySamples,
    constantGenes,
  };
  return { summary: summary as unknown as Record<string, unknown>, warnings };
}

function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return 1;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function preview(items: string[], limit = 5): string {
  return items.slice(0, limit).join(', ') + (items.length > limit ? `, … (${items.length - limit} more)` : '');
}
