import { existsSync, readFileSync } from 'node:fs';
import { readFrame, readTable, tableToCsr, tableToDense } from '../io/arrow.js';
import { selectRows, type CsrMatrix } from '../matrix/csr.js';
import { takeRows, type DenseMatrix } from '../matrix/dense.js';
import { InputError } from '../util/errors.js';
import type { FoldChangeScale } from './markers.js';

/** Paths of the normalize stage's outputs that the cluster stage reads. */
export interface NormalizedPaths {
  obs: string;
  var: string;
  /** Dense scaled highly variable genes (column `values`). */
  X: string;
  /** CSR log-normalized values of every kept gene. */
  lognorm: string;
  normalization: string;
}

/** Kept genes of the normalize stage, in var.arrow order (the column order of lognorm.arrow). */
export interface GeneTable {
  geneIds: string[];
  /** Gene symbol, or null where the input gave none. */
  symbols: (string | null)[];
  /** Indices of the highly variable genes (the columns of X.arrow), in order. */
  highlyVariable: number[];
}

/** Row of each latent sample in the normalize stage's tables (obs order). */
export function alignRows(obsPath: string, sampleIds: readonly string[]): Int32Array {
  const obs = readFrame(obsPath);
  const ids = obs.sample_id as string[];
  const rowOf = new Map(ids.map((id, row) => [String(id), row]));
  return Int32Array.from(sampleIds, (id) => {
    const row = rowOf.get(id);
    if (row === undefined) {
      throw new InputError('sample is in the latents but not in the normalized data', { file: obsPath, sample: id }, 'rerun the pipeline from normalize');
    }
    return row;
  });
}

export function readGeneTable(path: string): GeneTable {
  const frame = readFrame(path);
  const geneIds = (frame.gene_id as string[]).map(String);
  const symbols = frame.symbol ? (frame.symbol as (string | null)[]) : geneIds.map(() => null);
  const flags = frame.highly_variable as boolean[] | undefined;
  const highlyVariable: number[] = [];
  if (flags) flags.forEach((flag, j) => flag && highlyVariable.push(j));
  return { geneIds, symbols, highlyVariable };
}

/** Checks whether `rows` lists 0, 1, …, n - 1 in order, so that reordering would only copy. */
function isIdentity(rows: Int32Array, n: number): boolean {
  if (rows.length !== n) return false;
  for (let i = 0; i < n; i++) if (rows[i] !== i) return false;
  return true;
}

/** Reads X.arrow (scaled highly variable genes) with its rows in the given order. */
export function readScaled(path: string, rows: Int32Array): DenseMatrix {
  const dense = tableToDense(readTable(path), 'values', path);
  // The latents keep normalize's sample order, so a second dense copy is rarely needed.
  return isIdentity(rows, dense.nRows) ? dense : takeRows(dense, rows);
}

/** Reads lognorm.arrow with its rows in the given order. */
export function readLognorm(path: string, rows: Int32Array): CsrMatrix {
  const matrix = tableToCsr(readTable(path), path);
  return isIdentity(rows, matrix.nRows) ? matrix : selectRows(matrix, rows);
}

/** 'log1p' when normalize applied log1p, 'log' when the input was already on a log scale. */
export function foldChangeScale(normalizationPath: string): FoldChangeScale {
  if (!existsSync(normalizationPath)) return 'log1p';
  const parameters = JSON.parse(readFileSync(normalizationPath, 'utf8')) as { log1p?: boolean };
  return parameters.log1p === false ? 'log' : 'log1p';
}
