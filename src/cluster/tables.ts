import type { Frame } from '../io/arrow.js';
import type { GeneTable } from './expression.js';
import type { GeneLoadings, LatentGeneRanking } from './latent-genes.js';
import type { GroupMarkers } from './markers.js';

/** One gene of a marker or latent-gene list, as the summary lists it. */
export interface RankedGene {
  geneId: string;
  symbol: string | null;
  /** Marker z-score, or the decoder loading for a latent dimension. */
  statistic: number;
  p: number | null;
  q: number | null;
  /** Log fold change for a marker, the loading for a latent dimension. */
  effect: number;
  pctIn: number | null;
  pctOut: number | null;
}

/**
 * markers.arrow: one row per grouping, group and gene, columns grouping, group, gene_id, symbol,
 * statistic (rank-sum z-score), p, q, log_fold_change, mean_in, mean_out, pct_in, pct_out and
 * rank (1 = strongest marker of the group).
 */
export function markersFrame(results: GroupMarkers[], genes: GeneTable): Frame {
  const nGenes = genes.geneIds.length;
  const rows = results.length * nGenes;
  const frame = {
    grouping: new Array<string>(rows),
    group: new Array<string>(rows),
    gene_id: new Array<string>(rows),
    symbol: new Array<string | null>(rows),
    statistic: new Float64Array(rows),
    p: new Float64Array(rows),
    q: new Float64Array(rows),
    log_fold_change: new Float64Array(rows),
    mean_in: new Float64Array(rows),
    mean_out: new Float64Array(rows),
    pct_in: new Float64Array(rows),
    pct_out: new Float64Array(rows),
    rank: new Int32Array(rows),
  };
  let row = 0;
  for (const result of results) {
    // Rows of a group are written strongest marker first, so a reader can take the head.
    const order = new Int32Array(nGenes);
    result.rank.forEach((rank, gene) => (order[rank - 1] = gene));
    for (const gene of order) {
      frame.grouping[row] = result.grouping;
      frame.group[row] = result.group;
      frame.gene_id[row] = genes.geneIds[gene];
      frame.symbol[row] = genes.symbols[gene];
      frame.statistic[row] = result.statistic[gene];
      frame.p[row] = result.p[gene];
      frame.q[row] = result.q[gene];
      frame.log_fold_change[row] = result.logFoldChange[gene];
      frame.mean_in[row] = result.meanIn[gene];
      frame.mean_out[row] = result.meanOut[gene];
      frame.pct_in[row] = result.pctIn[gene];
      frame.pct_out[row] = result.pctOut[gene];
      frame.rank[row] = result.rank[gene];
      row++;
    }
  }
  return frame;
}

/** Lists the `top` strongest markers of a group, by rank. */
export function topMarkers(result: GroupMarkers, genes: GeneTable, top: number): RankedGene[] {
  const order = new Int32Array(result.rank.length);
  result.rank.forEach((rank, gene) => (order[rank - 1] = gene));
  return Array.from(order.subarray(0, top), (gene) => ({
    geneId: genes.geneIds[gene],
    symbol: genes.symbols[gene],
    statistic: result.statistic[gene],
    p: result.p[gene],
    q: result.q[gene],
    effect: result.logFoldChange[gene],
    pctIn: result.pctIn[gene],
    pctOut: result.pctOut[gene],
  }));
}

/**
 * latent_genes.arrow: one row per latent dimension and gene, columns latent_dim (int32), gene_id,
 * symbol, loading (decoder sensitivity), direction ('positive' or 'negative': the sign of the
 * loading) and rank (1 = largest |loading| in that dimension).
 */
export function latentGenesFrame(
  loadings: GeneLoadings,
  rankings: LatentGeneRanking[],
  symbolOf: (geneId: string) => string | null,
): Frame {
  const nGenes = loadings.geneIds.length;
  const dims = loadings.loading.nCols;
  const rows = rankings.length * nGenes;
  const frame = {
    latent_dim: new Int32Array(rows),
    gene_id: new Array<string>(rows),
    symbol: new Array<string | null>(rows),
    loading: new Float32Array(rows),
    direction: new Array<string>(rows),
    rank: new Int32Array(rows),
  };
  let row = 0;
  for (const ranking of rankings) {
    ranking.order.forEach((gene, r) => {
      const value = loadings.loading.data[gene * dims + ranking.dimension];
      frame.latent_dim[row] = ranking.dimension;
      frame.gene_id[row] = loadings.geneIds[gene];
      frame.symbol[row] = symbolOf(loadings.geneIds[gene]);
      frame.loading[row] = value;
      frame.direction[row] = value >= 0 ? 'positive' : 'negative';
      frame.rank[row] = r + 1;
      row++;
    });
  }
  return frame;
}
