import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INGEST_DEFAULTS, type IngestOptions } from '../../pipeline/ingest.js';
import { readFrame, readTable, tableToCsr } from '../io/arrow.js';
import type { CsrMatrix } from '../matrix/csr.js';
import type { DenseMatrix } from '../matrix/dense.js';
import { FILES, STAGE_DIRS } from '../run/layout.js';
import type { StageContext } from '../run/stage.js';
import { runIngest } from '../stages/ingest.js';
import { readLabels } from '../cluster/inputs.js';
import { InputError } from '../util/errors.js';
import { Logger } from '../util/log.js';
import { initBackend, type BackendChoice, type BackendInfo } from './backend.js';
import { loadModel, MODEL_CONFIG_FILE, type SavedNormalization } from './saved.js';
import { samplesSeenInTraining } from './overlap.js';
import { VaeModel } from './vae.js';

/** Fraction of the model's genes missing from a new cohort above which encode warns. */
export const MISSING_GENES_WARNING_FRACTION = 0.1;

/** Result of matching the new cohort's genes to the model's by id. */
export interface GeneAlignment {
  modelGenes: number;
  matched: number;
  /** Model genes absent from the new cohort; they are filled with the training mean (0 after scaling). */
  missing: string[];
  /** Genes of the new cohort the model does not use; they are ignored (but count toward library sizes of counts). */
  extra: string[];
  missingFraction: number;
}

export interface EncodedCohort {
  sampleIds: string[];
  /** Posterior means, [samples, latentDim]. */
  latent: DenseMatrix;
  /** Most probable mixture component per sample, with the mixture prior; else null. */
  priorComponent: Int32Array | null;
  alignment: GeneAlignment;
  backend: BackendInfo;
  warnings: string[];
  /** Known labels of the new samples, when the ingest options name a label column (null per unlabelled sample); else null. */
  labels: (string | null)[] | null;
  /** Samples whose values equal those of a sample the model's run trained on; null when the run's ingest tables are gone. */
  seenInTraining: boolean[] | null;
}

/** Finds the saved model directory of a run directory, or returns the directory itself when it contains a model. */
export function modelDirectory(path: string): string {
  if (existsSync(join(path, MODEL_CONFIG_FILE))) return path;
  const inRun = join(path, STAGE_DIRS.train, 'model');
  if (existsSync(join(inRun, MODEL_CONFIG_FILE))) return inRun;
  throw new InputError(`no saved model in ${path}`, { file: path }, `pass a run directory whose train stage has completed (it contains ${STAGE_DIRS.train}/model/)`);
}

/** Matches the cohort's gene ids to the model's, by exact id. */
export function alignGenes(modelGenes: readonly string[], cohortGenes: readonly string[]): { alignment: GeneAlignment; columnOf: Int32Array } {
  const position = new Map(cohortGenes.map((gene, j) => [gene, j]));
  const columnOf = Int32Array.from(modelGenes, (gene) => position.get(gene) ?? -1);
  const used = new Set(modelGenes);
  const missing = modelGenes.filter((_, g) => columnOf[g] < 0);
  const extra = cohortGenes.filter((gene) => !used.has(gene));
  return {
    alignment: {
      modelGenes: modelGenes.length,
      matched: modelGenes.length - missing.length,
      missing,
      extra,
      missingFraction: modelGenes.length > 0 ? missing.length / modelGenes.length : 0,
    },
    columnOf,
  };
}

/**
 * Applies the training cohort's normalization to a new matrix and lays it out in the model's
 * gene order: library-size scaling (counts), clipping of negatives and log1p (linear input),
 * centring and scaling with the training means and standard deviations, and clipping. A model
 * gene missing from the cohort gets 0 after scaling, i.e. the training mean.
 */
export function normalizeForModel(
  matrix: CsrMatrix,
  cohortGenes: readonly string[],
  normalization: SavedNormalization,
  columnOf: Int32Array,
): Float32Array {
  const genes = normalization.geneIds.length;
  const out = new Float32Array(matrix.nRows * genes);
  const libraryColumns = normalization.libraryGeneIds
    ? new Set(alignGenes(normalization.libraryGeneIds, cohortGenes).columnOf.filter((j) => j >= 0))
    : null;
  const row = new Float64Array(matrix.nCols);
  for (let r = 0; r < matrix.nRows; r++) {
    row.fill(0);
    let library = 0;
    for (let k = matrix.indptr[r]; k < matrix.indptr[r + 1]; k++) {
      const j = matrix.indices[k];
      row[j] = matrix.data[k];
      if (!libraryColumns || libraryColumns.has(j)) library += matrix.data[k];
    }
    const libraryScale = normalization.inputKind === 'counts' && normalization.targetSum !== null && library > 0 ? normalization.targetSum / library : 1;
    for (let g = 0; g < genes; g++) {
      const j = columnOf[g];
      if (j < 0) continue; // stays 0: the training mean after scaling
      let value = row[j];
      if (normalization.inputKind === 'counts') value *= libraryScale;
      if (normalization.clipNegative && value < 0) value = 0;
      if (normalization.log1p) value = Math.log1p(value);
      if (normalization.scale) value = (value - normalization.mean[g]) / normalization.std[g];
      if (normalization.clip !== null) value = Math.max(-normalization.clip, Math.min(normalization.clip, value));
      out[r * genes + g] = value;
    }
  }
  return out;
}

/** Counts the samples flagged as seen in training; null when that is unknown. */
export function countSeen(seenInTraining: boolean[] | null): number | null {
  return seenInTraining === null ? null : seenInTraining.filter(Boolean).length;
}

/**
 * Embeds a new cohort with a saved model: reads `input` with the ingest stage's reader (and
 * the ingest options given), aligns genes by id to the model's, applies the saved
 * normalization and returns each sample's posterior mean.
 */
export async function encodeCohort(
  runDir: string,
  input: string,
  ingestOptions: Partial<Omit<IngestOptions, 'inputs'>> = {},
  { backend = 'auto' as BackendChoice, log = new Logger('encode') } = {},
): Promise<EncodedCohort> {
  const dir = modelDirectory(runDir);
  const saved = loadModel(dir);
  const backendInfo = await initBackend(backend, log);

  const scratch = mkdtempSync(join(tmpdir(), 'genevae-encode-'));
  try {
    const outputDir = join(scratch, STAGE_DIRS.ingest);
    const ctx: StageContext = {
      runDir: scratch,
      outputDir,
      inputPath: (stage, file) => join(scratch, STAGE_DIRS[stage], file),
      runId: 'encode',
      seed: 0,
      log,
    };
    await runIngest(ctx, { ...INGEST_DEFAULTS, ...ingestOptions, inputs: [input] });
    const sampleIds = (readFrame(join(outputDir, FILES.obs)).sample_id as (string | null)[]).map(String);
    const cohortGenes = (readFrame(join(outputDir, FILES.var)).gene_id as (string | null)[]).map(String);
    const labels = readLabels(join(outputDir, FILES.obs), sampleIds);
    const matrix = tableToCsr(readTable(join(outputDir, FILES.X)), input);

    const { alignment, columnOf } = alignGenes(saved.config.genes, cohortGenes);
    const warnings: string[] = [];
    if (alignment.matched === 0) {
      throw new InputError(
        `none of the model's ${alignment.modelGenes} genes is in the new cohort`,
        { file: input },
        `check that gene ids use the same naming as the training cohort (model genes start ${saved.config.genes.slice(0, 3).join(', ')})`,
      );
    }
    if (alignment.missingFraction > MISSING_GENES_WARNING_FRACTION) {
      warnings.push(
        `${alignment.missing.length} of the model's ${alignment.modelGenes} genes (${(100 * alignment.missingFraction).toFixed(1)}%) are missing from ${input} ` +
          'and were set to the training mean; latents of this cohort are less reliable',
      );
    }
    if (saved.config.normalization.inputKind === 'counts' && !saved.config.normalization.libraryGeneIds) {
      // NOTE: normalization.json does not list the genes whose sum was the training library size,
      // so the new cohort's library size is its sum over all of its genes.
      log.debug('library sizes of the new cohort are sums over all of its genes');
    }
    const seenInTraining = samplesSeenInTraining(runDir, matrix, cohortGenes);
    const seen = countSeen(seenInTraining);
    if (seen !== null && seen > 0) {
      warnings.push(
        `${seen} of the ${matrix.nRows} samples have the same values as samples the model was trained on, ` +
          'so their latents and predictions are not those of unseen patients, and scores on them are optimistic',
      );
    }
    const x = normalizeForModel(matrix, cohortGenes, saved.config.normalization, columnOf);

    const model = new VaeModel(saved.config.architecture, saved.layout, saved.parameters, { training: false, projection: saved.projection ?? undefined });
    try {
      const latentDim = saved.config.architecture.latentDim;
      const latent = new Float32Array(matrix.nRows * latentDim);
      const genes = saved.config.genes.length;
      const chunk = 1024;
      for (let start = 0; start < matrix.nRows; start += chunk) {
        const rows = Math.min(chunk, matrix.nRows - start);
        latent.set(model.encodeMeans(x.subarray(start * genes, (start + rows) * genes), rows), start * latentDim);
      }
      const priorComponent = saved.config.architecture.prior === 'mixture' ? model.assignComponents(latent, matrix.nRows) : null;
      return {
        sampleIds,
        latent: { nRows: matrix.nRows, nCols: latentDim, data: latent },
        priorComponent,
        alignment,
        backend: backendInfo,
        warnings,
        labels,
        seenInTraining,
      };
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
