import { join } from 'node:path';
import { denseToTable, writeFrame, writeTable } from '../../src/io/arrow.js';
import { STAGE_DIRS } from '../../src/run/layout.js';
import type { Features } from '../../src/classify/features.js';
import { Rng } from '../../src/util/rng.js';

/** Gaussian blobs: class k is centred at `separation` along dimension k (mod d), unit noise elsewhere. */
export function blobs(
  sizes: number[],
  d: number,
  separation: number,
  seed = 1,
): { x: Features; y: Int32Array } {
  const rng = new Rng(seed);
  const n = sizes.reduce((a, b) => a + b, 0);
  const data = new Float64Array(n * d);
  const y = new Int32Array(n);
  let i = 0;
  sizes.forEach((size, k) => {
    for (let s = 0; s < size; s++, i++) {
      y[i] = k;
      for (let j = 0; j < d; j++) data[i * d + j] = rng.normal() + (j === k % d ? separation : 0);
    }
  });
  return { x: { nRows: n, nCols: d, data }, y };
}

/**
 * Writes 03-train/latent.arrow and 01-ingest/obs.arrow (with `label` unless labels is
 * undefined) into a run directory, and optionally 03-train/gene_loadings.arrow.
 */
export function writeLatentFixture(
  runDir: string,
  x: Features,
  labels: (string | null)[] | undefined,
  loadings?: { geneIds: string[]; values: Float32Array },
): string[] {
  const ids = Array.from({ length: x.nRows }, (_, i) => `S${String(i).padStart(4, '0')}`);
  writeTable(
    join(runDir, STAGE_DIRS.train, 'latent.arrow'),
    denseToTable({ nRows: x.nRows, nCols: x.nCols, data: Float32Array.from(x.data) }, 'z', { name: 'sample_id', values: ids }),
  );
  const obs: Record<string, string[] | (string | null)[]> = { sample_id: ids };
  if (labels) obs.label = labels;
  writeFrame(join(runDir, STAGE_DIRS.ingest, 'obs.arrow'), obs);
  if (loadings) {
    writeTable(
      join(runDir, STAGE_DIRS.train, 'gene_loadings.arrow'),
      denseToTable(
        { nRows: loadings.geneIds.length, nCols: x.nCols, data: loadings.values },
        'loading',
        { name: 'gene_id', values: loadings.geneIds },
      ),
    );
    writeFrame(join(runDir, STAGE_DIRS.normalize, 'var.arrow'), {
      gene_id: loadings.geneIds,
      symbol: loadings.geneIds.map((id) => `SYM_${id}`),
    });
  }
  return ids;
}
