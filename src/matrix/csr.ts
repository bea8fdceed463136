/**
 * Compressed sparse row matrix over typed arrays: rows are samples, columns are genes.
 *
 * Row r holds the entries indices[indptr[r] .. indptr[r+1]) with values data[...] at the
 * same positions. Column indices within a row are strictly increasing.
 */
export interface CsrMatrix {
  readonly nRows: number;
  readonly nCols: number;
  /** Row start offsets, length nRows + 1. Float64Array allows more than 2^31 stored entries. */
  readonly indptr: Float64Array;
  readonly indices: Int32Array;
  readonly data: Float32Array;
}

/** Number of stored entries (explicit zeros are never stored by the builders here). */
export function nnz(m: CsrMatrix): number {
  return m.indptr[m.nRows];
}

/** Fraction of cells that are zero, in [0, 1]. */
export function sparsity(m: CsrMatrix): number {
  const cells = m.nRows * m.nCols;
  return cells === 0 ? 0 : 1 - nnz(m) / cells;
}

/**
 * Grows a CSR matrix one row at a time, so that a streamed reader never holds a dense copy.
 * Capacity doubles as needed; `finish` trims to the exact size.
 */
export class CsrBuilder {
  private indptr: number[] = [0];
  private indices: Int32Array;
  private data: Float32Array;
  private count = 0;

  constructor(readonly nCols: number, initialCapacity = 1 << 16) {
    this.indices = new Int32Array(initialCapacity);
    this.data = new Float32Array(initialCapacity);
  }

  get nRows(): number {
    return this.indptr.length - 1;
  }

  /** Appends a dense row; zeros are skipped. */
  addDenseRow(row: ArrayLike<number>): void {
    if (row.length !== this.nCols) {
      throw new Error(`CsrBuilder: row has ${row.length} values, expected ${this.nCols}`);
    }
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      if (v !== 0) this.push(j, v);
    }
    this.indptr.push(this.count);
  }

  /** Appends a row given as sorted column indices and their values. */
  addSparseRow(cols: ArrayLike<number>, values: ArrayLike<number>): void {
    let previous = -1;
    for (let k = 0; k < cols.length; k++) {
      const j = cols[k];
      if (j <= previous || j >= this.nCols) {
        throw new Error(`CsrBuilder: column ${j} is out of order or out of range [0, ${this.nCols})`);
      }
      previous = j;
      if (values[k] !== 0) this.push(j, values[k]);
    }
    this.indptr.push(this.count);
  }

  finish(): CsrMatrix {
    return {
      nRows: this.nRows,
      nCols: this.nCols,
      indptr: Float64Array.from(this.indptr),
      indices: this.indices.slice(0, this.count),
      data: this.data.slice(0, this.count),
    };
  }

  private push(col: number, value: number): void {
    if (this.count === this.indices.length) {
      const grown = Math.max(16, this.indices.length * 2);
      const indices = new Int32Array(grown);
      indices.set(this.indices);
      const data = new Float32Array(grown);
      data.set(this.data);
      this.indices = indices;
      this.data = data;
    }
    this.indices[this.count] = col;
    this.data[this.count] = value;
    this.count++;
  }
}

/** Builds a CSR matrix from a dense row-major array. */
export function csrFromDense(nRows: number, nCols: number, values: ArrayLike<number>): CsrMatrix {
  const builder = new CsrBuilder(nCols, Math.max(16, Math.ceil(values.length / 4)));
  for (let r = 0; r < nRows; r++) {
    builder.addDenseRow(Array.prototype.slice.call(values, r * nCols, (r + 1) * nCols) as number[]);
  }
  return builder.finish();
}

/** Writes row r into `out` (length nCols) as dense values, zero-filling first. */
export function denseRow(m: CsrMatrix, r: number, out: Float32Array): Float32Array {
  out.fill(0);
  for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) out[m.indices[k]] = m.data[k];
  return out;
}

/** Returns the dense row-major copy of rows `rows` (all rows by default) restricted to `cols` when given. */
export function toDense(m: CsrMatrix, rows?: ArrayLike<number>, cols?: ArrayLike<number>): Float32Array {
  const rowList = rows ?? Array.from({ length: m.nRows }, (_, i) => i);
  let colMap: Int32Array | null = null;
  let width = m.nCols;
  if (cols) {
    colMap = new Int32Array(m.nCols).fill(-1);
    for (let c = 0; c < cols.length; c++) colMap[cols[c]] = c;
    width = cols.length;
  }
  const out = new Float32Array(rowList.length * width);
  for (let i = 0; i < rowList.length; i++) {
    const r = rowList[i];
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const c = colMap ? colMap[m.indices[k]] : m.indices[k];
      if (c >= 0) out[i * width + c] = m.data[k];
    }
  }
  return out;
}

/** Returns a new CSR matrix with only the given columns, renumbered in the order given. */
export function selectColumns(m: CsrMatrix, cols: ArrayLike<number>): CsrMatrix {
  const colMap = new Int32Array(m.nCols).fill(-1);
  for (let c = 0; c < cols.length; c++) colMap[cols[c]] = c;
  // Size the output exactly, so keeping a few genes of a large matrix does not reserve the whole.
  let kept = 0;
  for (let k = 0; k < nnz(m); k++) if (colMap[m.indices[k]] >= 0) kept++;
  const builder = new CsrBuilder(cols.length, Math.max(16, kept));
  const rowCols: number[] = [];
  const rowValues: number[] = [];
  for (let r = 0; r < m.nRows; r++) {
    rowCols.length = 0;
    rowValues.length = 0;
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const c = colMap[m.indices[k]];
      if (c >= 0) {
        rowCols.push(c);
        rowValues.push(m.data[k]);
      }
    }
    sortPairs(rowCols, rowValues);
    builder.addSparseRow(rowCols, rowValues);
  }
  return builder.finish();
}

/** Returns a new CSR matrix with only the given rows, in the order given. */
export function selectRows(m: CsrMatrix, rows: ArrayLike<number>): CsrMatrix {
  let total = 0;
  for (let i = 0; i < rows.length; i++) total += m.indptr[rows[i] + 1] - m.indptr[rows[i]];
  const indptr = new Float64Array(rows.length + 1);
  const indices = new Int32Array(total);
  const data = new Float32Array(total);
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const start = m.indptr[rows[i]];
    const end = m.indptr[rows[i] + 1];
    indices.set(m.indices.subarray(start, end), at);
    data.set(m.data.subarray(start, end), at);
    at += end - start;
    indptr[i + 1] = at;
  }
  return { nRows: rows.length, nCols: m.nCols, indptr, indices, data };
}

/** Sum of each row. */
export function rowSums(m: CsrMatrix): Float64Array {
  const out = new Float64Array(m.nRows);
  for (let r = 0; r < m.nRows; r++) {
    let s = 0;
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) s += m.data[k];
    out[r] = s;
  }
  return out;
}

/** Number of non-zero entries in each column. */
export function columnNonzeroCounts(m: CsrMatrix): Int32Array {
  const out = new Int32Array(m.nCols);
  for (let k = 0; k < nnz(m); k++) out[m.indices[k]]++;
  return out;
}

/** Returns the transpose, built by counting sort over column indices (O(nnz)). */
export function transpose(m: CsrMatrix): CsrMatrix {
  const counts = columnNonzeroCounts(m);
  const indptr = new Float64Array(m.nCols + 1);
  for (let c = 0; c < m.nCols; c++) indptr[c + 1] = indptr[c] + counts[c];
  const next = Float64Array.from(indptr.subarray(0, m.nCols));
  const total = nnz(m);
  const indices = new Int32Array(total);
  const data = new Float32Array(total);
  for (let r = 0; r < m.nRows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const c = m.indices[k];
      const at = next[c]++;
      indices[at] = r;
      data[at] = m.data[k];
    }
  }
  return { nRows: m.nCols, nCols: m.nRows, indptr, indices, data };
}

function sortPairs(cols: number[], values: number[]): void {
  let sorted = true;
  for (let i = 1; i < cols.length; i++) {
    if (cols[i] < cols[i - 1]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  const order = cols.map((_, i) => i).sort((a, b) => cols[a] - cols[b]);
  const c2 = order.map((i) => cols[i]);
  const v2 = order.map((i) => values[i]);
  for (let i = 0; i < cols.length; i++) {
    cols[i] = c2[i];
    values[i] = v2[i];
  }
}
