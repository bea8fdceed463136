import type { Logger } from '../util/log.js';
import type { StageName } from './layout.js';

/**
 * What a stage receives besides its options. A stage reads earlier stages' files through
 * `inputPath` and writes only inside `outputDir`, which the runner renames into place when
 * the stage succeeds, so a killed stage never leaves partial outputs.
 */
export interface StageContext {
  /** The run directory, reports/<run-id>. */
  readonly runDir: string;
  /** Where this stage writes; a temporary directory that becomes <runDir>/<NN-stage> on success. */
  readonly outputDir: string;
  /** Path of a file written by an earlier, completed stage. */
  inputPath(stage: StageName, file: string): string;
  /** Run identifier, recorded in the privacy ledger and the report. */
  readonly runId: string;
  /** The run's seed; stages derive their own streams with `new Rng(seed).fork(stageName)`. */
  readonly seed: number;
  readonly log: Logger;
}

/**
 * What a stage returns. `summary` is written to <stage>/summary.json and read by the report;
 * `warnings` are shown at the top of the report as well as logged.
 */
export interface StageResult {
  summary: Record<string, unknown>;
  warnings: string[];
  /** Facts for the manifest's record of the run (the backend actually used, say). */
  notes?: Record<string, unknown>;
}
