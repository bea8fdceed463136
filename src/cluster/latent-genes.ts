import { FixedSizeList } from 'apache-arrow';
import { readTable, tableToDense } from '../io/arrow.js';
import type { DenseMatrix } from '../matrix/dense.js';
import { InputError } from '../util/errors.js';

/** Decoder sensitivity of each gene to each latent dimension, as the train stage writes it. */
export interface GeneLoadings {
  geneIds: string[];
  /** genes x latent dimensions. */
  loading: DenseMatrix;
}

/** Reads gene_loadings.arrow: gene_id + loading FixedSizeList<Float32>[d]. */
export function readGeneLoadings(path: string): GeneLoadings {
  const table = readTable(path);
  const field = table.schema.fields.find((f) => f.name === 'loading');
  if (!field || !(field.type instanceof FixedSizeList)) {
    throw new InputError("column 'loading' is missing or is not a FixedSizeList<Float32>", { file: path, column: 'loading' });
  }
  const ids = table.getChild('gene_id');
  if (!ids) throw new InputError("column 'gene_id' is missing", { file: path, column: 'gene_id' });
  return { geneIds: Array.from(ids, (id) => String(id)), loading: tableToDense(table, 'loading', path) };
}

/** Genes of one latent dimension ranked by absolute loading. */
export interface LatentGeneRanking {
  dimension: number;
  /** Gene indices (into GeneLoadings.geneIds) by decreasing |loading|. */
  order: Int32Array;
}

/** Ranks the genes of every latent dimension by the size of their loading, strongest first. */
export function rankLatentGenes(loadings: GeneLoadings): LatentGeneRanking[] {
  const { nRows: genes, nCols: dims, data } = loadings.loading;
  const rankings: LatentGeneRanking[] = [];
  for (let d = 0; d < dims; d++) {
    const order = Int32Array.from({ length: genes }, (_, g) => g).sort(
      (a, b) => Math.abs(data[b * dims + d]) - Math.abs(data[a * dims + d]) || a - b,
    );
    rankings.push({ dimension: d, order });
  }
  return rankings;
}
