import { Table, makeVector } from 'apache-arrow';
import { denseToTable, writeFrame, writeTable } from '../../src/io/arrow.js';
import type { DenseMatrix } from '../../src/matrix/dense.js';
import { Rng } from '../../src/util/rng.js';

/** Gaussian blobs in `dim` dimensions: `sizes[c]` unit-variance samples around a centre drawn from N(0, spread^2) per axis. */
export function blobs(sizes: number[], dim: number, spread: number, seed = 1): { points: DenseMatrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const centres = sizes.map(() => Array.from({ length: dim }, () => rng.normal(0, spread)));
  const n = sizes.reduce((a, b) => a + b, 0);
  const data = new Float32Array(n * dim);
  const truth = new Int32Array(n);
  let row = 0;
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++, row++) {
      truth[row] = c;
      for (let j = 0; j < dim; j++) data[row * dim + j] = centres[c][j] + rng.normal();
    }
  });
  return { points: { nRows: n, nCols: dim, data }, truth };
}

/** Writes 03-train/latent.arrow and 01-ingest/obs.arrow for a stage test. */
export function writeLatentRun(
  runDir: string,
  points: DenseMatrix,
  labels: (string | null)[] | null,
  priorComponent?: Int32Array,
): string[] {
  const ids = Array.from({ length: points.nRows }, (_, i) => `S${String(i).padStart(4, '0')}`);
  let table = denseToTable(points, 'z', { name: 'sample_id', values: ids });
  if (priorComponent) table = table.assign(new Table({ prior_component: makeVector(priorComponent) }));
  writeTable(`${runDir}/03-train/latent.arrow`, table);
  const obs: Record<string, string[] | (string | null)[]> = { sample_id: ids };
  if (labels) obs.label = labels;
  writeFrame(`${runDir}/01-ingest/obs.arrow`, obs);
  return ids;
}
