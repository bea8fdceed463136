/** Options of the report stage. */
export interface ReportOptions {
  /** Title at the top of the report. Default: the run id. */
  title: string | null;
  /** Largest number of points drawn in one scatter plot; more are sampled, and the plot says so. Default 5,000. */
  maxScatterPoints: number;
}

export const REPORT_DEFAULTS: ReportOptions = {
  title: null,
  maxScatterPoints: 5_000,
};
