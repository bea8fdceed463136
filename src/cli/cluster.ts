import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CLUSTER_DEFAULTS, type ClusterOptions } from '../../pipeline/cluster.js';
import { FILES } from '../run/layout.js';
import { closeRun, executeStage, openRun, type Manifest } from '../run/runner.js';
import { runCluster } from '../stages/cluster.js';
import { InputError } from '../util/errors.js';
import { parseInteger, parseNumber, pickDefined } from './parse.js';

const OPTION_NAMES = [
  'kMin',
  'kMax',
  'kmeansRestarts',
  'silhouetteSampleSize',
  'umapNeighbors',
  'umapMinDist',
  'umapEpochs',
] as const satisfies readonly (keyof ClusterOptions)[];

/** Adds the cluster stage's options; defaults come from CLUSTER_DEFAULTS and are shown in --help. */
export function addClusterOptions(command: Command): Command {
  const d = CLUSTER_DEFAULTS;
  return command
    .addOption(new Option('--k-min <k>', `smallest number of k-means clusters tried (default ${d.kMin})`).argParser(parseInteger(2)))
    .addOption(
      new Option('--k-max <k>', `largest number of k-means clusters tried, capped at samples - 1 (default ${d.kMax})`).argParser(
        parseInteger(2),
      ),
    )
    .addOption(
      new Option('--kmeans-restarts <n>', `k-means++ restarts per k; the lowest inertia wins (default ${d.kmeansRestarts})`).argParser(
        parseInteger(1),
      ),
    )
    .addOption(
      new Option(
        '--silhouette-sample-size <n>',
        `samples the silhouette is computed on; larger cohorts use a seeded subsample (default ${d.silhouetteSampleSize})`,
      ).argParser(parseInteger(3)),
    )
    .addOption(
      new Option('--umap-neighbors <n>', `UMAP neighbours per sample, itself included (default ${d.umapNeighbors})`).argParser(
        parseInteger(2),
      ),
    )
    .addOption(
      new Option('--umap-min-dist <d>', `UMAP minimum distance between embedded points (default ${d.umapMinDist})`).argParser(
        parseNumber(0),
      ),
    )
    .addOption(
      new Option('--umap-epochs <n>', 'UMAP optimisation epochs (default: chosen by umap-js from the sample count)').argParser(
        parseInteger(1),
      ),
    );
}

/** Collects the cluster options the user set on the command line. */
export function clusterOptionsFrom(parsed: Record<string, unknown>): Partial<ClusterOptions> {
  return pickDefined<ClusterOptions>(parsed, OPTION_NAMES);
}

/** Reads the seed a run directory was created with, so that rerunning one stage keeps it. */
function runSeed(runDir: string): number {
  const path = join(runDir, FILES.manifest);
  if (!existsSync(path)) {
    throw new InputError(`${path} not found`, { file: path }, 'give the directory of a run created by `genevae run` or `genevae ingest`');
  }
  return (JSON.parse(readFileSync(path, 'utf8')) as Manifest).seed;
}

/** Adds `genevae cluster <run-dir>`, which runs only the cluster stage of an existing run. */
export function registerCluster(program: Command): void {
  const command = program
    .command('cluster')
    .description('cluster the latents (k-means over k, graph clustering), embed them with UMAP, and find marker genes')
    .argument('<run-dir>', 'run directory whose train stage has completed')
    .option('--force', 'rerun even when inputs and options are unchanged');
  addClusterOptions(command);
  command.action(async (runDirArgument: string, parsed: Record<string, unknown>) => {
    const runDir = resolve(runDirArgument);
    const options: ClusterOptions = { ...CLUSTER_DEFAULTS, ...clusterOptionsFrom(parsed) };
    const run = openRun({ runDir, runId: basename(runDir), seed: runSeed(runDir) });
    try {
      await executeStage(run, 'cluster', options, runCluster, { force: Boolean(parsed.force) });
    } finally {
      closeRun(run);
    }
  });
}
