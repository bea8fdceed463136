import { existsSync } from 'node:fs';
import { readTable, tableToDense, tableToFrame } from '../io/arrow.js';
import { InputError } from '../util/errors.js';
import { meanAndSd } from './metrics.js';

/** The `source` value of the gene rows this stage adds to the biomarker export. */
export const IMPORTANCE_SOURCE = 'classifier-permutation';

/** Permutation importance of one latent dimension across test folds. */
export interface DimensionImportance {
  dimension: number;
  /** Mean drop in balanced accuracy when the dimension is shuffled. */
  mean: number;
  /** Sample standard deviation of the per-fold drops. */
  sd: number;
}

export interface GeneImportance {
  gene_id: string;
  symbol: string | null;
  score: number;
}

/** Mean and spread of each dimension's drop over the test folds. */
export function summarizeDimensions(perFold: Float64Array[], nDimensions: number): DimensionImportance[] {
  return Array.from({ length: nDimensions }, (_, dimension) => {
    const { mean, sd } = meanAndSd(perFold.map((drops) => drops[dimension]));
    return { dimension, mean, sd };
  });
}

/**
 * Maps dimension importance to genes through the decoder's gene loadings:
 * score_g = sum_j max(0, importance_j) * |loading_gj| / sum_j max(0, importance_j), the
 * loading magnitude of gene g averaged over the dimensions that carry the prediction.
 * Dimensions whose shuffling did not hurt (importance <= 0) do not contribute. Returns genes
 * sorted by score, highest first, or an empty list when no dimension helped.
 */
export function geneScores(
  dimensions: DimensionImportance[],
  geneIds: string[],
  loadings: { nRows: number; nCols: number; data: Float32Array },
  symbols: Map<string, string | null>,
): GeneImportance[] {
  if (loadings.nCols !== dimensions.length) {
    throw new Error(`gene loadings have ${loadings.nCols} dimensions, the latents ${dimensions.length}`);
  }
  const weights = dimensions.map((d) => (Number.isFinite(d.mean) ? Math.max(0, d.mean) : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return [];
  const genes: GeneImportance[] = geneIds.map((gene_id, g) => {
    let score = 0;
    for (let j = 0; j < loadings.nCols; j++) score += weights[j] * Math.abs(loadings.data[g * loadings.nCols + j]);
    return { gene_id, symbol: symbols.get(gene_id) ?? null, score: score / total };
  });
  return genes.sort((a, b) => b.score - a.score || a.gene_id.localeCompare(b.gene_id));
}

/** Reads gene_loadings.arrow (gene_id, loading FixedSizeList<Float32>[d]), or null when it does not exist. */
export function readGeneLoadings(path: string): { geneIds: string[]; loadings: { nRows: number; nCols: number; data: Float32Array } } | null {
  if (!existsSync(path)) return null;
  const table = readTable(path);
  const ids = table.getChild('gene_id');
  if (!ids) throw new InputError("column 'gene_id' is missing", { file: path, column: 'gene_id' });
  return { geneIds: Array.from(ids, (v) => String(v)), loadings: tableToDense(table, 'loading', path) };
}

/** Gene symbols from var.arrow, keyed by gene id; empty when the file or its symbol column is missing. */
export function readSymbols(path: string): Map<string, string | null> {
  const symbols = new Map<string, string | null>();
  if (!existsSync(path)) return symbols;
  const frame = tableToFrame(readTable(path));
  const ids = frame.gene_id as (string | null)[] | undefined;
  const values = frame.symbol as (string | null)[] | undefined;
  if (!ids || !values) return symbols;
  ids.forEach((id, i) => symbols.set(String(id), values[i] ?? null));
  return symbols;
}
