import { Table, makeVector } from 'apache-arrow';
import { writeFileSync } from 'node:fs';
import { csrToTable, denseToTable, writeFrame, writeTable } from '../../src/io/arrow.js';
import { csrFromDense } from '../../src/matrix/csr.js';
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

/**
 * Writes the normalize stage's outputs for the samples of `truth`: lognorm.arrow with marker genes
 * (genes 3c..3c+2 raised in cluster c), X.arrow over the first `hvg` genes, var.arrow,
 * obs.arrow and normalization.json. Rows are written in reverse sample order, so a reader that
 * does not align rows by sample id gets the wrong values.
 */
export function writeNormalizedRun(runDir: string, ids: string[], truth: Int32Array, nGenes: number, hvg: number, seed = 2): void {
  const rng = new Rng(seed);
  const n = ids.length;
  const order = Array.from({ length: n }, (_, i) => n - 1 - i);
  const dense = new Float32Array(n * nGenes);
  order.forEach((sample, row) => {
    for (let g = 0; g < nGenes; g++) {
      const marker = Math.floor(g / 3) === truth[sample];
      const count = rng.poisson(marker ? 6 : 1);
      dense[row * nGenes + g] = Math.log1p(count);
    }
  });
  const scaled = new Float32Array(n * hvg);
  for (let row = 0; row < n; row++) for (let g = 0; g < hvg; g++) scaled[row * hvg + g] = dense[row * nGenes + g];
  writeTable(`${runDir}/02-normalize/lognorm.arrow`, csrToTable(csrFromDense(n, nGenes, dense)));
  writeTable(`${runDir}/02-normalize/X.arrow`, denseToTable({ nRows: n, nCols: hvg, data: scaled }, 'values'));
  writeFrame(`${runDir}/02-normalize/obs.arrow`, { sample_id: order.map((i) => ids[i]) });
  writeFrame(`${runDir}/02-normalize/var.arrow`, {
    gene_id: Array.from({ length: nGenes }, (_, g) => `ENSG${g}`),
    symbol: Array.from({ length: nGenes }, (_, g) => `GENE${g}`),
    highly_variable: Array.from({ length: nGenes }, (_, g) => g < hvg),
  });
  writeFileSync(`${runDir}/02-normalize/normalization.json`, JSON.stringify({ log1p: true }));
}

/** Writes 03-train/gene_loadings.arrow: gene g loads on dimension g % dims with sign (-1)^g and size g + 1. */
export function writeGeneLoadings(runDir: string, nGenes: number, dims: number): void {
  const data = new Float32Array(nGenes * dims);
  for (let g = 0; g < nGenes; g++) data[g * dims + (g % dims)] = (g % 2 === 0 ? 1 : -1) * (g + 1);
  const ids = Array.from({ length: nGenes }, (_, g) => `ENSG${g}`);
  writeTable(`${runDir}/03-train/gene_loadings.arrow`, denseToTable({ nRows: nGenes, nCols: dims, data }, 'loading', { name: 'gene_id', values: ids }));
}
