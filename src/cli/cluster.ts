import { Option, type Command } from 'commander';
import { CLUSTER_DEFAULTS, type ClusterOptions } from '../../pipeline/cluster.js';
import { runCluster } from '../stages/cluster.js';
import { parseInteger, parseNumber, parseNumberList, pickDefined } from './parse.js';
import { runStandaloneStage } from './standalone.js';


function parseResolution(raw: string): number | 'auto' {
  return raw === 'auto' ? 'auto' : parseNumber(0, Infinity, { exclusiveMin: true })(raw);
}

const OPTION_NAMES = [
  'kMin',
  'kMax',
  'kmeansRestarts',
  'silhouetteSampleSize',
  'kmeansScanSampleSize',
  'graphNeighbors',
  'resolution',
  'resolutions',
  'exactNeighborsMaxSamples',
  'pcaComponents',
  'stabilityResamples',
  'stabilityFraction',
  'stabilityMaxSamples',
  'markerTopGenes',
  'latentTopGenes',
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
      new Option(
        '--kmeans-scan-sample-size <n>',
        `samples the k-means scan over k fits on; larger cohorts use a seeded subsample and refit the chosen k on all (default ${d.kmeansScanSampleSize})`,
      ).argParser(parseInteger(3)),
    )
    .addOption(
      new Option(
        '--graph-neighbors <n>',
        `neighbours per sample in the kNN graph for Louvain clustering, itself included (default ${d.graphNeighbors})`,
      ).argParser(parseInteger(2)),
    )
    .addOption(
      new Option(
        '--resolution <r>',
        `Louvain resolution; higher gives more, smaller clusters; 'auto' keeps the one of --resolutions with the highest silhouette (default ${d.resolution})`,
      ).argParser(parseResolution),
    )
    .addOption(
      new Option('--resolutions <list>', `comma-separated resolutions that --resolution auto chooses from (default ${d.resolutions.join(',')})`).argParser(
        parseNumberList,
      ),
    )
    .addOption(
      new Option(
        '--exact-neighbors-max-samples <n>',
        `cohorts up to this many samples get exact neighbours, larger ones the NN-descent index unless the space has at most 16 dimensions (default ${d.exactNeighborsMaxSamples})`,
      ).argParser(parseInteger(0)),
    )
    .addOption(
      new Option(
        '--pca-components <n>',
        `principal components of the normalized data for the baseline clustering; 0 turns the baseline off (default ${d.pcaComponents})`,
      ).argParser(parseInteger(0)),
    )
    .addOption(
      new Option(
        '--stability-resamples <n>',
        `subsamples drawn to measure each cluster's Jaccard stability; 0 turns it off (default ${d.stabilityResamples})`,
      ).argParser(parseInteger(0)),
    )
    .addOption(
      new Option('--stability-fraction <f>', `fraction of the samples in each stability subsample (default ${d.stabilityFraction})`).argParser(
        parseNumber(0, 1, { exclusiveMin: true }),
      ),
    )
    .addOption(
      new Option('--stability-max-samples <n>', `largest stability subsample, in samples (default ${d.stabilityMaxSamples})`).argParser(
        parseInteger(3),
      ),
    )
    .addOption(new Option('--no-markers', 'skip the Wilcoxon marker-gene tests (default: run them)'))
    .addOption(
      new Option('--marker-top-genes <n>', `marker genes per group listed in the summary and report (default ${d.markerTopGenes})`).argParser(
        parseInteger(1),
      ),
    )
    .addOption(
      new Option(
        '--latent-top-genes <n>',
        `genes per latent dimension listed in the summary and report (default ${d.latentTopGenes})`,
      ).argParser(parseInteger(1)),
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
      new Option('--umap-epochs <n>', 'UMAP optimisation epochs (default: 500 up to 10,000 samples, 200 above, as umap-learn)').argParser(
        parseInteger(1),
      ),
    );
}

/** Collects the cluster options the user set on the command line. */
export function clusterOptionsFrom(parsed: Record<string, unknown>): Partial<ClusterOptions> {
  const options = pickDefined<ClusterOptions>(parsed, OPTION_NAMES);
  // commander sets `markers: true` for every command that has --no-markers, so only `false` is a choice.
  if (parsed.markers === false) options.markers = false;
  return options;
}

/** Adds `genevae cluster <run-dir>`, which runs only the cluster stage of an existing run. */
export function registerCluster(program: Command): void {
  const command = program
    .command('cluster')
    .description('cluster the latents (k-means over k, graph clustering), embed them with UMAP, and find marker genes')
    .argument('<run-dir>', 'run directory whose train stage has completed')
    .option('--force', 'rerun even when inputs and options are unchanged');
  addClusterOptions(command);
  command.action(async (runDir: string, parsed: Record<string, unknown>) => {
    const options: ClusterOptions = { ...CLUSTER_DEFAULTS, ...clusterOptionsFrom(parsed) };
    await runStandaloneStage(runDir, 'cluster', options, runCluster, { force: Boolean(parsed.force) });
  });
}
