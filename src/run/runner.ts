import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TEMPORARY_NAME, writeJsonAtomic } from '../io/atomic.js';
import { Logger } from '../util/log.js';
import { canonicalJson, hashJson, type FileFingerprint } from './hash.js';
import { FILES, STAGES, STAGE_DIRS, stageDir, type StageName } from './layout.js';
import { FileLock, processAlive } from './lock.js';
import type { StageContext, StageResult } from './stage.js';
import { codeVersion, dependencyVersions, packageVersion } from './versions.js';

export type StageStatus = 'running' | 'done' | 'failed';

export interface StageRecord {
  status: StageStatus;
  /** Hash of the stage's options, the code version and the keys of earlier stages. */
  key: string;
  startedAt: string;
  finishedAt?: string;
  seconds?: number;
  /** True when the stage was not rerun because its key matched the completed outputs. */
  cached?: boolean;
  error?: string;
}

/** manifest.json at the root of a run directory. */
export interface Manifest {
  runId: string;
  createdAt: string;
  updatedAt: string;
  codeVersion: string;
  versions: Record<string, string>;
  seed: number;
  inputs: FileFingerprint[];
  /** Resolved options of each stage that has run. */
  options: Partial<Record<StageName, unknown>>;
  stages: Partial<Record<StageName, StageRecord>>;
  /** Facts stages add for the record (backend used, accountant), keyed by stage. */
  notes: Partial<Record<StageName, Record<string, unknown>>>;
}

/** summary.json in each stage directory: the completion marker the runner checks on rerun. */
export interface StageSummaryFile {
  stage: StageName;
  key: string;
  /** Key seen by label-independent later stages, when it differs from `key`. */
  contentKey?: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  summary: Record<string, unknown>;
  warnings: string[];
}

/** An open run directory, locked against a second pipeline writing to it at the same time. */
export interface RunHandle {
  readonly runDir: string;
  readonly runId: string;
  readonly seed: number;
  manifest: Manifest;
  readonly lock: FileLock;
  readonly log: Logger;
}

export interface OpenRunOptions {
  runDir: string;
  runId: string;
  seed: number;
  inputs?: FileFingerprint[];
}

/** Opens (creating if needed) and locks a run directory, loading its manifest when there is one. */
export function openRun(options: OpenRunOptions): RunHandle {
  mkdirSync(options.runDir, { recursive: true });
  const lock = new FileLock(join(options.runDir, '.lock'));
  lock.acquire(`run directory ${options.runDir}`);
  const manifestPath = join(options.runDir, FILES.manifest);
  const now = new Date().toISOString();
  let manifest: Manifest;
  if (existsSync(manifestPath)) {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    manifest.codeVersion = codeVersion();
    manifest.versions = dependencyVersions();
    if (options.inputs && options.inputs.length > 0) manifest.inputs = options.inputs;
  } else {
    manifest = {
      runId: options.runId,
      createdAt: now,
      updatedAt: now,
      codeVersion: codeVersion(),
      versions: dependencyVersions(),
      seed: options.seed,
      inputs: options.inputs ?? [],
      options: {},
      stages: {},
      notes: {},
    };
  }
  manifest.notes ??= {};
  const run: RunHandle = {
    runDir: options.runDir,
    runId: options.runId,
    seed: options.seed,
    manifest,
    lock,
    log: new Logger(options.runId),
  };
  removeStaleTemporaries(options.runDir, run.log);
  saveManifest(run);
  return run;
}

/**
 * Removes the temporaries that killed processes left at the top of a run directory and in its
 * exports/: unfinished stage directories, replaced stage directories moved aside, and the
 * temporary files of atomic writes. The caller holds the run lock, so no pipeline writes there;
 * a temporary whose process is still alive (such as `genevae export`) is kept.
 *
 * A process that died between the two renames of replaceDirectory leaves a finished stage
 * directory (its summary.json is written last) under its temporary name. That directory is moved
 * into place instead, so that the stage is not recomputed: for train, not paid for twice.
 */
function removeStaleTemporaries(runDir: string, log: Logger): void {
  const removed: string[] = [];
  for (const dir of [runDir, join(runDir, FILES.exports)]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const match = TEMPORARY_NAME.exec(name);
      if (!match) continue;
      const pid = Number(match[1]);
      if (pid !== process.pid && processAlive(pid)) continue;
      const path = join(dir, name);
      const stage = dir === runDir ? finishedStageIn(path, name) : null;
      if (stage && !existsSync(stageDir(runDir, stage))) {
        renameSync(path, stageDir(runDir, stage));
        log.info(`moved the finished ${stage} outputs of an interrupted run into place: ${name} → ${STAGE_DIRS[stage]}/`);
        continue;
      }
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    }
  }
  if (removed.length > 0) log.info(`removed ${removed.length} temporaries left by an interrupted run: ${removed.join(', ')}`);
}

/** Returns the stage whose finished output directory this temporary is (it has its summary.json), or null. */
function finishedStageIn(path: string, name: string): StageName | null {
  const stage = STAGES.find((candidate) => name.startsWith(`.${STAGE_DIRS[candidate]}.tmp-`));
  return stage && existsSync(join(path, FILES.summary)) ? stage : null;
}

export function closeRun(run: RunHandle): void {
  run.lock.release();
}

export function saveManifest(run: RunHandle): void {
  run.manifest.updatedAt = new Date().toISOString();
  writeJsonAtomic(join(run.runDir, FILES.manifest), run.manifest);
}

/** Reads a run directory's manifest.json, or returns null when the directory has none. */
export function readManifest(runDir: string): Manifest | null {
  const path = join(runDir, FILES.manifest);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** Reads a completed stage's summary.json, or null when the stage has not completed. */
export function readStageSummary(runDir: string, stage: StageName): StageSummaryFile | null {
  const path = join(stageDir(runDir, stage), FILES.summary);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as StageSummaryFile;
}

/** Stages that never read labels or metadata; they are keyed on earlier stages' content keys. */
const LABEL_INDEPENDENT_STAGES: ReadonlySet<StageName> = new Set(['normalize', 'train']);

/**
 * Key of a stage run: its options (less `ignore`), the genevae package version and the keys
 * of every earlier completed stage. The version, not the git commit, keys the code, so that
 * a commit elsewhere never reruns DP training and spends privacy budget again; --force reruns.
 */
export function stageKey(runDir: string, stage: StageName, options: unknown, extra: unknown = null, ignore: readonly string[] = []): string {
  const upstream: Record<string, string | null> = {};
  for (const earlier of STAGES.slice(0, STAGES.indexOf(stage))) {
    const summary = readStageSummary(runDir, earlier);
    upstream[earlier] = (LABEL_INDEPENDENT_STAGES.has(stage) ? summary?.contentKey : undefined) ?? summary?.key ?? null;
  }
  const keyed = { ...(options as Record<string, unknown>) };
  for (const field of ignore) delete keyed[field];
  return hashJson({ stage, options: keyed, extra, upstream, version: packageVersion() });
}

export interface ExecuteStageOptions {
  /** Rerun even when the key matches. */
  force?: boolean;
  /**
   * Key that label-independent later stages (see LABEL_INDEPENDENT_STAGES) see instead of
   * this stage's key: ingest's excludes the metadata, so new labels never retrain the model.
   */
  contentKey?: string;
  /** Extra values that change the outputs but are not options (input file hashes for ingest). */
  keyExtra?: unknown;
  /**
   * Option fields left out of the key: paths whose contents `keyExtra` already covers, or
   * that do not change the outputs, so moving a working directory does not rerun a stage.
   */
  keyIgnore?: readonly string[];
}

export type StageFunction<O> = (context: StageContext, options: O) => Promise<StageResult>;

/**
 * Runs one stage into a temporary directory and renames it to <run>/<NN-stage> on success.
 * A stage whose key matches its completed outputs is skipped, as make does. The manifest
 * records the options, timings and status either way.
 */
export async function executeStage<O>(
  run: RunHandle,
  stage: StageName,
  options: O,
  fn: StageFunction<O>,
  execute: ExecuteStageOptions = {},
): Promise<{ cached: boolean; summary: StageSummaryFile }> {
  const log = new Logger(stage);
  const key = stageKey(run.runDir, stage, options, execute.keyExtra ?? null, execute.keyIgnore);
  const existing = readStageSummary(run.runDir, stage);
  run.manifest.options[stage] = JSON.parse(canonicalJson(options)) as unknown;

  if (!execute.force && existing && existing.key === key) {
    log.info(`unchanged since ${existing.finishedAt}; reusing ${STAGE_DIRS[stage]}/ (use --force to rerun)`);
    run.manifest.stages[stage] = {
      status: 'done',
      key,
      startedAt: existing.startedAt,
      finishedAt: existing.finishedAt,
      seconds: existing.seconds,
      cached: true,
    };
    saveManifest(run);
    return { cached: true, summary: existing };
  }

  retireReport(run.runDir, stage, log);
  const finalDir = stageDir(run.runDir, stage);
  const temporaryDir = join(run.runDir, `.${STAGE_DIRS[stage]}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(temporaryDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const started = performance.now();
  run.manifest.stages[stage] = { status: 'running', key, startedAt };
  saveManifest(run);
  log.info('started');

  const context: StageContext = {
    runDir: run.runDir,
    outputDir: temporaryDir,
    inputPath: (from, file) => {
      if (from === stage) return join(temporaryDir, file);
      return join(stageDir(run.runDir, from), file);
    },
    runId: run.runId,
    seed: run.seed,
    log,
  };

  let result: StageResult;
  try {
    result = await fn(context, options);
  } catch (error) {
    rmSync(temporaryDir, { recursive: true, force: true });
    run.manifest.stages[stage] = {
      status: 'failed',
      key,
      startedAt,
      finishedAt: new Date().toISOString(),
      error: (error as Error).message,
    };
    saveManifest(run);
    throw error;
  }

  const seconds = (performance.now() - started) / 1000;
  const finishedAt = new Date().toISOString();
  const summaryFile: StageSummaryFile = {
    stage,
    key,
    ...(execute.contentKey !== undefined && { contentKey: execute.contentKey }),
    startedAt,
    finishedAt,
    seconds,
    summary: result.summary,
    warnings: result.warnings,
  };
  writeJsonAtomic(join(temporaryDir, FILES.summary), summaryFile);
  replaceDirectory(temporaryDir, finalDir);
  for (const warning of result.warnings) log.warn(warning);
  log.info(`finished in ${seconds.toFixed(1)} s`);

  run.manifest.stages[stage] = { status: 'done', key, startedAt, finishedAt, seconds };
  if (result.notes) run.manifest.notes[stage] = result.notes;
  // A rerun stage invalidates every later stage's outputs; their keys no longer match.
  saveManifest(run);
  return { cached: false, summary: summaryFile };
}

/**
 * Moves the run's root index.html to index.outdated.html before a stage rewrites outputs it
 * describes, so a run that fails or is killed afterwards leaves no report that reads as current.
 * The next completed report replaces both.
 */
function retireReport(runDir: string, stage: StageName, log: Logger): void {
  const current = join(runDir, FILES.report);
  if (!existsSync(current)) return;
  renameSync(current, join(runDir, FILES.outdatedReport));
  log.info(
    `${STAGE_DIRS[stage]}/ is being rewritten, so the run's earlier report no longer matches its outputs; ` +
      `it is kept as ${FILES.outdatedReport} until this run writes a new ${FILES.report}`,
  );
}

/** Swaps `source` in as `target`: the old target is renamed aside, under a hidden name, first and removed last. */
function replaceDirectory(source: string, target: string): void {
  const aside = join(dirname(target), `.${basename(target)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
  const hadTarget = existsSync(target);
  if (hadTarget) renameSync(target, aside);
  renameSync(source, target);
  if (hadTarget) rmSync(aside, { recursive: true, force: true });
}
