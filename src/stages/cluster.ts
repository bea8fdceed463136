import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { ClusterOptions } from '../../pipeline/cluster.js';
import { denseToTable, writeFrame, writeTable } from '../io/arrow.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { agreementWithLabels, type LabelAgreement } from '../cluster/agreement.js';
import { encodeLabels, readLabels, readLatents } from '../cluster/inputs.js';
import { scanKmeans, type KmeansCurvePoint } from '../cluster/kmeans.js';
import { runUmap } from '../cluster/umap.js';

/** One partition of the samples, as the report shows it. */
export interface ClusteringReport {
  /** Column of clusters.arrow holding this partition. */
  column: string;
  method: 'kmeans';
  /** Space the samples were clustered in. */
  space: 'latent';
  nClusters: number;
  /** Samples per cluster, cluster 0 first (clusters are numbered by decreasing size). */
  sizes: number[];
  /** Agreement with the labels; null when the cohort has no labels. */
  agreement: LabelAgreement | null;
}

/** Everything the report needs from the cluster stage; written to 04-cluster/summary.json. */
export interface ClusterSummary {
  nSamples: number;
  latentDim: number;
  seed: number;
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
  /** Label classes in code order (the columns of every contingency table); null without labels. */
  labelClasses: string[] | null;
  clusterings: ClusteringReport[];
  umap: { nNeighbors: number; minDist: number; nEpochs: number };
  /** Wall-clock seconds of each step. */
  timings: Record<string, number>;
}

function sizesOf(labels: Int32Array): number[] {
  const sizes: number[] = [];
  for (const label of labels) sizes[label] = (sizes[label] ?? 0) + 1;
  return Array.from(sizes, (size) => size ?? 0);
}

/**
 * Clusters the samples in the VAE's latent space and embeds them in 2-D.
 *
 * Reads 03-train/latent.arrow and the labels of 02-normalize/obs.arrow (01-ingest/obs.arrow
 * when normalize wrote none). Writes in the stage directory:
 * - clusters.arrow: sample_id (utf8), kmeans (int32, cluster 0 is the largest)
 * - umap.arrow: sample_id (utf8), umap (FixedSizeList<Float32>[2])
 * and returns a {@link ClusterSummary}.
 */
export async function runCluster(ctx: StageContext, options: ClusterOptions): Promise<StageResult> {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const rng = new Rng(ctx.seed).fork('cluster');

  const latents = readLatents(ctx.inputPath('train', FILES.latent));
  const n = latents.z.nRows;
  if (n < 3) {
    throw new InputError(`clustering needs at least 3 samples, the latents hold ${n}`, {
      file: ctx.inputPath('train', FILES.latent),
    });
  }
  const normalizedObs = ctx.inputPath('normalize', FILES.obs);
  const obsPath = existsSync(normalizedObs) ? normalizedObs : ctx.inputPath('ingest', FILES.obs);
  const labels = readLabels(obsPath, latents.sampleIds);
  const encoded = labels ? encodeLabels(labels) : null;
  const hasLabels = encoded !== null && encoded.classes.length > 0;
  if (encoded && encoded.codes.some((code) => code < 0)) {
    const missing = encoded.codes.filter((code) => code < 0).length;
    warnings.push(`${missing} of ${n} samples have no label; agreement with labels leaves them out`);
  }

  let t = performance.now();
  const kMax = Math.min(options.kMax, n - 1);
  if (options.kMin > kMax) {
    throw new InputError(
      `the k-means range [${options.kMin}, ${options.kMax}] is empty for ${n} samples`,
      {},
      `set --k-min to at most ${n - 1}`,
    );
  }
  ctx.log.info(`k-means for k = ${options.kMin}..${kMax} on ${n} samples x ${latents.z.nCols} latent dimensions`);
  const scan = scanKmeans(
    latents.z,
    {
      kMin: options.kMin,
      kMax,
      restarts: options.kmeansRestarts,
      silhouetteSampleSize: options.silhouetteSampleSize,
    },
    rng.fork('kmeans'),
  );
  timings.kmeans = (performance.now() - t) / 1000;
  ctx.log.info(`chose k = ${scan.chosenK} by silhouette (${timings.kmeans.toFixed(1)} s)`);

  const clusterings: ClusteringReport[] = [];
  const kmeansLabels = scan.best.labels;
  const kmeansSizes = sizesOf(kmeansLabels);
  clusterings.push({
    column: 'kmeans',
    method: 'kmeans',
    space: 'latent',
    nClusters: kmeansSizes.length,
    sizes: kmeansSizes,
    agreement: hasLabels ? agreementWithLabels(kmeansLabels, encoded.codes, encoded.classes.length) : null,
  });
  if (kmeansSizes.length < scan.chosenK) {
    warnings.push(`k-means left ${scan.chosenK - kmeansSizes.length} of ${scan.chosenK} clusters empty`);
  }

  t = performance.now();
  const umap = runUmap(
    latents.z,
    { nNeighbors: options.umapNeighbors, minDist: options.umapMinDist, nEpochs: options.umapEpochs },
    rng.fork('umap'),
  );
  timings.umap = (performance.now() - t) / 1000;
  if (umap.used.nNeighbors < options.umapNeighbors) {
    warnings.push(`UMAP used ${umap.used.nNeighbors} neighbours because the cohort has only ${n} samples`);
  }

  writeFrame(join(ctx.outputDir, FILES.clusters), { sample_id: latents.sampleIds, kmeans: kmeansLabels });
  writeTable(
    join(ctx.outputDir, FILES.umap),
    denseToTable(umap.embedding, 'umap', { name: 'sample_id', values: latents.sampleIds }),
  );
  timings.total = (performance.now() - started) / 1000;

  const summary: ClusterSummary = {
    nSamples: n,
    latentDim: latents.z.nCols,
    seed: ctx.seed,
    kmeans: {
      kMin: options.kMin,
      kMax,
      restarts: options.kmeansRestarts,
      curve: scan.curve,
      chosenK: scan.chosenK,
      silhouetteSamples: scan.silhouetteSamples,
    },
    labelClasses: hasLabels ? encoded.classes : null,
    clusterings,
    umap: umap.used,
    timings,
  };
  return { summary: summary as unknown as Record<string, unknown>, warnings };
}
