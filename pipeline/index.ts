import { CLASSIFY_DEFAULTS, type ClassifyOptions } from './classify.js';
import { CLUSTER_DEFAULTS, type ClusterOptions } from './cluster.js';
import { INGEST_DEFAULTS, type IngestOptions } from './ingest.js';
import { NORMALIZE_DEFAULTS, type NormalizeOptions } from './normalize.js';
import { REPORT_DEFAULTS, type ReportOptions } from './report.js';
import { TRAIN_DEFAULTS, type TrainOptions } from './train.js';

export type { ClassifyOptions, ClusterOptions, IngestOptions, NormalizeOptions, ReportOptions, TrainOptions };

/** Options of a whole run; the manifest records the resolved values so a run can be repeated exactly. */
export interface PipelineOptions {
  /** Seed of every seeded random choice in the run (DP-SGD sampling and noise excepted). Default 0. */
  seed: number;
  /** Directory that holds run directories. Default 'reports'. */
  reportsDir: string;
  /** Directory of the privacy ledger and budget policy. Default 'privacy'. */
  privacyDir: string;
  /** Run id; null derives one from the input's name and a hash of inputs and options, so a rerun resumes. */
  runId: string | null;
  /** Rerun every stage even when its inputs and options are unchanged. Default false. */
  force: boolean;
  ingest: IngestOptions;
  normalize: NormalizeOptions;
  train: TrainOptions;
  cluster: ClusterOptions;
  classify: ClassifyOptions;
  report: ReportOptions;
}

export const PIPELINE_DEFAULTS: Omit<PipelineOptions, 'ingest'> & { ingest: Omit<IngestOptions, 'inputs'> } = {
  seed: 0,
  reportsDir: 'reports',
  privacyDir: 'privacy',
  runId: null,
  force: false,
  ingest: INGEST_DEFAULTS,
  normalize: NORMALIZE_DEFAULTS,
  train: TRAIN_DEFAULTS,
  cluster: CLUSTER_DEFAULTS,
  classify: CLASSIFY_DEFAULTS,
  report: REPORT_DEFAULTS,
};
