import { existsSync, readFileSync } from 'node:fs';
import { LAYOUT_KEY, N_COLS_KEY, readFrame, readTable, tableToDense } from '../io/arrow.js';
import type { CsrMatrix } from '../matrix/csr.js';
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

/**
 * Reads lognorm.arrow gene-major: row g lists gene g's stored values, and each column index is
 * the sample's position in `rows` (rows[i] is the table row of sample i). Table rows missing
 * from `rows` are left out. Built straight from the Arrow batches, so that the sample-major
 * matrix, as large again, is never held (marker tests need only the gene-major one).
 */
export function readLognormByGene(path: string, rows: Int32Array): CsrMatrix {
  const table = readTable(path);
  if (table.schema.metadata.get(LAYOUT_KEY) !== 'csr') throw new InputError(`expected schema metadata ${LAYOUT_KEY}=csr`, { file: path });
  const nGenes = Number(table.schema.metadata.get(N_COLS_KEY));
  if (!Number.isInteger(nGenes) || nGenes < 0) throw new InputError(`schema metadata ${N_COLS_KEY} is missing or not an integer`, { file: path });
  const sampleOf = new Int32Array(table.numRows).fill(-1);
  rows.forEach((row, sample) => (sampleOf[row] = sample));

  // Visits every stored value of the kept samples with its gene and sample.
  const visit = (action: (gene: number, sample: number, value: number) => void) => {
    let row = 0;
    for (const batch of table.batches) {
      const indexData = batch.getChild('indices')!.data[0];
      const valueData = batch.getChild('values')!.data[0];
      const geneIndices = indexData.children[0].values as Int32Array;
      const values = valueData.children[0].values as Float32Array;
      const indexOffset = indexData.children[0].offset;
      const valueOffset = valueData.children[0].offset;
      for (let r = 0; r < batch.numRows; r++, row++) {
        const sample = sampleOf[row];
        if (sample < 0) continue;
        for (let k = indexData.valueOffsets[r]; k < indexData.valueOffsets[r + 1]; k++) {
          action(geneIndices[indexOffset + k], sample, values[valueOffset + k]);
        }
      }
    }
  };

  const counts = new Float64Array(nGenes);
  visit((gene) => counts[gene]++);
  const indptr = new Float64Array(nGenes + 1);
  for (let g = 0; g < nGenes; g++) indptr[g + 1] = indptr[g] + counts[g];
  const next = Float64Array.from(indptr.subarray(0, nGenes));
  const indices = new Int32Array(indptr[nGenes]);
  const data = new Float32Array(indptr[nGenes]);
  visit((gene, sample, value) => {
    const at = next[gene]++;
    indices[at] = sample;
    data[at] = value;
  });
  return { nRows: nGenes, nCols: rows.length, indptr, indices, data };
}

/** 'log1p' when normalize applied log1p, 'log' when the input was already on a log scale. */
export function foldChangeScale(normalizationPath: string): FoldChangeScale {
  if (!existsSync(normalizationPath)) return 'log1p';
  const parameters = JSON.parse(readFileSync(normalizationPath, 'utf8')) as { log1p?: boolean };
  return parameters.log1p === false ? 'log' : 'log1p';
}
