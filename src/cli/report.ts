import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { REPORT_DEFAULTS, type ReportOptions } from '../../pipeline/report.js';
import { runReport } from '../stages/report.js';
import { parseInteger } from './parse.js';
import { publishReport } from './run.js';
import { runStandaloneStage } from './standalone.js';

/** Adds the report stage's options; defaults come from REPORT_DEFAULTS and are shown in --help. */
export function addReportOptions(command: Command): Command {
  const d = REPORT_DEFAULTS;
  return command
    .addOption(new Option('--report-title <text>', 'title at the top of the HTML report (default: the run id)'))
    .addOption(
      new Option(
        '--max-scatter-points <points>',
        `largest number of samples drawn in a UMAP scatter plot; larger cohorts are sampled, at least 25 per cluster, and the caption states how many are drawn (default ${d.maxScatterPoints})`,
      ).argParser(parseInteger(100)),
    )
    .addOption(new Option('--no-exports', 'do not write latents, UMAP coordinates and clusters as TSV and Arrow under exports/'));
}

/** Collects the report options the user set on the command line. */
export function reportOptionsFrom(parsed: Record<string, unknown>): Partial<ReportOptions> {
  const out: Partial<ReportOptions> = {};
  if (typeof parsed.reportTitle === 'string') out.title = parsed.reportTitle;
  if (typeof parsed.maxScatterPoints === 'number') out.maxScatterPoints = parsed.maxScatterPoints;
  if (parsed.exports === false) out.exports = false;
  return out;
}

/** Adds `genevae report <run-dir>`, which writes the report of an existing run and copies it to the run root. */
export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .description('write the self-contained HTML report and the exports of a run (06-report/, copied to the run root)')
    .argument('<run-dir>', 'run directory; stages that have not run appear as "not run" sections')
    .option('--privacy-dir <dir>', `directory of the privacy ledger shown in the report (default: ${REPORT_DEFAULTS.privacyDir})`)
    .option('--force', 'rerun even when inputs and options are unchanged');
  addReportOptions(command);
  command.action(async (runDir: string, parsed: Record<string, unknown>) => {
    const options: ReportOptions = {
      ...REPORT_DEFAULTS,
      ...reportOptionsFrom(parsed),
      privacyDir: resolve((parsed.privacyDir as string | undefined) ?? REPORT_DEFAULTS.privacyDir),
    };
    await runStandaloneStage(runDir, 'report', options, runReport, { force: Boolean(parsed.force) });
    publishReport(resolve(runDir));
  });
}
