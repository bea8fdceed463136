import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PIPELINE_DEFAULTS, type PipelineOptions } from '../../pipeline/index.js';
import { copyFileAtomic } from '../io/atomic.js';
import { fingerprintFile, hashJson } from '../run/hash.js';
import { HEAD_FILE as LEDGER_HEAD_FILE } from '../privacy/ledger-chain.js';
import { FILES, stageDir } from '../run/layout.js';
import { closeRun, executeStage, openRun } from '../run/runner.js';
import { runClassify } from '../stages/classify.js';
import { runCluster } from '../stages/cluster.js';
import { runIngest } from '../stages/ingest.js';
import { runNormalize } from '../stages/normalize.js';
import { runReport } from '../stages/report.js';
import { runTrain, validateTrainOptions } from '../stages/train.js';
import { InputError } from '../util/errors.js';
import { rootLogger } from '../util/log.js';
import { addClassifyOptions, classifyOptionsFrom } from './classify.js';
import { addClusterOptions, clusterOptionsFrom } from './cluster.js';
import { addIngestOptions, ingestOptionsFrom } from './ingest.js';
import { addNormalizeOptions, normalizeOptionsFrom } from './normalize.js';
import { parseInteger } from './parse.js';
import { addReportOptions, reportOptionsFrom } from './report.js';
import { addTrainOptions, trainOptionsFrom } from './train.js';

/** Resolves every stage's options from the defaults in pipeline/ and the command line. */
export function resolvePipelineOptions(inputs: string[], parsed: Record<string, unknown>): PipelineOptions {
  const d = PIPELINE_DEFAULTS;
  const privacyDir = (parsed.privacyDir as string | undefined) ?? d.privacyDir;
  return {
    seed: (parsed.seed as number | undefined) ?? d.seed,
    reportsDir: (parsed.reportsDir as string | undefined) ?? d.reportsDir,
    privacyDir,
    runId: (parsed.runId as string | undefined) ?? d.runId,
    force: Boolean(parsed.force),
    ingest: { ...d.ingest, ...ingestOptionsFrom(parsed), inputs: inputs.map((input) => resolve(input)) },
    normalize: { ...d.normalize, ...normalizeOptionsFrom(parsed) },
    train: { ...d.train, ...trainOptionsFrom(parsed), privacyDir: resolve(privacyDir) },
    cluster: { ...d.cluster, ...clusterOptionsFrom(parsed) },
    classify: { ...d.classify, ...classifyOptionsFrom(parsed) },
    report: { ...d.report, ...reportOptionsFrom(parsed), privacyDir: resolve(privacyDir) },
  };
}

/**
 * The run id when none is given: the first input's name and a hash of the input files, the
 * seed and the options of ingest, normalize and train. Rerunning the same command therefore
 * reuses the run directory and resumes after the last completed stage. A different model
 * (other training options, --no-dp among them) gets a directory of its own, so it never
 * replaces a trained model or the ledger entry that model spent. Changing only cluster,
 * classify or report options reruns those stages in place, because they are cheap, spend no
 * privacy budget and can be reproduced from the saved latents.
 */
export function defaultRunId(inputs: string[], inputHashes: string[], options: PipelineOptions): string {
  const stem = basename(inputs[0]).replace(/(\.gz)?$/, '').replace(/\.[^.]+$/, '');
  const slug = stem.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
  const { privacyDir: _privacyDir, ...train } = options.train;
  const key = { inputHashes, ingest: matrixOptions(options.ingest), seed: options.seed, normalize: options.normalize, train };
  return `${slug}-${hashJson(key).slice(0, 8)}`;
}

/** Ingest options that shape the matrix; the metadata options only add labels and covariates. */
function matrixOptions(ingest: PipelineOptions['ingest']): Record<string, unknown> {
  const { inputs: _paths, metadata: _metadata, metadataIdColumn: _id, metadataLabelColumn: _label, ...rest } = ingest;
  return rest;
}

/** Runs every stage in order and returns the run directory. */
export async function runPipeline(options: PipelineOptions): Promise<string> {
  for (const input of options.ingest.inputs) {
    if (!existsSync(input)) throw new InputError('input file not found', { file: input }, 'check the path');
  }
  // Options that no data can make valid fail here, before ingest writes anything.
  validateTrainOptions(options.train);
  const fingerprints = await Promise.all(options.ingest.inputs.map((input) => fingerprintFile(input)));
  const runId = options.runId ?? defaultRunId(options.ingest.inputs, fingerprints.map((f) => f.sha256), options);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) {
    throw new InputError(`run id '${runId}' may contain only letters, digits, '.', '_' and '-'`);
  }
  const runDir = resolve(options.reportsDir, runId);
  rootLogger.info(`run ${runId} in ${runDir}`);
  const run = openRun({ runDir, runId, seed: options.seed, inputs: fingerprints });
  try {
    const force = options.force;
    const metadataHash = options.ingest.metadata ? (await fingerprintFile(options.ingest.metadata)).sha256 : null;
    await executeStage(run, 'ingest', options.ingest, runIngest, {
      force,
      keyExtra: { fingerprints: fingerprints.map((f) => f.sha256), metadataHash },
      keyIgnore: ['inputs', 'metadata'],
      contentKey: hashJson({ fingerprints: fingerprints.map((f) => f.sha256), options: matrixOptions(options.ingest) }),
    });
    await executeStage(run, 'normalize', options.normalize, runNormalize, { force });
    await executeStage(run, 'train', options.train, runTrain, { force, keyIgnore: ['privacyDir'] });
    await executeStage(run, 'cluster', options.cluster, runCluster, { force });
    await executeStage(run, 'classify', options.classify, runClassify, { force });
    await executeStage(run, 'report', options.report, runReport, {
      force,
      keyExtra: { ledger: ledgerHead(options.privacyDir) },
      keyIgnore: ['privacyDir'],
    });
    publishReport(runDir);
  } finally {
    closeRun(run);
  }
  return runDir;
}

/**
 * Copies the report and each export file from 06-report/ to the run root, each replaced
 * atomically. Files other commands wrote to exports/ (`genevae export biomarkers`) stay.
 */
export function publishReport(runDir: string): void {
  const reportDir = stageDir(runDir, 'report');
  copyFileAtomic(join(reportDir, FILES.report), join(runDir, FILES.report));
  rmSync(join(runDir, FILES.outdatedReport), { force: true });
  const exportsSource = join(reportDir, FILES.exports);
  if (!existsSync(exportsSource)) return;
  for (const name of readdirSync(exportsSource)) {
    copyFileAtomic(join(exportsSource, name), join(runDir, FILES.exports, name));
  }
}

/** The ledger's head (its last line and hash), so a report reruns when the budget table would change. */
function ledgerHead(privacyDir: string): string | null {
  const path = join(privacyDir, LEDGER_HEAD_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

export function registerRun(program: Command): void {
  let command = program
    .command('run')
    .argument('<inputs...>', 'matrix file(s): CSV, TSV (optionally gzipped), Arrow/Feather, a Cell Ranger matrix directory (or its .mtx file) or a GEO MINiML series (its directory or .xml file); several inputs are joined sample-wise')
    .description('run every stage: ingest, normalize, train, cluster, classify, report')
    .option('--seed <n>', `seed of every seeded random choice; DP-SGD sampling and noise use a secure source (default: ${PIPELINE_DEFAULTS.seed})`, parseInteger(0, 0xffffffff))
    .option(
      '--run-id <id>',
      'name of the run directory under --reports-dir (default: the input name and a hash of the inputs, the seed and the ingest, normalize and train options)',
    )
    .option('--reports-dir <dir>', `directory of run directories (default: ${PIPELINE_DEFAULTS.reportsDir})`)
    .option('--privacy-dir <dir>', `directory of the privacy ledger and budget policy (default: ${PIPELINE_DEFAULTS.privacyDir})`)
    .option('--force', 'rerun every stage even when its inputs and options are unchanged');
  command = addIngestOptions(command);
  command = addNormalizeOptions(command);
  command = addTrainOptions(command);
  command = addClusterOptions(command);
  command = addClassifyOptions(command);
  command = addReportOptions(command);
  command.action(async (inputs: string[], parsed: Record<string, unknown>) => {
    const options = resolvePipelineOptions(inputs, parsed);
    const runDir = await runPipeline(options);
    rootLogger.info(`report: ${join(runDir, FILES.report)}`);
    process.stdout.write(`${join(runDir, FILES.report)}\n`);
  });
}
