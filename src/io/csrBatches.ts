import type { CsrMatrix } from '../matrix/csr.js';

/**
 * Builds a CSR matrix as a list of row batches, each an exact-size CsrMatrix of at most
 * `rowsPerBatch` rows and about `entriesPerBatch` entries. A streamed reader appends rows
 * without knowing the final number of entries. One growing buffer would need the old and the
 * new copy while it doubles, but finished batches never move, so memory stays close to the
 * final size plus one batch.
 * The batches map one-to-one onto Arrow record batches of X.arrow.
 */
export class CsrBatchBuilder {
  private readonly done: CsrMatrix[] = [];
  private indptr: number[] = [0];
  private indices: Int32Array;
  private data: Float32Array;
  private count = 0;
  private rowsBefore = 0;
  private entriesBefore = 0;

  constructor(
    readonly nCols: number,
    readonly rowsPerBatch = 4096,
    /** A batch also ends once it contains this many entries, which bounds the scratch space (8 bytes per entry). */
    readonly entriesPerBatch = 1 << 22,
  ) {
    this.indices = new Int32Array(1 << 16);
    this.data = new Float32Array(1 << 16);
  }

  get nRows(): number {
    return this.rowsBefore + this.indptr.length - 1;
  }

  get nnz(): number {
    return this.entriesBefore + this.count;
  }

  /** Appends a row from strictly increasing column indices `cols[0..length)` and their non-zero values. */
  addRow(cols: ArrayLike<number>, values: ArrayLike<number>, length: number): void {
    if (this.count + length > this.indices.length) this.grow(this.count + length);
    for (let k = 0; k < length; k++) {
      this.indices[this.count + k] = cols[k];
      this.data[this.count + k] = values[k];
    }
    this.count += length;
    this.indptr.push(this.count);
    if (this.indptr.length - 1 === this.rowsPerBatch || this.count >= this.entriesPerBatch) this.flush();
  }

  /** Returns the finished batches in row order and gives them up, so call it once. */
  finish(): CsrMatrix[] {
    if (this.indptr.length > 1 || this.done.length === 0) this.flush();
    return this.done.splice(0);
  }

  private flush(): void {
    const nRows = this.indptr.length - 1;
    this.done.push({
      nRows,
      nCols: this.nCols,
      indptr: Float64Array.from(this.indptr),
      indices: this.indices.slice(0, this.count),
      data: this.data.slice(0, this.count),
    });
    this.rowsBefore += nRows;
    this.entriesBefore += this.count;
    this.indptr = [0];
    this.count = 0;
  }

  private grow(needed: number): void {
    let size = this.indices.length;
    while (size < needed) size *= 2;
    const indices = new Int32Array(size);
    indices.set(this.indices.subarray(0, this.count));
    const data = new Float32Array(size);
    data.set(this.data.subarray(0, this.count));
    this.indices = indices;
    this.data = data;
  }
}

/** Joins row batches into one CsrMatrix (a copy). */
export function concatBatches(batches: readonly CsrMatrix[], nCols: number): CsrMatrix {
  let nRows = 0;
  let total = 0;
  for (const batch of batches) {
    nRows += batch.nRows;
    total += batch.indptr[batch.nRows];
  }
  const indptr = new Float64Array(nRows + 1);
  const indices = new Int32Array(total);
  const data = new Float32Array(total);
  let row = 0;
  let at = 0;
  for (const batch of batches) {
    const entries = batch.indptr[batch.nRows];
    indices.set(batch.indices.subarray(0, entries), at);
    data.set(batch.data.subarray(0, entries), at);
    for (let r = 1; r <= batch.nRows; r++) indptr[row + r] = at + batch.indptr[r];
    row += batch.nRows;
    at += entries;
  }
  return { nRows, nCols, indptr, indices, data };
}

/** Splits a CsrMatrix into row batches that share its arrays (no copy of the entries). */
export function splitIntoBatches(m: CsrMatrix, rowsPerBatch = 4096): CsrMatrix[] {
  const batches: CsrMatrix[] = [];
  for (let start = 0; start < m.nRows || batches.length === 0; start += rowsPerBatch) {
    const end = Math.min(m.nRows, start + rowsPerBatch);
    const first = m.indptr[start];
    const last = m.indptr[end];
    const indptr = new Float64Array(end - start + 1);
    for (let r = start; r <= end; r++) indptr[r - start] = m.indptr[r] - first;
    batches.push({
      nRows: end - start,
      nCols: m.nCols,
      indptr,
      indices: m.indices.subarray(first, last),
      data: m.data.subarray(first, last),
    });
    if (m.nRows === 0) break;
  }
  return batches;
}
