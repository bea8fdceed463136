/** A row-major matrix of float64 features: one row per sample, one column per latent dimension. */
export interface Features {
  nRows: number;
  nCols: number;
  data: Float64Array;
}

export function features(nRows: number, nCols: number, data?: Float64Array): Features {
  const values = data ?? new Float64Array(nRows * nCols);
  if (values.length !== nRows * nCols) {
    throw new Error(`features: ${values.length} values for ${nRows} x ${nCols}`);
  }
  return { nRows, nCols, data: values };
}

/** Copies the given rows, in order, into a new matrix. */
export function selectRows(x: Features, rows: ArrayLike<number>): Features {
  const out = new Float64Array(rows.length * x.nCols);
  for (let r = 0; r < rows.length; r++) {
    const from = rows[r] * x.nCols;
    out.set(x.data.subarray(from, from + x.nCols), r * x.nCols);
  }
  return { nRows: rows.length, nCols: x.nCols, data: out };
}

export function row(x: Features, index: number): Float64Array {
  return x.data.subarray(index * x.nCols, (index + 1) * x.nCols);
}

/** Rows as plain arrays, the input format of libsvm-js. */
export function toRowArrays(x: Features): number[][] {
  return Array.from({ length: x.nRows }, (_, r) => Array.from(row(x, r)));
}

/** Per-column mean and standard deviation fitted on training rows and applied to any rows. */
export interface StandardScalerState {
  mean: number[];
  scale: number[];
}

/**
 * Fits a standard scaler: population standard deviation, as scikit-learn's StandardScaler.
 * A constant column gets scale 1 so that it maps to 0 instead of NaN.
 */
export function fitStandardScaler(x: Features): StandardScalerState {
  const mean = new Array<number>(x.nCols).fill(0);
  const scale = new Array<number>(x.nCols).fill(0);
  for (let r = 0; r < x.nRows; r++) {
    for (let c = 0; c < x.nCols; c++) mean[c] += x.data[r * x.nCols + c];
  }
  for (let c = 0; c < x.nCols; c++) mean[c] /= Math.max(x.nRows, 1);
  for (let r = 0; r < x.nRows; r++) {
    for (let c = 0; c < x.nCols; c++) {
      const d = x.data[r * x.nCols + c] - mean[c];
      scale[c] += d * d;
    }
  }
  for (let c = 0; c < x.nCols; c++) {
    const sd = Math.sqrt(scale[c] / Math.max(x.nRows, 1));
    scale[c] = sd > 1e-12 ? sd : 1;
  }
  return { mean, scale };
}

export function applyStandardScaler(state: StandardScalerState, x: Features): Features {
  if (state.mean.length !== x.nCols) {
    throw new Error(`standard scaler fitted on ${state.mean.length} columns, applied to ${x.nCols}`);
  }
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.nRows; r++) {
    for (let c = 0; c < x.nCols; c++) {
      const i = r * x.nCols + c;
      out[i] = (x.data[i] - state.mean[c]) / state.scale[c];
    }
  }
  return { nRows: x.nRows, nCols: x.nCols, data: out };
}

/**
 * Class weights. 'balanced' gives class k the weight n / (K * n_k), as scikit-learn's
 * class_weight='balanced', so every class carries the same total weight; a class absent from
 * `y` gets weight 0. 'none' gives every class weight 1.
 */
export function classWeights(y: Int32Array, nClasses: number, mode: 'balanced' | 'none'): Float64Array {
  const weights = new Float64Array(nClasses).fill(1);
  if (mode === 'none') return weights;
  const counts = classCounts(y, nClasses);
  const present = counts.filter((count) => count > 0).length;
  for (let k = 0; k < nClasses; k++) {
    weights[k] = counts[k] > 0 ? y.length / (present * counts[k]) : 0;
  }
  return weights;
}

export function classCounts(y: Int32Array, nClasses: number): number[] {
  const counts = new Array<number>(nClasses).fill(0);
  for (const label of y) counts[label]++;
  return counts;
}
