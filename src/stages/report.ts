import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReportOptions } from '../../pipeline/report.js';
import { writeFileAtomic } from '../io/atomic.js';
import { auditLedger } from '../privacy/audit.js';
import { LEDGER_FILE } from '../privacy/ledger-chain.js';
import { FILES } from '../run/layout.js';
import type { StageContext, StageResult } from '../run/stage.js';
import { buildReport } from '../report/build.js';
import { writeExports, type ExportedTable } from '../report/exports.js';
import { RunData } from '../report/run-data.js';
import type { LedgerAuditView } from '../report/sections/privacy.js';
import type { SectionStatus } from '../report/html.js';

/** Summary of the report stage, recorded in 06-report/summary.json. */
export interface ReportSummary {
  /** Bytes of index.html. */
  bytes: number;
  /** Each section in page order and whether it rendered or was skipped because its stage did not run. */
  sections: { id: string; title: string; status: SectionStatus }[];
  /** Inline SVG plots in the page. */
  plots: number;
  /** Points drawn in each UMAP scatter and the cohort size (equal when nothing was sampled); null without UMAP. */
  scatter: { drawn: number; samples: number } | null;
  exports: ExportedTable[];
  /** Exports not written, with the reason (a stage that did not run). */
  exportsSkipped: string[];
  /** Path of the ledger the privacy section audited. */
  ledgerPath: string;
}

/** Audits the privacy ledger for the privacy section; a failure to read it is shown in the report, not raised. */
function auditLedgerView(privacyDir: string, runId: string): LedgerAuditView {
  const ledgerPath = join(resolve(privacyDir), LEDGER_FILE);
  const auditedAt = new Date().toISOString();
  try {
    return { result: auditLedger(resolve(privacyDir)), error: null, ledgerPath, runId, auditedAt };
  } catch (error) {
    return { result: null, error: `the audit of ${ledgerPath} failed: ${(error as Error).message}; run \`genevae audit\``, ledgerPath, runId, auditedAt };
  }
}

/**
 * Writes the run's report. Reads every completed stage's summary.json and tables, manifest.json
 * and the privacy ledger, and writes in the stage directory:
 * - index.html: the self-contained report with inline CSS and SVG plots. Its one inline script
 *   only sorts tables, so the page fetches nothing and reads fully with JavaScript disabled;
 * - exports/latent.{tsv,arrow}: sample_id, z_1..z_d;
 * - exports/umap.{tsv,arrow}: sample_id, umap_1, umap_2;
 * - exports/clusters.{tsv,arrow}: sample_id, label (when known), one column per clustering.
 * Stages that did not run appear as "not run" sections; the report itself never fails for a
 * missing summary field.
 */
export async function runReport(ctx: StageContext, options: ReportOptions): Promise<StageResult> {
  const data = new RunData(ctx.runDir);
  const audit = auditLedgerView(options.privacyDir, ctx.runId);
  const built = await buildReport(data, options, ctx.seed, audit);
  const reportPath = join(ctx.outputDir, FILES.report);
  writeFileAtomic(reportPath, built.html);

  let exported: { tables: ExportedTable[]; skipped: string[] } = { tables: [], skipped: ['exports were turned off (--no-exports)'] };
  if (options.exports) exported = writeExports(data, join(ctx.outputDir, FILES.exports));

  const plots = (built.html.match(/<figure class="plot"/g) ?? []).length;
  const summary: ReportSummary = {
    bytes: statSync(reportPath).size,
    sections: built.sections.map(({ id, title, status }) => ({ id, title, status })),
    plots,
    scatter: built.sections.find((section) => section.scatter)?.scatter ?? null,
    exports: exported.tables,
    exportsSkipped: exported.skipped,
    ledgerPath: audit.ledgerPath,
  };
  ctx.log.info(`wrote ${FILES.report} (${(summary.bytes / 1024).toFixed(0)} KiB, ${plots} plots) and ${exported.tables.length} export tables`);
  return { summary: summary as unknown as Record<string, unknown>, warnings: [] };
}

