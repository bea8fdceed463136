import { join } from 'node:path';

/** The pipeline's stages in execution order. */
export const STAGES = ['ingest', 'normalize', 'train', 'cluster', 'classify', 'report'] as const;
export type StageName = (typeof STAGES)[number];

/** Directory of each stage inside a run directory. */
export const STAGE_DIRS: Record<StageName, string> = {
  ingest: '01-ingest',
  normalize: '02-normalize',
  train: '03-train',
  cluster: '04-cluster',
  classify: '05-classify',
  report: '06-report',
};

/** File names shared between stages (the data contract); each stage documents what it writes. */
export const FILES = {
  obs: 'obs.arrow',
  var: 'var.arrow',
  X: 'X.arrow',
  /** Raw counts of the selected genes, written by normalize when the input holds counts. */
  counts: 'counts.arrow',
  latent: 'latent.arrow',
  clusters: 'clusters.arrow',
  umap: 'umap.arrow',
  /** Principal-component scores of the cluster stage's PCA baseline, in latent.arrow's layout. */
  pca: 'pca.arrow',
  predictions: 'predictions.arrow',
  summary: 'summary.json',
  manifest: 'manifest.json',
  report: 'index.html',
  /** The root report moved aside when a stage reruns, until a new report replaces it. */
  outdatedReport: 'index.outdated.html',
  exports: 'exports',
} as const;

export function stageDir(runDir: string, stage: StageName): string {
  return join(runDir, STAGE_DIRS[stage]);
}

export function stageFile(runDir: string, stage: StageName, file: string): string {
  return join(runDir, STAGE_DIRS[stage], file);
}
