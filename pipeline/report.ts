/** Options of the report stage. */
export interface ReportOptions {
  /** Title at the top of the report. Default: the run id. */
  title: string | null;
  /**
   * Largest number of points drawn in one scatter plot. Larger cohorts are sampled, every
   * cluster keeping at least 25 points, and the caption states how many it shows. Default 5,000.
   */
  maxScatterPoints: number;
  /** Directory of the privacy ledger whose audit table the report shows. Default 'privacy'. */
  privacyDir: string;
  /** Write latents, UMAP coordinates and cluster assignments as TSV and Arrow under exports/. Default true. */
  exports: boolean;
}

export const REPORT_DEFAULTS: ReportOptions = {
  title: null,
  maxScatterPoints: 5_000,
  privacyDir: 'privacy',
  exports: true,
};
