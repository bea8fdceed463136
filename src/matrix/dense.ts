/** Dense row-major matrix over a Float32Array: element (r, c) is data[r * nCols + c]. */
export interface DenseMatrix {
  readonly nRows: number;
  readonly nCols: number;
  readonly data: Float32Array;
}

export function denseMatrix(nRows: number, nCols: number, data?: Float32Array): DenseMatrix {
  const values = data ?? new Float32Array(nRows * nCols);
  if (values.length !== nRows * nCols) {
    throw new Error(`denseMatrix: ${values.length} values do not fill ${nRows} x ${nCols}`);
  }
  return { nRows, nCols, data: values };
}

/** Returns row r as a view (no copy). */
export function rowView(m: DenseMatrix, r: number): Float32Array {
  return m.data.subarray(r * m.nCols, (r + 1) * m.nCols);
}

/** Returns the rows given, copied in the order given. */
export function takeRows(m: DenseMatrix, rows: ArrayLike<number>): DenseMatrix {
  const out = new Float32Array(rows.length * m.nCols);
  for (let i = 0; i < rows.length; i++) out.set(rowView(m, rows[i]), i * m.nCols);
  return { nRows: rows.length, nCols: m.nCols, data: out };
}

/** Returns the rows as arrays of numbers, the input format of most ml-* libraries. */
export function toRowArrays(m: DenseMatrix): number[][] {
  const rows: number[][] = new Array(m.nRows);
  for (let r = 0; r < m.nRows; r++) rows[r] = Array.from(rowView(m, r));
  return rows;
}
