import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { exportBiomarkers, sampleTable, writeExport, type ExportFormat } from '../cluster/export.js';
import { FILES } from '../run/layout.js';
import { InputError } from '../util/errors.js';
import { rootLogger } from '../util/log.js';
import { parseChoice, parseInteger, parseNumber } from './parse.js';

const FORMATS = ['tsv', 'csv', 'arrow'] as const;

function runDirectory(argument: string): string {
  const runDir = resolve(argument);
  if (!existsSync(join(runDir, FILES.manifest))) {
    throw new InputError(`${runDir} is not a run directory (no ${FILES.manifest})`, {}, 'give a directory under reports/ written by `genevae run`');
  }
  return runDir;
}

/**
 * Adds `genevae export biomarkers <run-dir>` (marker genes, latent genes and classifier importance
 * in one table, plus a sample table) and `genevae export samples <run-dir>` (the sample table only).
 */
export function registerExport(program: Command): void {
  const exportCommand = program.command('export').description('write tables of a finished run for follow-up analysis (under <run-dir>/exports/ by default)');
  const format = () => new Option('--format <format>', 'file format: tsv, csv or arrow (Arrow IPC file)').argParser(parseChoice(FORMATS)).default('tsv');
  const out = () => new Option('--out <dir>', 'directory to write into (default: <run-dir>/exports)');

  exportCommand
    .command('biomarkers')
    .description(
      'write biomarkers.<format> (gene id, symbol, source, group or latent dimension, statistic, p, q, effect size, direction, rank) and samples.<format> (latents, UMAP and clusters per sample)',
    )
    .argument('<run-dir>', 'run directory whose cluster stage has completed')
    .addOption(format())
    .addOption(new Option('--top <n>', 'rows per group and direction, per latent dimension, and per importance source').argParser(parseInteger(1)).default(50))
    .addOption(new Option('--q-max <q>', 'largest Benjamini-Hochberg q-value of a marker gene kept').argParser(parseNumber(0, 1)).default(0.05))
    .addOption(out())
    .action((runDirArgument: string, parsed: { format: ExportFormat; top: number; qMax: number; out?: string }) => {
      const runDir = runDirectory(runDirArgument);
      const result = exportBiomarkers(runDir, parsed.format, { top: parsed.top, qMax: parsed.qMax }, parsed.out ? resolve(parsed.out) : undefined);
      rootLogger.info(`wrote ${result.biomarkerRows} biomarkers to ${result.biomarkers} and ${result.sampleRows} samples to ${result.samples}`);
    });

  exportCommand
    .command('samples')
    .description('write samples.<format>: sample id, label, latents, UMAP coordinates and every clustering')
    .argument('<run-dir>', 'run directory whose cluster stage has completed')
    .addOption(format())
    .addOption(out())
    .action((runDirArgument: string, parsed: { format: ExportFormat; out?: string }) => {
      const runDir = runDirectory(runDirArgument);
      const path = join(parsed.out ? resolve(parsed.out) : join(runDir, FILES.exports), `samples.${parsed.format}`);
      const table = sampleTable(runDir);
      writeExport(path, table, parsed.format);
      rootLogger.info(`wrote ${table.sample_id.length} samples to ${path}`);
    });
}
