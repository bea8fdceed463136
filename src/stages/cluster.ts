import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterOptions } from '../../pipeline/cluster.js';
import { denseToTable, writeFrame, writeTable, type Frame } from '../io/arrow.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { InputError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { Rng } from '../util/rng.js';
import { agreementWithLabels, type LabelAgreement } from '../cluster/agreement.js';
import {
  alignRows,
  foldChangeScale,
  readGeneTable,
  readLognormByGene,
  readScaled,
  type GeneTable,
  type NormalizedPaths,
} from '../cluster/expression.js';
import { encodeLabels, readLabels, readLatents } from '../cluster/inputs.js';
import type { KmeansCurvePoint } from '../cluster/kmeans.js';
import { readGeneLoadings, rankLatentGenes } from '../cluster/latent-genes.js';
import { rankGenesGroupsByGene, type FoldChangeScale, type GroupMarkers, type Grouping } from '../cluster/markers.js';
import { adjustedRandIndex, normalizedMutualInformation } from '../cluster/metrics.js';
import { kmeansRecluster, louvainRecluster, partitionSpace, type PartitionSettings } from '../cluster/partition.js';
import { principalComponents } from '../cluster/pca.js';
import type { ResolutionCurvePoint } from '../cluster/resolution.js';
import { subsampleStability, type ClusterStability } from '../cluster/stability.js';
import { latentGenesFrame, markersFrame, topMarkers, type RankedGene } from '../cluster/tables.js';
import { runUmap } from '../cluster/umap.js';
import { contingency } from '../cluster/metrics.js';

/** Files the cluster stage writes, besides those named in FILES. */
export const CLUSTER_FILES = {
  markers: 'markers.arrow',
  latentGenes: 'latent_genes.arrow',
} as const;

/** One partition of the samples, as the report shows it. */
export interface ClusteringReport {
  /** Column of clusters.arrow holding this partition. */
  column: 'kmeans' | 'louvain' | 'pca_kmeans' | 'pca_louvain';
  method: 'kmeans' | 'louvain';
  /** Representation clustered: the VAE latents, or the top principal components of X.arrow. */
  space: 'latent' | 'pca';
  nClusters: number;
  /** Samples per cluster, cluster 0 first (clusters are numbered by decreasing size). */
  sizes: number[];
  /** k for k-means; resolution and modularity for Louvain. */
  parameters: { k?: number; resolution?: number; modularity?: number };
  /** Agreement with the labels; null when the cohort has no labels. */
  agreement: LabelAgreement | null;
  /** Per-cluster subsample stability; null for baselines and when turned off. */
  stability: ClusterStability[] | null;
}

/** Marker genes of one grouping (a clustering or the labels). */
export interface GroupingMarkers {
  grouping: string;
  groups: {
    group: string;
    size: number;
    /** Strongest markers by rank-sum z-score (markers.arrow contains every gene). */
    top: RankedGene[];
  }[];
  /** Mean value of the union of each group's top markers in every group, for a heat map. */
  heatmap: { genes: string[]; symbols: (string | null)[]; groups: string[]; means: number[][] };
}

/** Everything the report needs from the cluster stage; written to 04-cluster/summary.json. */
export interface ClusterSummary {
  nSamples: number;
  latentDim: number;
  seed: number;
  /** kNN graph of the latents: neighbours per sample (itself included) and 'exact' or 'nndescent'. */
  neighbors: { k: number; method: 'exact' | 'nndescent'; exactMaxSamples: number };
  kmeans: {
    kMin: number;
    /** Largest k tried (the requested kMax capped at n - 1). */
    kMax: number;
    restarts: number;
    /** Silhouette and inertia for every k tried, for the selection and elbow plots. */
    curve: KmeansCurvePoint[];
    chosenK: number;
    /** Samples the silhouette was computed on (fewer than nSamples when subsampled). */
    silhouetteSamples: number;
  };
  /** Louvain's resolution on the latents: fixed, or chosen by silhouette over a scan. */
  louvain: {
    resolution: number;
    /** 'auto' when the resolution was chosen from `curve`, else 'fixed'. */
    choice: 'auto' | 'fixed';
    /** Silhouette, clusters and modularity at each resolution scanned; null when the resolution was fixed. */
    curve: ResolutionCurvePoint[] | null;
    /** Samples the silhouette was computed on; null when the resolution was fixed. */
    silhouetteSamples: number | null;
  };
  /** The same clustering on the top principal components of X.arrow; null when turned off or X.arrow is missing. */
  baseline: {
    nComponents: number;
    nGenes: number;
    pcaMethod: 'exact' | 'randomized';
    explainedVarianceRatio: number[];
    curve: KmeansCurvePoint[];
    chosenK: number;
    /** Louvain's resolution scan on the principal components; null when the resolution was fixed. */
    resolutionCurve: ResolutionCurvePoint[] | null;
  } | null;
  /** Label classes in code order (the columns of every contingency table); null without labels. */
  labelClasses: string[] | null;
  /** k-means, Louvain, and their PCA baselines when computed. */
  clusterings: ClusteringReport[];
  /** Stability settings; null when stability was turned off. */
  /** Subsample stability settings: resamples drawn, the requested fraction, and the samples in each subsample (capped by stabilityMaxSamples). */
  stability: { resamples: number; fraction: number; samplesPerResample: number } | null;
  /** Mixture-prior components against each latent clustering; null without a mixture prior. */
  mixturePrior: {
    /** Component ids present, ascending; `sizes` and the columns of each `counts` follow this order. */
    components: number[];
    sizes: number[];
    /** counts[c][m]: samples of cluster c assigned to components[m]. */
    vsClusterings: { column: string; ari: number; nmi: number; counts: number[][] }[];
  } | null;
  /** Marker genes per grouping; null when turned off or lognorm.arrow is missing. */
  markers: { foldChange: FoldChangeScale; nGenes: number; groupings: GroupingMarkers[] } | null;
  /** Genes with the largest decoder loadings per latent dimension; null without gene_loadings.arrow. */
  latentGenes: { dimension: number; top: RankedGene[] }[] | null;
  umap: { nNeighbors: number; minDist: number; nEpochs: number };
  /** Wall-clock seconds of each step. */
  timings: Record<string, number>;
}

function sizesOf(labels: Int32Array): number[] {
  const sizes: number[] = [];
  for (const label of labels) sizes[label] = (sizes[label] ?? 0) + 1;
  return Array.from(sizes, (size) => size ?? 0);
}

class Timer {
  readonly timings: Record<string, number> = {};
  private readonly started = performance.now();

  constructor(private readonly log: Logger) {}

  measure<T>(step: string, work: () => T): T {
    const start = performance.now();
    const result = work();
    this.timings[step] = (performance.now() - start) / 1000;
    this.log.info(`${step} finished in ${this.timings[step].toFixed(1)} s`);
    return result;
  }

  finish(): Record<string, number> {
    this.timings.total = (performance.now() - this.started) / 1000;
    return this.timings;
  }
}

function normalizedPaths(ctx: StageContext): NormalizedPaths {
  return {
    obs: ctx.inputPath('normalize', FILES.obs),
    var: ctx.inputPath('normalize', FILES.var),
    X: ctx.inputPath('normalize', FILES.X),
    lognorm: ctx.inputPath('normalize', 'lognorm.arrow'),
    normalization: ctx.inputPath('normalize', 'normalization.json'),
  };
}

/** Groupings whose markers are computed: the two latent clusterings, and the labels when present. */
function markerGroupings(clusterings: ClusteringReport[], columns: Record<string, Int32Array>, labels: { classes: string[]; codes: Int32Array } | null): Grouping[] {
  const groupings: Grouping[] = clusterings
    .filter((clustering) => clustering.space === 'latent')
    .map((clustering) => ({
      name: clustering.column,
      groups: clustering.sizes.map((_, c) => String(c)),
      codes: columns[clustering.column],
    }));
  if (labels && labels.classes.length >= 2) groupings.push({ name: 'label', groups: labels.classes, codes: labels.codes });
  return groupings;
}

function summarizeMarkers(results: GroupMarkers[], genes: GeneTable, top: number, heatmapPerGroup: number): GroupingMarkers[] {
  const names = [...new Set(results.map((result) => result.grouping))];
  return names.map((grouping) => {
    const ofGrouping = results.filter((result) => result.grouping === grouping);
    const heatmapGenes: number[] = [];
    for (const result of ofGrouping) {
      const order = new Int32Array(result.rank.length);
      result.rank.forEach((rank, gene) => (order[rank - 1] = gene));
      for (const gene of order.subarray(0, heatmapPerGroup)) if (!heatmapGenes.includes(gene)) heatmapGenes.push(gene);
    }
    return {
      grouping,
      groups: ofGrouping.map((result) => ({ group: result.group, size: result.nIn, top: topMarkers(result, genes, top) })),
      heatmap: {
        genes: heatmapGenes.map((gene) => genes.geneIds[gene]),
        symbols: heatmapGenes.map((gene) => genes.symbols[gene]),
        groups: ofGrouping.map((result) => result.group),
        means: heatmapGenes.map((gene) => ofGrouping.map((result) => result.meanIn[gene])),
      },
    };
  });
}

/**
 * Clusters the samples in the VAE's latent space, compares the clusters with the labels and with
 * the same clustering of the top principal components, measures cluster stability, finds marker
 * genes and ranks the genes of each latent dimension.
 *
 * Reads 03-train/latent.arrow (and gene_loadings.arrow when present), and from 02-normalize/
 * obs.arrow (labels; 01-ingest/obs.arrow when normalize wrote none), var.arrow, X.arrow,
 * lognorm.arrow and normalization.json. Writes in the stage directory:
 * - clusters.arrow: sample_id (utf8); kmeans, louvain (int32, cluster 0 is the largest); and
 *   pca_kmeans, pca_louvain (int32) when the baseline ran
 * - umap.arrow: sample_id (utf8), umap (FixedSizeList<Float32>[2])
 * - pca.arrow: sample_id (utf8), z (FixedSizeList<Float32>, the principal-component scores)
 *   when the baseline ran; classify fits its baseline on them
 * - markers.arrow: see {@link markersFrame}; groupings kmeans, louvain and label
 * - latent_genes.arrow: see {@link latentGenesFrame}, when gene_loadings.arrow exists
 * and returns a {@link ClusterSummary}.
 */
export async function runCluster(ctx: StageContext, options: ClusterOptions): Promise<StageResult> {
  const timer = new Timer(ctx.log);
  const warnings: string[] = [];
  const rng = new Rng(ctx.seed).fork('cluster');
  const latentPath = ctx.inputPath('train', FILES.latent);
  const paths = normalizedPaths(ctx);

  const latents = readLatents(latentPath);
  const n = latents.z.nRows;
  if (n < 3) throw new InputError(`clustering needs at least 3 samples, the latents hold ${n}`, { file: latentPath });
  if (latents.z.data.every((value, i) => value === latents.z.data[i % latents.z.nCols])) {
    throw new InputError(
      `all ${n} samples have the same latent vector, so there is nothing to cluster`,
      { file: latentPath, column: 'z' },
      'the model collapsed to its prior; retrain with a lower beta or more epochs',
    );
  }
  const kMax = Math.min(options.kMax, n - 1);
  if (options.kMin > kMax) {
    throw new InputError(`the k-means range [${options.kMin}, ${options.kMax}] is empty for ${n} samples`, {}, `set --k-min to at most ${n - 1}`);
  }
  // Normalize copies the labels into its obs; ingest's obs is the fallback for runs without it.
  const ingestObs = ctx.inputPath('ingest', FILES.obs);
  const labels =
    (existsSync(paths.obs) ? readLabels(paths.obs, latents.sampleIds) : null) ??
    (existsSync(ingestObs) || !existsSync(paths.obs) ? readLabels(ingestObs, latents.sampleIds) : null);
  const encoded = labels ? encodeLabels(labels) : null;
  const labelled = encoded !== null && encoded.classes.length > 0 ? encoded : null;
  if (encoded && encoded.codes.some((code) => code < 0)) {
    const missing = encoded.codes.filter((code) => code < 0).length;
    warnings.push(`${missing} of ${n} samples have no label; agreement with labels leaves them out`);
  }
  const settings: PartitionSettings = {
    kMin: options.kMin,
    kMax,
    restarts: options.kmeansRestarts,
    silhouetteSampleSize: options.silhouetteSampleSize,
    scanSampleSize: options.kmeansScanSampleSize,
    graphNeighbors: options.graphNeighbors,
    resolution: options.resolution,
    resolutions: options.resolutions,
    exactNeighborsMaxSamples: options.exactNeighborsMaxSamples,
  };
  const agreement = (codes: Int32Array) =>
    labelled ? agreementWithLabels(codes, labelled.codes, labelled.classes.length) : null;

  // Latent clusterings.
  ctx.log.info(`clustering ${n} samples x ${latents.z.nCols} latent dimensions (k = ${options.kMin}..${kMax})`);
  const steps: Record<string, number> = {};
  const latent = timer.measure('latent clustering', () =>
    partitionSpace(latents.z, settings, rng.fork('latent'), options.umapNeighbors, steps),
  );
  for (const [step, seconds] of Object.entries(steps)) timer.timings[`latent ${step}`] = seconds;
  const columns: Record<string, Int32Array> = { kmeans: latent.scan.best.labels, louvain: latent.louvain };
  const clusterings: ClusteringReport[] = [
    {
      column: 'kmeans',
      method: 'kmeans',
      space: 'latent',
      nClusters: sizesOf(columns.kmeans).length,
      sizes: sizesOf(columns.kmeans),
      parameters: { k: latent.scan.chosenK },
      agreement: agreement(columns.kmeans),
      stability: null,
    },
    {
      column: 'louvain',
      method: 'louvain',
      space: 'latent',
      nClusters: sizesOf(columns.louvain).length,
      sizes: sizesOf(columns.louvain),
      parameters: { resolution: latent.resolution, modularity: latent.modularity },
      agreement: agreement(columns.louvain),
      stability: null,
    },
  ];
  if (clusterings[0].nClusters < latent.scan.chosenK) {
    warnings.push(`k-means left ${latent.scan.chosenK - clusterings[0].nClusters} of ${latent.scan.chosenK} clusters empty`);
  }

  // Stability under subsampling.
  if (options.stabilityResamples > 0) {
    timer.measure('stability', () => {
      const stabilityRng = rng.fork('stability');
      const stabilitySize = Math.min(Math.max(3, Math.round(options.stabilityFraction * n)), options.stabilityMaxSamples, n);
      clusterings[0].stability = subsampleStability(
        columns.kmeans,
        kmeansRecluster(latents.z, latent.scan.chosenK, options.kmeansRestarts),
        options.stabilityResamples,
        stabilitySize,
        stabilityRng.fork('kmeans'),
      );
      clusterings[1].stability = subsampleStability(
        columns.louvain,
        louvainRecluster(latents.z, settings, latent.resolution),
        options.stabilityResamples,
        stabilitySize,
        stabilityRng.fork('louvain'),
      );
    });
  }

  // PCA baseline on the same normalized data.
  let baseline: ClusterSummary['baseline'] = null;
  let rowsInNormalized: Int32Array | null = null;
  if (existsSync(paths.obs)) rowsInNormalized = alignRows(paths.obs, latents.sampleIds);
  if (options.pcaComponents > 0 && rowsInNormalized && existsSync(paths.X)) {
    const rows = rowsInNormalized;
    const { pca, nGenes } = timer.measure('pca', () => {
      const scaled = readScaled(paths.X, rows);
      return { pca: principalComponents(scaled, { nComponents: options.pcaComponents }, rng.fork('pca')), nGenes: scaled.nCols };
    });
    writeTable(join(ctx.outputDir, FILES.pca), denseToTable(pca.scores, 'z', { name: 'sample_id', values: latents.sampleIds }));
    baseline = timer.measure('pca clustering', () => {
      const space = partitionSpace(pca.scores, settings, rng.fork('pca-space'), 0, steps);
      for (const [step, seconds] of Object.entries(steps)) timer.timings[`pca ${step}`] = seconds;
      columns.pca_kmeans = space.scan.best.labels;
      columns.pca_louvain = space.louvain;
      clusterings.push(
        {
          column: 'pca_kmeans',
          method: 'kmeans',
          space: 'pca',
          nClusters: sizesOf(space.scan.best.labels).length,
          sizes: sizesOf(space.scan.best.labels),
          parameters: { k: space.scan.chosenK },
          agreement: agreement(space.scan.best.labels),
          stability: null,
        },
        {
          column: 'pca_louvain',
          method: 'louvain',
          space: 'pca',
          nClusters: sizesOf(space.louvain).length,
          sizes: sizesOf(space.louvain),
          parameters: { resolution: space.resolution, modularity: space.modularity },
          agreement: agreement(space.louvain),
          stability: null,
        },
      );
      return {
        nComponents: pca.scores.nCols,
        nGenes,
        pcaMethod: pca.method,
        explainedVarianceRatio: pca.explainedVarianceRatio,
        curve: space.scan.curve,
        chosenK: space.scan.chosenK,
        resolutionCurve: space.resolutionScan?.curve ?? null,
      };
    });
  } else if (options.pcaComponents > 0) {
    warnings.push(`no PCA baseline: ${paths.X} not found`);
  }
  if (labelled && baseline) {
    for (const method of ['kmeans', 'louvain'] as const) {
      const ours = clusterings.find((c) => c.column === method)!.agreement!;
      const theirs = clusterings.find((c) => c.column === `pca_${method}`)!.agreement!;
      if (ours.ari < theirs.ari) {
        warnings.push(
          `${method} on the latents agrees less with the labels than on ${baseline.nComponents} principal components (ARI ${ours.ari.toFixed(3)} vs ${theirs.ari.toFixed(3)})`,
        );
      }
    }
  }

  // Mixture-prior components against the latent clusterings.
  let mixturePrior: ClusterSummary['mixturePrior'] = null;
  if (latents.priorComponent) {
    const prior = latents.priorComponent;
    const components = [...new Set(prior)].sort((a, b) => a - b);
    mixturePrior = {
      components,
      sizes: components.map((component) => prior.filter((value) => value === component).length),
      vsClusterings: clusterings
        .filter((clustering) => clustering.space === 'latent')
        .map((clustering) => {
          const codes = columns[clustering.column];
          const byCluster = contingency(codes, prior);
          return {
            column: clustering.column,
            ari: adjustedRandIndex(codes, prior),
            nmi: normalizedMutualInformation(codes, prior),
            counts: byCluster.counts,
          };
        }),
    };
  }

  // UMAP on the latents, sharing the kNN graph.
  const umap = timer.measure('umap', () =>
    runUmap(
      latents.z,
      { nNeighbors: options.umapNeighbors, minDist: options.umapMinDist, nEpochs: options.umapEpochs },
      rng.fork('umap'),
      latent.neighbors,
    ),
  );
  if (umap.used.nNeighbors < options.umapNeighbors) {
    warnings.push(`UMAP used ${umap.used.nNeighbors} neighbours because the cohort has only ${n} samples`);
  }

  // Marker genes on the log-normalized data.
  let markers: ClusterSummary['markers'] = null;
  const genes = existsSync(paths.var) ? readGeneTable(paths.var) : null;
  if (options.markers && rowsInNormalized && genes && existsSync(paths.lognorm)) {
    const rows = rowsInNormalized;
    markers = timer.measure('markers', () => {
      const byGene = readLognormByGene(paths.lognorm, rows);
      const scale = foldChangeScale(paths.normalization);
      const groupings = markerGroupings(clusterings, columns, labelled);
      // Groupings over all samples share one ranking; the labels get their own when some samples lack one.
      const complete = groupings.filter((grouping) => grouping.codes.every((code) => code >= 0));
      const partial = groupings.filter((grouping) => !complete.includes(grouping));
      const results = [
        ...rankGenesGroupsByGene(byGene, complete, scale),
        ...partial.flatMap((grouping) => rankGenesGroupsByGene(byGene, [grouping], scale)),
      ];
      writeFrame(join(ctx.outputDir, CLUSTER_FILES.markers), markersFrame(results, genes));
      return {
        foldChange: scale,
        nGenes: byGene.nRows,
        groupings: summarizeMarkers(results, genes, options.markerTopGenes, Math.min(options.markerTopGenes, 5)),
      };
    });
  } else if (options.markers) {
    warnings.push(`no marker genes: ${paths.lognorm} or ${paths.var} not found`);
  }

  // Genes per latent dimension from the decoder's loadings.
  let latentGenes: ClusterSummary['latentGenes'] = null;
  const loadingsPath = ctx.inputPath('train', 'gene_loadings.arrow');
  if (existsSync(loadingsPath)) {
    const loadings = readGeneLoadings(loadingsPath);
    const symbolById = new Map(genes ? genes.geneIds.map((id, j) => [id, genes.symbols[j]]) : []);
    const symbolOf = (id: string) => symbolById.get(id) ?? null;
    const rankings = rankLatentGenes(loadings);
    writeFrame(join(ctx.outputDir, CLUSTER_FILES.latentGenes), latentGenesFrame(loadings, rankings, symbolOf));
    const dims = loadings.loading.nCols;
    latentGenes = rankings.map((ranking) => ({
      dimension: ranking.dimension,
      top: Array.from(ranking.order.subarray(0, options.latentTopGenes), (gene) => {
        const value = loadings.loading.data[gene * dims + ranking.dimension];
        const geneId = loadings.geneIds[gene];
        return { geneId, symbol: symbolOf(geneId), statistic: value, p: null, q: null, effect: value, pctIn: null, pctOut: null };
      }),
    }));
  }

  const clusterFrame: Frame = { sample_id: latents.sampleIds, ...columns };
  writeFrame(join(ctx.outputDir, FILES.clusters), clusterFrame);
  writeTable(join(ctx.outputDir, FILES.umap), denseToTable(umap.embedding, 'umap', { name: 'sample_id', values: latents.sampleIds }));

  const summary: ClusterSummary = {
    nSamples: n,
    latentDim: latents.z.nCols,
    seed: ctx.seed,
    neighbors: { k: latent.neighbors.k, method: latent.neighbors.method, exactMaxSamples: options.exactNeighborsMaxSamples },
    kmeans: {
      kMin: options.kMin,
      kMax,
      restarts: options.kmeansRestarts,
      curve: latent.scan.curve,
      chosenK: latent.scan.chosenK,
      silhouetteSamples: latent.scan.silhouetteSamples,
    },
    louvain: {
      resolution: latent.resolution,
      choice: latent.resolutionScan ? 'auto' : 'fixed',
      curve: latent.resolutionScan?.curve ?? null,
      silhouetteSamples: latent.resolutionScan?.silhouetteSamples ?? null,
    },
    baseline,
    labelClasses: labelled ? labelled.classes : null,
    clusterings,
    stability:
      options.stabilityResamples > 0
        ? {
            resamples: options.stabilityResamples,
            fraction: options.stabilityFraction,
            samplesPerResample: Math.min(Math.max(3, Math.round(options.stabilityFraction * n)), options.stabilityMaxSamples, n),
          }
        : null,
    mixturePrior,
    markers,
    latentGenes,
    umap: umap.used,
    timings: timer.finish(),
  };
  return { summary: summary as unknown as Record<string, unknown>, warnings };
}
