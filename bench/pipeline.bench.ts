import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { STAGES, STAGE_DIRS, type StageName } from '../src/run/layout.js';

/**
 * Whole-pipeline benchmark. Runs every stage of genevae, each as its own `genevae <stage>`
 * process (the commands `genevae run` chains), on two cohorts:
 * - pbmc68k_reduced, the largest labelled real cohort in the shared data folder (700 cells);
 * - a generated demo cohort (`genevae demo`, labels in column `disease`), 50,000 samples by default.
 * Reports per stage the seconds from manifest.json, the process's wall-clock seconds and its
 * peak RSS (`process.resourceUsage().maxRSS`, recorded by this file when a stage process loads
 * it through `--import`), plus the size of the report.
 *
 * Environment:
 * - GENEVAE_BENCH_PIPELINE_SAMPLES, GENEVAE_BENCH_PIPELINE_GENES: generated cohort size
 *   (default 50,000 × 2,500);
 * - GENEVAE_BENCH_PIPELINE_EPOCHS: training epochs for the generated cohort, to bound a slow
 *   training configuration (default: the train stage's defaults); pbmc68k always trains with the defaults;
 * - GENEVAE_BENCH_PIPELINE_COHORTS: comma-separated subset of `pbmc68k,generated`;
 * - GENEVAE_BENCH_PIPELINE_DATA: the shared data folder (default ../shared/data from the repository);
 * - GENEVAE_BENCH_PIPELINE_KEEP=1 keeps the temporary run directories.
 * Runs from the compiled dist/bench/pipeline.bench.js.
 */

const PEAK_RSS_MARKER = 'genevae-bench-peak-rss';

// Loaded with `node --import` into a stage process, this file reports that process's peak RSS at exit.
if (process.env.GENEVAE_BENCH_REPORT_RSS === '1') {
  process.on('exit', () => {
    process.stderr.write(`${PEAK_RSS_MARKER} ${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
  });
}

const here = dirname(fileURLToPath(import.meta.url));
const repository = join(here, '..', '..');
const cli = join(repository, 'bin', 'genevae.js');

interface CohortSpec {
  name: string;
  /** Ingest arguments after the run directory: the matrix and its label options. */
  ingest: string[];
  /** Extra train arguments. */
  train: string[];
  description: string;
}

interface StageMeasure {
  /** Seconds the stage took by manifest.json (the stage's own work). */
  seconds: number | null;
  /** Wall-clock seconds of the whole process: Node start-up, reading and writing included. */
  processSeconds: number;
  /** Peak resident set size of the stage's process, in MB (10^6 bytes). */
  peakRssMB: number | null;
}

interface CohortResult {
  cohort: string;
  description: string;
  samples: number | null;
  genes: number | null;
  stages: Partial<Record<StageName, StageMeasure>>;
  totalSeconds: number;
  maxPeakRssMB: number | null;
  /** Seconds per training epoch and epochs run, from the train summary. */
  training: { epochsRun: number | null; secondsPerEpoch: number | null } | null;
  /** Size of index.html in MB, and the points its UMAP scatters draw. */
  report: { htmlMB: number; scatter: unknown } | null;
  /** Cluster step timings from 04-cluster/summary.json. */
  clusterTimings: Record<string, number> | null;
  /** Caps and reductions classify applied, from 05-classify/summary.json. */
  classifyScaling: unknown;
  balancedAccuracy: Record<string, number> | null;
}

function runStage(stage: StageName, runDir: string, args: string[]): { processSeconds: number; peakRssMB: number | null } {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', pathToFileURL(fileURLToPath(import.meta.url)).href, cli, stage, runDir, ...args], {
    env: { ...process.env, GENEVAE_BENCH_REPORT_RSS: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const processSeconds = (performance.now() - started) / 1000;
  if (child.status !== 0) {
    throw new Error(`genevae ${stage} failed with status ${child.status}:\n${child.stderr.split('\n').slice(-20).join('\n')}`);
  }
  const line = child.stderr.split('\n').find((text) => text.startsWith(PEAK_RSS_MARKER));
  const peak = line ? (JSON.parse(line.slice(PEAK_RSS_MARKER.length + 1)) as { maxRssKiB: number }).maxRssKiB : null;
  return { processSeconds, peakRssMB: peak === null ? null : (peak * 1024) / 1e6 };
}

function readJson(path: string): Record<string, unknown> | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : null;
}

function stageSummary(runDir: string, stage: StageName): Record<string, unknown> | null {
  const file = readJson(join(runDir, STAGE_DIRS[stage], 'summary.json'));
  return (file?.summary as Record<string, unknown> | undefined) ?? null;
}

function runCohort(spec: CohortSpec, workDir: string): CohortResult {
  const runDir = join(workDir, `run-${spec.name}`);
  const privacyDir = join(workDir, 'privacy');
  const stages: Partial<Record<StageName, StageMeasure>> = {};
  const started = performance.now();
  for (const stage of STAGES) {
    let args: string[] = [];
    if (stage === 'ingest') args = spec.ingest;
    if (stage === 'train') args = ['--privacy-dir', privacyDir, ...spec.train];
    if (stage === 'report') args = ['--privacy-dir', privacyDir];
    process.stderr.write(`bench pipeline: ${spec.name}: ${stage} started\n`);
    const measured = runStage(stage, runDir, args);
    const manifest = readJson(join(runDir, 'manifest.json'));
    const record = (manifest?.stages as Record<string, { seconds?: number }> | undefined)?.[stage];
    stages[stage] = { seconds: record?.seconds ?? null, ...measured };
    process.stderr.write(
      `bench pipeline: ${spec.name}: ${stage} finished in ${measured.processSeconds.toFixed(1)} s, peak RSS ${measured.peakRssMB?.toFixed(0) ?? '?'} MB\n`,
    );
  }
  const totalSeconds = (performance.now() - started) / 1000;

  const ingest = stageSummary(runDir, 'ingest');
  const train = stageSummary(runDir, 'train');
  const cluster = stageSummary(runDir, 'cluster');
  const classify = stageSummary(runDir, 'classify');
  const report = stageSummary(runDir, 'report');
  const html = join(runDir, STAGE_DIRS.report, 'index.html');
  const results = classify?.results as Record<string, { folds: { balancedAccuracy: { mean: number } } }> | undefined;
  const peaks = Object.values(stages).map((s) => s.peakRssMB ?? 0);
  const seconds = train?.seconds as { perEpoch?: number } | undefined;
  return {
    cohort: spec.name,
    description: spec.description,
    samples: (ingest?.nSamples as number | undefined) ?? null,
    genes: (ingest?.nGenes as number | undefined) ?? null,
    stages,
    totalSeconds,
    maxPeakRssMB: peaks.length > 0 ? Math.max(...peaks) : null,
    training: train ? { epochsRun: (train.epochsRun as number | undefined) ?? null, secondsPerEpoch: seconds?.perEpoch ?? null } : null,
    report: existsSync(html) ? { htmlMB: statSync(html).size / 1e6, scatter: report?.scatter ?? null } : null,
    clusterTimings: (cluster?.timings as Record<string, number> | undefined) ?? null,
    classifyScaling: classify?.scaling ?? null,
    balancedAccuracy: results ? Object.fromEntries(Object.entries(results).map(([name, r]) => [name, r.folds.balancedAccuracy.mean])) : null,
  };
}

function generateCohort(workDir: string, samples: number, genes: number): string {
  const path = join(workDir, `demo-${samples}x${genes}.csv`);
  const child = spawnSync(process.execPath, [cli, 'demo', '--out', path, '--samples', String(samples), '--genes', String(genes)], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`genevae demo failed: ${child.stderr}`);
  return path;
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

export async function run(): Promise<object> {
  const samples = positiveInteger('GENEVAE_BENCH_PIPELINE_SAMPLES', 50_000);
  const genes = positiveInteger('GENEVAE_BENCH_PIPELINE_GENES', 2_500);
  const epochs = process.env.GENEVAE_BENCH_PIPELINE_EPOCHS ? positiveInteger('GENEVAE_BENCH_PIPELINE_EPOCHS', 1) : null;
  const cohorts = (process.env.GENEVAE_BENCH_PIPELINE_COHORTS ?? 'pbmc68k,generated').split(',').map((name) => name.trim());
  const dataDir = process.env.GENEVAE_BENCH_PIPELINE_DATA ?? join(repository, '..', 'shared', 'data');
  const unknown = cohorts.filter((name) => name !== 'pbmc68k' && name !== 'generated');
  if (unknown.length > 0) throw new Error(`GENEVAE_BENCH_PIPELINE_COHORTS: unknown cohort(s) ${unknown.join(', ')}; use pbmc68k and generated`);

  const workDir = mkdtempSync(join(tmpdir(), 'genevae-bench-pipeline-'));
  mkdirSync(join(workDir, 'privacy'), { recursive: true });
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryGB: totalmem() / 1e9,
    loadAverageAtStart: loadavg(),
    node: process.version,
  };
  const results: CohortResult[] = [];
  try {
    for (const name of cohorts) {
      if (name === 'pbmc68k') {
        const folder = join(dataDir, 'pbmc68k_reduced');
        if (!existsSync(folder)) {
          process.stderr.write(`bench pipeline: ${folder} not found, so pbmc68k is skipped\n`);
          continue;
        }
        results.push(
          runCohort(
            {
              name,
              description: 'pbmc68k_reduced: 700 cells x 765 genes of UMI counts, 10 bulk_labels classes, default training',
              ingest: [
                join(folder, 'counts_cells_x_genes.csv.gz'),
                '--metadata',
                join(folder, 'cell_labels.csv'),
                '--metadata-label-column',
                'bulk_labels',
              ],
              train: [],
            },
            workDir,
          ),
        );
      } else {
        process.stderr.write(`bench pipeline: generating ${samples} x ${genes} demo cohort\n`);
        const csv = generateCohort(workDir, samples, genes);
        results.push(
          runCohort(
            {
              name,
              description:
                `generated demo cohort: ${samples} samples x ${genes} genes of counts, 4 disease labels, ` +
                (epochs === null ? 'default training' : `at most ${epochs} training epochs`),
              ingest: [csv, '--label-column', 'disease'],
              train: epochs === null ? [] : ['--epochs', String(epochs)],
            },
            workDir,
          ),
        );
        rmSync(csv, { force: true });
      }
    }
  } finally {
    if (process.env.GENEVAE_BENCH_PIPELINE_KEEP === '1') process.stderr.write(`bench pipeline: kept ${workDir}\n`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  return { machine: { ...machine, loadAverageAtEnd: loadavg() }, results };
}
