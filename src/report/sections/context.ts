import type { ReportOptions } from '../../../pipeline/report.js';
import type { RunData } from '../run-data.js';

/** Inputs of every section renderer. */
export interface SectionContext {
  data: RunData;
  options: ReportOptions;
  /** Seed of the run; the scatter sampling derives its stream from it. */
  seed: number;
}
