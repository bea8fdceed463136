import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileLock } from '../../src/run/lock.js';
import { STAGES, STAGE_DIRS, type StageName } from '../../src/run/layout.js';
import { auditLedger } from '../../src/privacy/audit.js';
import { GenevaeProcess, ROOT, genevae, runDirFrom, stageStarted, type CliResult, type LogEvent } from './helpers/genevae.js';
import {
  TEMPORARY_NAME,
  damagedFiles,
  halfWrittenLedgerLines,
  hashFile,
  hashTree,
  ledgerEntries,
  listFiles,
  temporaries,
} from './helpers/runFiles.js';

/**
 * Nothing is lost: SIGKILL in the middle of each stage, two pipelines at once, failed runs and
 * killed lock and ledger writers. Each case works in its own temporary working directory (its
 * own reports/ and privacy/), copied from a template that already contains one completed run.
 */

/**
 * Options that keep every stage short on two shared cores while leaving each one long enough
 * (about half a second or more for a 1000 × 3000 cohort) for a kill to land inside it.
 */
const FAST_OPTIONS = [
  '--label-column', 'disease',
  '--n-top-genes', '200',
  '--hidden-dims', '32',
  '--epochs', '10',
  '--k-max', '5',
  '--stability-resamples', '3',
  '--pca-components', '10',
  '--umap-epochs', '30',
  '--classifiers', 'logistic,knn',
  '--classify-repeats', '1',
  '--stacking-folds', '0',
  '--importance-permutations', '1',
];

/** A generous cap, so that budget.json is read by every reservation without refusing any. */
const BUDGET_POLICY = { version: 1, defaultMaxEpsilon: 1000 };

interface Template {
  dir: string;
  /** Name of the completed run under reports/. */
  earlierRun: string;
}

/** Temporary directories of this file, removed when it finishes unless GENEVAE_KEEP_TEST_DIRS is set. */
const madeDirs: string[] = [];

function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `genevae-robust-${label}-`));
  madeDirs.push(dir);
  return dir;
}

afterAll(() => {
  if (process.env.GENEVAE_KEEP_TEST_DIRS) return;
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

function mustSucceed(result: CliResult, what: string): CliResult {
  expect(result.status, `${what} failed:\n${result.stderr.slice(-4000)}`).toBe(0);
  return result;
}

/** Creates a working directory with a demo cohort, a budget policy and one completed run of a second cohort. */
function makeTemplate(): Template {
  const dir = makeTempDir('template');
  mustSucceed(genevae(['demo', '--out', 'earlier.csv', '--samples', '200', '--genes', '300', '--seed', '1'], dir), 'demo earlier.csv');
  mustSucceed(genevae(['demo', '--out', 'cohort.csv', '--samples', '1000', '--genes', '3000', '--seed', '3'], dir), 'demo cohort.csv');
  mkdirSync(join(dir, 'privacy'));
  writeFileSync(join(dir, 'privacy', 'budget.json'), JSON.stringify(BUDGET_POLICY, null, 2) + '\n');
  const earlier = mustSucceed(genevae(['run', 'earlier.csv', ...FAST_OPTIONS, '--epochs', '3'], dir), 'the earlier run');
  return { dir, earlierRun: runDirFrom(earlier).split('/').pop()! };
}

function copyTemplate(template: Template, label: string): string {
  const dir = makeTempDir(label);
  cpSync(template.dir, dir, { recursive: true });
  return dir;
}

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function readLedger(workDir: string): string {
  const path = join(workDir, 'privacy', 'ledger.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** Returns the run directory from the `run <id> in <dir>` line that `genevae run` logs before it locks. */
function runDirOf(events: LogEvent[]): string {
  const line = events.find((event) => event.scope === 'genevae' && /^run \S+ in /.test(event.message));
  if (!line) throw new Error('genevae run logged no run directory');
  return line.message.replace(/^run \S+ in /, '');
}

/** Sums each dataset's epsilon by hand from the ledger: the final epsilon if finalized, the planned one if still open, 0 if voided. */
function expectedTotals(entries: Record<string, any>[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const reserve of entries.filter((entry) => entry.type === 'reserve')) {
    const close = entries.find((entry) => entry.type !== 'reserve' && entry.entryId === reserve.entryId);
    let charged = reserve.plannedEpsilon;
    if (close?.type === 'finalize') charged = close.epsilon;
    if (close?.type === 'void') charged = 0;
    totals.set(reserve.datasetFingerprint, (totals.get(reserve.datasetFingerprint) ?? 0) + charged);
  }
  return totals;
}

/** Runs `genevae audit --json` and checks that it passes and that its budget table sums the ledger. */
function expectAuditPasses(workDir: string, when: string): any {
  const audit = genevae(['audit', '--json'], workDir);
  expect(audit.status, `audit ${when}:\n${audit.stdout.slice(-3000)}${audit.stderr.slice(-2000)}`).toBe(0);
  const result = JSON.parse(audit.stdout);
  const totals = expectedTotals(ledgerEntries(join(workDir, 'privacy')));
  for (const budget of result.budgets) {
    expect(budget.totalEpsilon, `audit ${when}: total epsilon of ${budget.label}`).toBeCloseTo(totals.get(budget.datasetFingerprint)!, 9);
  }
  expect(result.budgets.length, `audit ${when}: datasets in the budget table`).toBe(totals.size);
  return result;
}

function entriesOfRun(workDir: string, runId: string): Record<string, any>[] {
  const entries = ledgerEntries(join(workDir, 'privacy'));
  const ids = new Set(entries.filter((entry) => entry.type === 'reserve' && entry.runId === runId).map((entry) => entry.entryId));
  return entries.filter((entry) => ids.has(entry.entryId));
}

/** Lists paths that look like temporaries but are not hidden, which a reader could take for outputs. */
function visibleTemporaries(runDir: string): string[] {
  return listFiles(runDir).filter((file) => /\.(tmp|old)-/.test(file) && !file.split('/').some((part) => TEMPORARY_NAME.test(part)));
}

describe('SIGKILL in the middle of a stage', () => {
  let template: Template;

  beforeAll(() => {
    template = makeTemplate();
  });

  it.each(STAGES.map((stage) => [stage]))('%s: rerun resumes, nothing lost', async (stage: StageName) => {
    const workDir = copyTemplate(template, stage);
    const earlierDir = join(workDir, 'reports', template.earlierRun);
    const budgetPath = join(workDir, 'privacy', 'budget.json');
    const earlierBefore = hashTree(earlierDir);
    const budgetBefore = hashFile(budgetPath);
    const ledgerBefore = readLedger(workDir);

    const child = new GenevaeProcess(['run', 'cohort.csv', ...FAST_OPTIONS], workDir);
    const trigger =
      stage === 'train'
        ? (event: LogEvent) => event.scope === 'train' && event.message.startsWith('epochs ') && (event.done ?? 0) >= 1
        : stageStarted(stage);
    await child.waitFor(trigger, stage === 'train' ? 'the first training epoch' : `${stage} started`);
    const killed = await child.kill();
    expect(killed.signal).toBe('SIGKILL');
    const runDir = runDirOf(child.events);
    const runId = runDir.split('/').pop()!;

    // The kill landed while the stage ran: the manifest records it as running and its outputs are not in place.
    const manifest = readJson(join(runDir, 'manifest.json'));
    expect(manifest.stages[stage]?.status, `${stage} finished before the kill arrived; the cohort is too small for this machine`).toBe('running');
    expect(existsSync(join(runDir, STAGE_DIRS[stage], 'summary.json'))).toBe(false);

    // (a) The earlier run is byte-for-byte unchanged.
    expect(hashTree(earlierDir)).toEqual(earlierBefore);

    // (b) The ledger only grew, has no half-written line, and verifies; budget.json is unchanged.
    const ledgerAfterKill = readLedger(workDir);
    expect(ledgerAfterKill.startsWith(ledgerBefore)).toBe(true);
    expect(halfWrittenLedgerLines(ledgerAfterKill)).toEqual([]);
    expect(hashFile(budgetPath)).toBe(budgetBefore);
    const auditAfterKill = expectAuditPasses(workDir, `after the kill during ${stage}`);
    const killedEntries = entriesOfRun(workDir, runId);
    const stageIndex = STAGES.indexOf(stage);
    const trainIndex = STAGES.indexOf('train');
    if (stageIndex < trainIndex) {
      expect(ledgerAfterKill).toBe(ledgerBefore);
    } else if (stage === 'train') {
      // Killed between reserve and finalize: the reservation stays open and counts at its planned epsilon.
      expect(killedEntries.map((entry) => entry.type)).toEqual(['reserve']);
      const open = auditAfterKill.budgets.flatMap((budget: any) => budget.runs).find((run: any) => run.runId === runId);
      expect(open.status).toBe('reserved');
      expect(open.chargedEpsilon).toBe(killedEntries[0].plannedEpsilon);
      expect(auditAfterKill.notes.some((note: string) => note.includes(runId) && note.includes('not finalized'))).toBe(true);
    } else {
      expect(killedEntries.map((entry) => entry.type)).toEqual(['reserve', 'finalize']);
    }

    // (c) Nothing half-written at a final name; temporaries only under hidden names.
    expect(damagedFiles(runDir)).toEqual([]);
    expect(visibleTemporaries(runDir)).toEqual([]);
    expect(temporaries(runDir).some((name) => name.startsWith(`.${STAGE_DIRS[stage]}.tmp-`))).toBe(true);

    // (d) The same command completes, reusing the stages before the killed one.
    const rerun = mustSucceed(genevae(['run', 'cohort.csv', ...FAST_OPTIONS], workDir), `the rerun after killing ${stage}`);
    expect(runDirFrom(rerun)).toBe(runDir);
    const resumed = readJson(join(runDir, 'manifest.json'));
    for (const [index, name] of STAGES.entries()) {
      expect(resumed.stages[name]?.status, `${name} status after the rerun`).toBe('done');
      expect(resumed.stages[name]?.cached === true, `${name} reused after killing ${stage}`).toBe(index < stageIndex);
    }
    expect(temporaries(runDir), 'temporaries left after the rerun').toEqual([]);
    expect(existsSync(join(runDir, '.lock')), 'run lock left after the rerun').toBe(false);
    expect(damagedFiles(runDir)).toEqual([]);
    expect(hashTree(earlierDir)).toEqual(earlierBefore);
    expect(hashFile(budgetPath)).toBe(budgetBefore);

    const ledgerAfterRerun = readLedger(workDir);
    expect(ledgerAfterRerun.startsWith(ledgerAfterKill)).toBe(true);
    expect(halfWrittenLedgerLines(ledgerAfterRerun)).toEqual([]);
    const audit = expectAuditPasses(workDir, `after the rerun that followed the kill during ${stage}`);
    const runEntries = entriesOfRun(workDir, runId);
    const trainSummary = readJson(join(runDir, STAGE_DIRS.train, 'summary.json')).summary;
    if (stageIndex > trainIndex) {
      // Training was reused, so the rerun spent nothing.
      expect(ledgerAfterRerun).toBe(ledgerAfterKill);
    } else if (stage === 'train') {
      // The killed attempt's reservation is neither lost nor closed; the rerun adds one reservation of its own.
      expect(runEntries.map((entry) => entry.type)).toEqual(['reserve', 'reserve', 'finalize']);
      expect(runEntries[0].entryId).toBe(killedEntries[0].entryId);
      expect(runEntries[2].entryId).toBe(runEntries[1].entryId);
      expect(trainSummary.privacy.ledgerEntryId).toBe(runEntries[1].entryId);
      const budget = audit.budgets.find((b: any) => b.datasetFingerprint === runEntries[0].datasetFingerprint);
      expect(budget.pendingEpsilon).toBeCloseTo(runEntries[0].plannedEpsilon, 9);
      expect(budget.finalizedEpsilon).toBeCloseTo(runEntries[2].epsilon, 9);
    } else {
      expect(runEntries.map((entry) => entry.type)).toEqual(['reserve', 'finalize']);
      expect(trainSummary.privacy.ledgerEntryId).toBe(runEntries[0].entryId);
    }
  });

  it('changed option: killed rerun keeps outputs', async () => {
    const workDir = copyTemplate(template, 'changed');
    // Stage keys hold absolute paths (input, privacy directory), so a copied run is stale: complete it here first.
    const first = ['run', 'earlier.csv', ...FAST_OPTIONS, '--epochs', '3'];
    const runDir = runDirFrom(mustSucceed(genevae(first, workDir), 'the first run'));
    const args = [...first, '--k-max', '4'];
    const isOutput = (file: string) => file !== 'manifest.json' && file !== '.lock' && !file.split('/').some((part) => TEMPORARY_NAME.test(part));
    const outputsBefore = Object.entries(hashTree(runDir)).filter(([file]) => isOutput(file));
    const ledgerBefore = readLedger(workDir);

    const child = new GenevaeProcess(args, workDir);
    await child.waitFor(stageStarted('cluster'), 'cluster started');
    await child.kill();
    expect(readJson(join(runDir, 'manifest.json')).stages.cluster.status, 'cluster finished before the kill arrived').toBe('running');
    // Every completed output of the previous run, the old clustering included, is still in place and unchanged,
    // except the root report, which the rerun moved aside because it no longer describes the run.
    const asBefore = ([file, hash]: [string, string]): [string, string] => [file === 'index.outdated.html' ? 'index.html' : file, hash];
    const outputsAfterKill = Object.entries(hashTree(runDir)).filter(([file]) => isOutput(file)).map(asBefore);
    expect(outputsAfterKill.sort()).toEqual([...outputsBefore].sort());
    expect(existsSync(join(runDir, 'index.html'))).toBe(false);
    expect(damagedFiles(runDir)).toEqual([]);

    mustSucceed(genevae(args, workDir), 'the rerun with the changed option');
    const resumed = readJson(join(runDir, 'manifest.json'));
    for (const [index, name] of STAGES.entries()) {
      expect(resumed.stages[name]?.cached === true, `${name} reused`).toBe(index < STAGES.indexOf('cluster'));
    }
    expect(readJson(join(runDir, 'manifest.json')).options.cluster.kMax).toBe(4);
    expect(existsSync(join(runDir, 'index.html'))).toBe(true);
    expect(existsSync(join(runDir, 'index.outdated.html'))).toBe(false);
    expect(temporaries(runDir)).toEqual([]);
    expect(readLedger(workDir)).toBe(ledgerBefore);
  });

  it('finished stage between renames is kept', () => {
    const workDir = copyTemplate(template, 'renames');
    const args = ['run', 'earlier.csv', ...FAST_OPTIONS, '--epochs', '3'];
    const runDir = runDirFrom(mustSucceed(genevae(args, workDir), 'the first run'));
    const ledgerBefore = readLedger(workDir);
    const trainDir = join(runDir, STAGE_DIRS.train);
    const trainBefore = hashTree(trainDir);

    // The state a kill leaves between replaceDirectory's two renames: the old outputs moved aside,
    // the finished new ones still under their temporary name, the manifest still saying running.
    const deadPid = spawnSync('node', ['-e', '']).pid!;
    const aside = join(runDir, `.${STAGE_DIRS.train}.old-${deadPid}-0000abcd`);
    cpSync(trainDir, aside, { recursive: true });
    writeFileSync(join(aside, 'summary.json'), JSON.stringify({ ...readJson(join(aside, 'summary.json')), key: 'replaced' }));
    renameSync(trainDir, join(runDir, `.${STAGE_DIRS.train}.tmp-${deadPid}-0000abcd`));
    const manifest = readJson(join(runDir, 'manifest.json'));
    manifest.stages.train.status = 'running';
    writeFileSync(join(runDir, 'manifest.json'), JSON.stringify(manifest));

    mustSucceed(genevae(args, workDir), 'the rerun');
    const resumed = readJson(join(runDir, 'manifest.json'));
    expect(resumed.stages.train.cached, 'train reused, not retrained').toBe(true);
    expect(hashTree(trainDir)).toEqual(trainBefore);
    expect(temporaries(runDir)).toEqual([]);
    expect(readLedger(workDir), 'nothing spent again').toBe(ledgerBefore);
  });

  it('SIGTERM in train records the steps taken', async () => {
    const workDir = copyTemplate(template, 'train-sigterm');
    const child = new GenevaeProcess(['run', 'cohort.csv', ...FAST_OPTIONS], workDir);
    await child.waitFor((event) => event.scope === 'train' && (event.done ?? 0) >= 1, 'the first training epoch');
    child.child.kill('SIGTERM');
    const result = await child.exited;
    expect(result.status, result.stderr.slice(-2000)).toBe(130);
    const runId = runDirOf(child.events).split('/').pop()!;
    const entries = entriesOfRun(workDir, runId);
    expect(entries.map((entry) => entry.type)).toEqual(['reserve', 'finalize']);
    // Finalized at the steps actually taken, so the charge is below the plan.
    expect(entries[1].stepsTaken).toBeLessThan(entries[0].mechanism.steps);
    expect(entries[1].epsilon).toBeLessThan(entries[0].plannedEpsilon);
    expect(genevae(['audit'], workDir).status).toBe(0);
  });

  it('train rerun warns about open reservation', async () => {
    const workDir = copyTemplate(template, 'train-warning');
    const child = new GenevaeProcess(['run', 'cohort.csv', ...FAST_OPTIONS], workDir);
    await child.waitFor((event) => event.scope === 'train' && (event.done ?? 0) >= 1, 'the first training epoch');
    await child.kill();
    const runId = runDirOf(child.events).split('/').pop()!;
    const [open] = entriesOfRun(workDir, runId);

    const rerun = mustSucceed(genevae(['--log-format', 'json', 'run', 'cohort.csv', ...FAST_OPTIONS], workDir), 'the rerun');
    const warnings = rerun.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogEvent)
      .filter((event) => event.level === 'warn');
    // The open reservation is charged at its planned epsilon on top of the rerun's own spend, which the user must see.
    expect(
      warnings.some((event) => event.message.includes(open.entryId) || (event.message.includes(runId) && /not finalized|open reservation|earlier attempt/i.test(event.message))),
      `warnings of the rerun:\n${warnings.map((event) => event.message).join('\n')}`,
    ).toBe(true);
  });
});

describe('two pipelines at once', () => {
  let workDir: string;

  beforeAll(() => {
    workDir = makeTempDir('parallel');
    for (const [name, seed] of [['left.csv', '11'], ['right.csv', '12']]) {
      mustSucceed(genevae(['demo', '--out', name, '--samples', '300', '--genes', '600', '--seed', seed], workDir), `demo ${name}`);
    }
  });

  it('different cohorts run side by side', async () => {
    const left = new GenevaeProcess(['run', 'left.csv', ...FAST_OPTIONS], workDir);
    const right = new GenevaeProcess(['run', 'right.csv', ...FAST_OPTIONS], workDir);
    const [leftResult, rightResult] = await Promise.all([left.exited, right.exited]);
    mustSucceed(leftResult, 'the left pipeline');
    mustSucceed(rightResult, 'the right pipeline');

    const runs = [
      { cohort: 'left.csv', runDir: runDirFrom(leftResult) },
      { cohort: 'right.csv', runDir: runDirFrom(rightResult) },
    ];
    expect(runs[0].runDir).not.toBe(runs[1].runDir);
    // The runs overlapped: each started before the other finished.
    const spans = runs.map(({ runDir }) => {
      const stages = readJson(join(runDir, 'manifest.json')).stages;
      return { start: Date.parse(stages.ingest.startedAt), end: Date.parse(stages.report.finishedAt) };
    });
    expect(spans[0].start).toBeLessThan(spans[1].end);
    expect(spans[1].start).toBeLessThan(spans[0].end);
    for (const { cohort, runDir } of runs) {
      const manifest = readJson(join(runDir, 'manifest.json'));
      for (const stage of STAGES) {
        expect(manifest.stages[stage]?.status, `${cohort}: ${stage}`).toBe('done');
        expect(existsSync(join(runDir, STAGE_DIRS[stage], 'summary.json')), `${cohort}: ${stage}/summary.json`).toBe(true);
      }
      expect(manifest.inputs.map((input: { path: string }) => input.path.split('/').pop())).toEqual([cohort]);
      expect(existsSync(join(runDir, 'index.html'))).toBe(true);
      expect(damagedFiles(runDir)).toEqual([]);
      expect(temporaries(runDir)).toEqual([]);
      const entries = entriesOfRun(workDir, runDir.split('/').pop()!);
      expect(entries.map((entry) => entry.type), `${cohort}: ledger lines`).toEqual(['reserve', 'finalize']);
      const trainSummary = readJson(join(runDir, STAGE_DIRS.train, 'summary.json')).summary;
      expect(trainSummary.privacy.ledgerEntryId).toBe(entries[0].entryId);
    }
    // The two cohorts differ, so do their ingested matrices: neither run read the other's files.
    expect(hashFile(join(runs[0].runDir, STAGE_DIRS.ingest, 'X.arrow'))).not.toBe(hashFile(join(runs[1].runDir, STAGE_DIRS.ingest, 'X.arrow')));
    expect(halfWrittenLedgerLines(readLedger(workDir))).toEqual([]);
    expect(existsSync(join(workDir, 'privacy', 'ledger.jsonl.lock'))).toBe(false);
    expect(expectAuditPasses(workDir, 'after two pipelines at once').budgets).toHaveLength(2);
  });

  it('same cohort twice: lock names holder', async () => {
    const sameDir = makeTempDir('same');
    cpSync(join(workDir, 'left.csv'), join(sameDir, 'left.csv'));
    const first = new GenevaeProcess(['run', 'left.csv', ...FAST_OPTIONS], sameDir);
    const second = new GenevaeProcess(['run', 'left.csv', ...FAST_OPTIONS], sameDir);
    const results = await Promise.all([first.exited, second.exited]);
    const winners = [first, second].filter((_, index) => results[index].status === 0);
    expect(winners, `exit statuses ${results.map((r) => r.status).join(', ')}`).toHaveLength(1);
    const winner = winners[0];
    const loser = winner === first ? second : first;
    const loserResult = results[winner === first ? 1 : 0];

    expect(loserResult.status).not.toBe(0);
    expect(loserResult.stderr).toContain(`locked by process ${winner.pid}`);
    expect(loser.events.filter((event) => event.message === 'started'), 'stages the second process started').toEqual([]);

    const runDir = runDirFrom(results[winner === first ? 0 : 1]);
    const manifest = readJson(join(runDir, 'manifest.json'));
    for (const stage of STAGES) {
      expect(manifest.stages[stage]?.status, stage).toBe('done');
      expect(manifest.stages[stage]?.cached === true, `${stage} reused`).toBe(false);
    }
    expect(damagedFiles(runDir)).toEqual([]);
    expect(temporaries(runDir)).toEqual([]);
    expect(entriesOfRun(sameDir, runDir.split('/').pop()!).map((entry) => entry.type)).toEqual(['reserve', 'finalize']);
    expectAuditPasses(sameDir, 'after the same cohort twice');
  });
});

describe('failed runs', () => {
  let template: Template;

  beforeAll(() => {
    template = makeTemplate();
  });

  it('invalid option stops before run', () => {
    const workDir = copyTemplate(template, 'bad-option');
    const earlierDir = join(workDir, 'reports', template.earlierRun);
    const earlierBefore = hashTree(earlierDir);
    const ledgerBefore = readLedger(workDir);

    const result = genevae(['run', 'cohort.csv', ...FAST_OPTIONS, '--n-top-genes', '0'], workDir);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/--n-top-genes.*'0'/);
    expect(readdirSync(join(workDir, 'reports'))).toEqual([template.earlierRun]);
    expect(hashTree(earlierDir)).toEqual(earlierBefore);
    expect(readLedger(workDir)).toBe(ledgerBefore);
  });

  it('invalid option exits with status 2', () => {
    const workDir = copyTemplate(template, 'bad-option-status');
    const result = genevae(['run', 'cohort.csv', '--n-top-genes', '0'], workDir);
    // main.ts documents status 2 for bad input or options.
    expect(result.status).toBe(2);
  });

  it('truncated stage output names file', () => {
    const workDir = copyTemplate(template, 'truncated');
    const earlierDir = join(workDir, 'reports', template.earlierRun);
    const damagedDir = join(workDir, 'reports', 'damaged');
    cpSync(earlierDir, damagedDir, { recursive: true });
    const xPath = join(damagedDir, STAGE_DIRS.ingest, 'X.arrow');
    truncateSync(xPath, Math.floor(statSync(xPath).size / 2));
    const earlierBefore = hashTree(earlierDir);
    const normalizeBefore = hashTree(join(damagedDir, STAGE_DIRS.normalize));
    const ledgerBefore = readLedger(workDir);

    // A new --n-top-genes reruns normalize on the cached, now damaged, ingest output. The input
    // path is part of the ingest key, so the command names the file the copied run ingested.
    const input = join(template.dir, 'earlier.csv');
    const result = genevae(['run', input, ...FAST_OPTIONS, '--epochs', '3', '--n-top-genes', '100', '--run-id', 'damaged'], workDir);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(join(STAGE_DIRS.ingest, 'X.arrow'));
    expect(result.stderr).toMatch(/truncated|damaged|corrupt/i);
    expect(result.stderr).toContain('--force');

    const manifest = readJson(join(damagedDir, 'manifest.json'));
    expect(manifest.stages.ingest.cached).toBe(true);
    expect(manifest.stages.normalize.status).toBe('failed');
    expect(manifest.stages.normalize.error).toContain('X.arrow');
    expect(hashTree(join(damagedDir, STAGE_DIRS.normalize)), 'the previous normalize outputs').toEqual(normalizeBefore);
    expect(temporaries(damagedDir)).toEqual([]);
    expect(existsSync(join(damagedDir, '.lock'))).toBe(false);
    expect(hashTree(earlierDir)).toEqual(earlierBefore);
    expect(readLedger(workDir)).toBe(ledgerBefore);

    // --force recomputes the damaged output and the run completes.
    mustSucceed(
      genevae(['run', input, ...FAST_OPTIONS, '--epochs', '3', '--n-top-genes', '100', '--run-id', 'damaged', '--force'], workDir),
      'the forced rerun',
    );
    expect(damagedFiles(damagedDir)).toEqual([]);
  });

  it('empty stage output is rejected', () => {
    const workDir = copyTemplate(template, 'empty');
    const damagedDir = join(workDir, 'reports', 'emptied');
    cpSync(join(workDir, 'reports', template.earlierRun), damagedDir, { recursive: true });
    truncateSync(join(damagedDir, STAGE_DIRS.ingest, 'obs.arrow'), 0);

    const input = join(template.dir, 'earlier.csv');
    const result = genevae(['run', input, ...FAST_OPTIONS, '--epochs', '3', '--n-top-genes', '100', '--run-id', 'emptied'], workDir);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(join(STAGE_DIRS.ingest, 'obs.arrow'));
    expect(result.stderr).toMatch(/empty/i);
  });
});

/** Returns the source of a child that takes and releases `lockPath` in a tight loop until it is killed. */
function lockLoopScript(lockPath: string): string {
  const lockModule = join(ROOT, 'dist', 'src', 'run', 'lock.js');
  return [
    `const { FileLock } = await import(${JSON.stringify(lockModule)});`,
    `const lock = new FileLock(${JSON.stringify(lockPath)});`,
    `process.stdout.write('ready\\n');`,
    'for (;;) { if (lock.tryAcquire()) lock.release(); }',
  ].join('\n');
}

/** Returns the source of a child that reserves and finalizes ledger entries in a loop until it is killed. */
function ledgerLoopScript(privacyDir: string): string {
  const ledgerModule = join(ROOT, 'dist', 'src', 'privacy', 'ledger.js');
  const accountantModule = join(ROOT, 'dist', 'src', 'privacy', 'accountant.js');
  return [
    `const { PrivacyLedger } = await import(${JSON.stringify(ledgerModule)});`,
    `const { epsilonFor } = await import(${JSON.stringify(accountantModule)});`,
    `const ledger = new PrivacyLedger(${JSON.stringify(privacyDir)});`,
    "const mechanism = { samplingRate: 0.1, noiseMultiplier: 1.1, clipNorm: 1, steps: 20, delta: 1e-5, sampling: 'poisson', accountant: 'rdp' };",
    "const planned = epsilonFor({ ...mechanism });",
    "const final = epsilonFor({ ...mechanism, steps: 10 });",
    `process.stdout.write('ready\\n');`,
    'for (let i = 0; ; i++) {',
    "  const receipt = await ledger.reserve({ runId: 'loop-' + i, datasetFingerprint: 'a'.repeat(64), datasetLabel: 'loop', mechanism, plannedEpsilon: planned, codeVersion: 'test', randomness: 'system' });",
    '  await ledger.finalize(receipt.entryId, { stepsTaken: 10, epsilon: final });',
    '}',
  ].join('\n');
}

/** Starts `node --input-type=module -e script`, waits for its `ready` line, lets it run `ms` and kills it. */
async function runThenKill(script: string, ms: number): Promise<void> {
  const child = spawn('node', ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.on('close', () => reject(new Error(`the child exited before it was ready:\n${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, ms));
  child.kill('SIGKILL');
  await closed;
}

describe('writers killed at any moment', () => {
  it('killed lock holder never blocks', async () => {
    const dir = makeTempDir('lock');
    const lockPath = join(dir, 'test.lock');
    for (let trial = 0; trial < 40; trial++) {
      await runThenKill(lockLoopScript(lockPath), 5 + (trial % 10) * 7);
      const left = existsSync(lockPath) ? JSON.stringify(readFileSync(lockPath, 'utf8')) : 'no lock file';
      const lock = new FileLock(lockPath);
      expect(lock.tryAcquire(), `trial ${trial}: lock file left with ${left}`).toBe(true);
      expect(temporaries(dir), `trial ${trial}: record files of killed holders`).toEqual([]);
      lock.release();
    }
  });

  it('audit during writes finds no problems', async () => {
    const privacyDir = makeTempDir('audit');
    const writer = spawn('node', ['--input-type=module', '-e', ledgerLoopScript(privacyDir)], { stdio: 'ignore' });
    const closed = new Promise<void>((resolve) => writer.on('close', () => resolve()));
    const falseAlarms = new Map<string, number>();
    let audits = 0;
    try {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        for (const problem of auditLedger(privacyDir).problems) {
          const kind = problem.message.replace(/\d+/g, 'N');
          falseAlarms.set(kind, (falseAlarms.get(kind) ?? 0) + 1);
        }
        audits++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      writer.kill('SIGKILL');
      await closed;
    }
    expect(audits).toBeGreaterThan(100);
    expect([...falseAlarms], `problems reported in ${audits} audits of a ledger only ever appended to`).toEqual([]);
  });

  it('killed ledger writer leaves valid ledger', async () => {
    const privacyDir = makeTempDir('ledger');
    let previous = '';
    for (let trial = 0; trial < 15; trial++) {
      await runThenKill(ledgerLoopScript(privacyDir), 30 + (trial % 5) * 40);
      const text = readFileSync(join(privacyDir, 'ledger.jsonl'), 'utf8');
      expect(text.length, `trial ${trial}: the ledger grew`).toBeGreaterThan(previous.length);
      expect(text.startsWith(previous), `trial ${trial}: earlier lines unchanged`).toBe(true);
      expect(halfWrittenLedgerLines(text), `trial ${trial}`).toEqual([]);
      expect(auditLedger(privacyDir).problems, `trial ${trial}`).toEqual([]);
      previous = text;
    }
  });
});
