import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { INGEST_DEFAULTS, type IngestOptions } from '../../pipeline/ingest.js';
import { fingerprintFile } from '../run/hash.js';
import { FILES } from '../run/layout.js';
import { closeRun, executeStage, openRun, readManifest } from '../run/runner.js';
import { isBundleInput, runIngest } from '../stages/ingest.js';
import { InputError } from '../util/errors.js';
import { rootLogger, type Logger } from '../util/log.js';
import { collect, parseChoice, parseInteger } from './parse.js';

const d = INGEST_DEFAULTS;

/** Adds the ingest options; `genevae run` composes them with the other stages' options. */
export function addIngestOptions(command: Command): Command {
  return command
    .option('--input-format <format>', `matrix format: auto (Arrow/Feather and gzip by magic bytes, delimiter by extension), csv, tsv or arrow (default: ${d.format})`, parseChoice(['auto', 'csv', 'tsv', 'arrow'] as const))
    .option('--genes-in-rows', 'the matrix has genes as rows and samples as columns (default: samples in rows)')
    .option('--id-column <name>', 'column holding the sample ids, or the gene ids with --genes-in-rows (default: the first column)')
    .option('--exclude-columns <pattern>', "leave out matrix columns by name or glob pattern, e.g. 'call*'; repeatable (default: none)", collect)
    .option('--label-column <name>', 'column holding the label: in the matrix when samples are rows, else in the --metadata file (default: none)')
    .option('--metadata <file>', 'CSV/TSV with one row per sample (labels, covariates), joined on sample id (default: none)')
    .option('--metadata-id-column <name>', 'column of the metadata holding the sample ids (default: its first column)')
    .option('--metadata-label-column <name>', 'column of the metadata holding the label (default: none)')
    .option('--na-values <text>', `cell text read as a missing value, besides the empty cell; repeatable; replaces the default (default: ${d.naValues.join(', ')})`, collect)
    .option('--missing <policy>', `missing cells: error (stop) or zero (store 0 and count them) (default: ${d.missing})`, parseChoice(['error', 'zero'] as const))
    .option('--symbol-column <name>', 'with --genes-in-rows, column holding gene symbols, written to var.symbol (default: none)')
    .option('--obs-columns <pattern>', 'matrix columns kept as sample metadata rather than genes, by name or glob; repeatable (default: none)', collect)
    .option('--make-unique', 'rename repeated gene names as scanpy does (TP53, TP53-1, …) instead of stopping with an error')
    .option(
      '--sample-id-prefix <text>',
      'prefix for the sample ids of one input, given once per input in input order, joined with an underscore (lib1_AAACCTGAGAAGGCCT-1); ' +
        'joins inputs whose ids repeat, such as Cell Ranger libraries; metadata then uses the prefixed ids (default: none)',
      collect,
    );
}

/** Returns the ingest options the user set, leaving unset ones out so that INGEST_DEFAULTS apply. */
export function ingestOptionsFrom(parsed: Record<string, unknown>): Partial<IngestOptions> {
  const out: Partial<IngestOptions> = {};
  if (parsed.inputFormat !== undefined) out.format = parsed.inputFormat as IngestOptions['format'];
  if (parsed.genesInRows !== undefined) out.genesInRows = Boolean(parsed.genesInRows);
  if (parsed.idColumn !== undefined) out.idColumn = parsed.idColumn as string;
  if (parsed.excludeColumns !== undefined) out.excludeColumns = parsed.excludeColumns as string[];
  if (parsed.labelColumn !== undefined) out.labelColumn = parsed.labelColumn as string;
  if (parsed.metadata !== undefined) out.metadata = resolve(parsed.metadata as string);
  if (parsed.metadataIdColumn !== undefined) out.metadataIdColumn = parsed.metadataIdColumn as string;
  if (parsed.metadataLabelColumn !== undefined) out.metadataLabelColumn = parsed.metadataLabelColumn as string;
  if (parsed.naValues !== undefined) out.naValues = parsed.naValues as string[];
  if (parsed.missing !== undefined) out.missing = parsed.missing as IngestOptions['missing'];
  if (parsed.symbolColumn !== undefined) out.symbolColumn = parsed.symbolColumn as string;
  if (parsed.obsColumns !== undefined) out.obsColumns = parsed.obsColumns as string[];
  if (parsed.makeUnique !== undefined) out.makeUnique = Boolean(parsed.makeUnique);
  if (parsed.sampleIdPrefix !== undefined) out.samplePrefixes = parsed.sampleIdPrefix as string[];
  return out;
}

/** Ingest options that describe the matrix's layout, with the flag that sets each. */
const LAYOUT_FLAGS: [keyof IngestOptions, string][] = [
  ['format', '--input-format'],
  ['genesInRows', '--genes-in-rows'],
  ['idColumn', '--id-column'],
  ['excludeColumns', '--exclude-columns'],
  ['symbolColumn', '--symbol-column'],
  ['obsColumns', '--obs-columns'],
  ['naValues', '--na-values'],
  ['missing', '--missing'],
  ['makeUnique', '--make-unique'],
];

function quoted(value: string): string {
  return /^[\w.,/:=+-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/** Command-line flags that reproduce the layout options of `options` that differ from the defaults. */
export function layoutArguments(options: Partial<IngestOptions>): string[] {
  const args: string[] = [];
  for (const [field, flag] of LAYOUT_FLAGS) {
    const value = options[field];
    if (value === undefined || JSON.stringify(value) === JSON.stringify(INGEST_DEFAULTS[field as keyof typeof INGEST_DEFAULTS])) continue;
    if (typeof value === 'boolean') args.push(flag);
    else if (Array.isArray(value)) for (const item of value) args.push(flag, quoted(String(item)));
    else if (value !== null) args.push(flag, quoted(String(value)));
  }
  return args;
}

/** Reads the layout options the run in `runDir` read its matrix with from its manifest; returns null without a manifest. */
export function runLayoutOptions(runDir: string): Partial<IngestOptions> | null {
  const manifest = readManifest(runDir);
  if (!manifest) return null;
  const ingest = (manifest.options.ingest ?? {}) as Partial<IngestOptions>;
  const layout: Partial<IngestOptions> = {};
  for (const [field] of LAYOUT_FLAGS) {
    if (ingest[field] !== undefined) (layout as Record<string, unknown>)[field] = ingest[field];
  }
  return layout;
}

/** Adds `--like-model` to a command that reads a new cohort for a saved model. */
export function addLikeModelOption(command: Command): Command {
  return command.option(
    '--like-model',
    "read the new cohort with the layout options the model's run used (--genes-in-rows, --id-column, --exclude-columns, …); " +
      'options given on the command line override them (default: off)',
  );
}

/**
 * Returns the ingest options for a new cohort of the model in `runDir`: those on the command
 * line, over the model run's layout options when `--like-model` is given. A Cell Ranger matrix
 * or GEO series `input` has a fixed layout, so it takes none of the model run's table options.
 */
export function newCohortIngestOptions(runDir: string, parsed: Record<string, unknown>, input: string): Partial<IngestOptions> {
  const fromCommandLine = ingestOptionsFrom(parsed);
  if (!parsed.likeModel || isBundleInput(input)) return fromCommandLine;
  const layout = runLayoutOptions(runDir);
  if (!layout) {
    throw new InputError(
      `--like-model needs the model's run directory, but ${runDir} has no ${FILES.manifest}`,
      { file: runDir },
      'pass the run directory (reports/<run-id>) to --model, or give the layout options yourself',
    );
  }
  return { ...layout, ...fromCommandLine };
}

/**
 * Runs `read`, which ingests a new cohort for the model of `runDir`. When the new cohort's
 * matrix cannot be read and the model's run read its own matrix with other layout options,
 * logs those options before the error, since a cohort from the same source usually needs them.
 */
export async function withRunLayoutHint<T>(runDir: string, input: string, used: Partial<IngestOptions>, log: Logger, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InputError && !isBundleInput(input)) {
      const layout = runLayoutOptions(runDir);
      const theirs = layout ? layoutArguments(layout) : [];
      if (theirs.length > 0 && theirs.join(' ') !== layoutArguments(used).join(' ')) {
        log.warn(`the model's run read its matrix with ${theirs.join(' ')}; if the new cohort has the same layout, pass the same options or --like-model`);
      }
    }
    throw error;
  }
}

/** `genevae ingest <run-dir> <inputs...>`: reads the matrix into a new or existing run directory. */
export function registerIngest(program: Command): void {
  addIngestOptions(
    program
      .command('ingest')
      .argument('<run-dir>', 'run directory to write 01-ingest/ into (created when missing)')
      .argument('<inputs...>', 'matrix file(s): CSV, TSV (optionally gzipped), Arrow/Feather, a Cell Ranger matrix directory (or its .mtx file) or a GEO MINiML series (its directory or .xml file); several inputs are joined sample-wise')
      .description('read a matrix and its labels into obs/var/X Arrow tables (writes 01-ingest/)')
      .option('--seed <n>', 'seed recorded for a new run directory (default: 0)', parseInteger(0, 0xffffffff))
      .option('--force', 'rerun even when inputs and options are unchanged'),
  ).action(async (runDirArgument: string, inputs: string[], parsed: Record<string, unknown>) => {
    const options: IngestOptions = { ...INGEST_DEFAULTS, ...ingestOptionsFrom(parsed), inputs: inputs.map((input) => resolve(input)) };
    const fingerprints = await Promise.all(options.inputs.map((input) => fingerprintInput(input)));
    const metadataHash = options.metadata ? (await fingerprintInput(options.metadata)).sha256 : null;
    const runDir = resolve(runDirArgument);
    const run = openRun({ runDir, runId: basename(runDir), seed: (parsed.seed as number | undefined) ?? 0, inputs: fingerprints });
    try {
      await executeStage(run, 'ingest', options, runIngest, {
        force: Boolean(parsed.force),
        keyExtra: { fingerprints: fingerprints.map((f) => f.sha256), metadataHash },
      });
    } finally {
      closeRun(run);
    }
    rootLogger.info(`ingest outputs are in ${runDir}/01-ingest (${FILES.obs}, ${FILES.var}, ${FILES.X})`);
  });
}

async function fingerprintInput(path: string) {
  try {
    return await fingerprintFile(path);
  } catch (error) {
    throw new InputError(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file: path }, 'check the path');
  }
}
