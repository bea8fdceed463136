import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { TRAIN_DEFAULTS } from '../pipeline/train.js';
import { denseToTable, writeFrame, writeTable } from '../src/io/arrow.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { initBackend } from '../src/model/backend.js';
import type { VaeConfig } from '../src/model/config.js';
import { initParameters } from '../src/model/parameters.js';
import { localEngine, train, type GradientEngine } from '../src/model/trainer.js';
import { VaeModel } from '../src/model/vae.js';
import { WorkerPool } from '../src/model/worker-pool.js';
import { SecureRandom } from '../src/privacy/secure-random.js';
import { STAGE_DIRS } from '../src/run/layout.js';
import type { StageContext } from '../src/run/stage.js';
import { runTrain } from '../src/stages/train.js';
import { Logger } from '../src/util/log.js';
import { Rng } from '../src/util/rng.js';

/**
 * Training speed and memory against PyTorch. The model: 4,096 samples × 2,000 genes, one
 * hidden layer of 256, latent 16, batch 128, Adam, Gaussian likelihood, no layer norm or
 * dropout, one compute thread on both sides. Each genevae
 * configuration runs in its own child process so that its peak RSS is its own.
 */
const SAMPLES = 4096;
const GENES = 2000;
const HIDDEN = 256;
const LATENT = 16;
const BATCH = 128;
const PYTHON = '/usr/bin/python3';

interface SpeedRun {
  /** Median wall-clock ms per epoch, first epoch excluded. */
  msPerEpoch: number;
  epochMs: number[];
  /** Median CPU ms per epoch (all threads of the process), first epoch excluded; steadier than wall time on a shared machine. */
  cpuMsPerEpoch: number;
  epochCpuMs: number[];
  peakRssMb: number;
  matmulGflops: { wall: number; cpu: number };
  workers: number;
  dp: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

function benchConfig(): VaeConfig {
  return { nGenes: GENES, hiddenDims: [HIDDEN], latentDim: LATENT, dropout: 0, layerNorm: false, likelihood: 'gaussian', prior: 'normal', mixtureComponents: 1 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

function peakRssMb(): number {
  // resourceUsage().maxRSS is in kilobytes.
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Measures GFLOP/s of tf.matMul 128×2000 by 2000×256 with a cached right operand, by wall
 * time and by this process's CPU time (steadier on a shared machine).
 */
function matmulGflops(): { wall: number; cpu: number } {
  const a = tf.randomNormal([128, 2000]);
  const b = tf.randomNormal([2000, 256]);
  for (let i = 0; i < 5; i++) tf.tidy(() => tf.matMul(a, b).dataSync());
  const repeats = 30;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < repeats; i++) tf.tidy(() => tf.matMul(a, b).dataSync());
  const cpu = process.cpuUsage(cpuBefore);
  const wallSeconds = (performance.now() - started) / 1000 / repeats;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6 / repeats;
  tf.dispose([a, b]);
  const flop = 2 * 128 * 2000 * 256;
  return { wall: flop / wallSeconds / 1e9, cpu: flop / cpuSeconds / 1e9 };
}

/** Child process: trains the benchmark model and prints a SpeedRun as JSON. */
async function speedChild(dp: boolean, workers: number, epochs: number): Promise<SpeedRun> {
  await initBackend('wasm');
  const rng = new Rng(0);
  const x = new Float32Array(SAMPLES * GENES);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const data = { nSamples: SAMPLES, nGenes: GENES, x, counts: null, logLibrary: null, logFactorialSum: null };

  const config = benchConfig();
  let { layout, parameters } = initParameters(config, rng.fork('init'));
  const model = new VaeModel(config, layout, parameters);
  let engine: GradientEngine = localEngine(model);
  let pool: WorkerPool | null = null;
  if (workers > 1) {
    const started = await WorkerPool.start(workers, config, parameters, 'wasm');
    pool = started.pool;
    parameters = started.parameters;
    engine = pool;
  }

  const rows = Int32Array.from({ length: SAMPLES }, (_, i) => i);
  const epochCpuMs: number[] = [];
  let cpuBefore = process.cpuUsage();
  const result = await train(
    engine,
    config,
    parameters,
    data,
    rows,
    new Int32Array(0),
    {
      epochs,
      batchSize: BATCH,
      learningRate: 1e-3,
      klWarmupFraction: 0,
      beta: 1,
      selectOnValidation: false,
      earlyStoppingPatience: 0,
      dp: dp ? { clipNorm: 1, noiseMultiplier: 1, samplingRate: BATCH / SAMPLES, random: SecureRandom.fromSystem() } : null,
    },
    {
      rng,
      onEpoch: () => {
        const used = process.cpuUsage(cpuBefore);
        epochCpuMs.push((used.user + used.system) / 1000);
        cpuBefore = process.cpuUsage();
      },
    },
  );
  await pool?.close();

  const epochMs = result.history.map((record) => record.seconds * 1000);
  const gflops = matmulGflops();
  model.dispose();
  // The first epoch includes one-time set-up (wasm compilation, operator caches).
  return { msPerEpoch: median(epochMs.slice(1)), epochMs, cpuMsPerEpoch: median(epochCpuMs.slice(1)), epochCpuMs, peakRssMb: peakRssMb(), matmulGflops: gflops, workers, dp };
}

/** Child process: writes 02-normalize outputs of a dense samples × genes cohort. */
function prepareChild(dir: string, samples: number, genes: number): object {
  const normalizeDir = join(dir, STAGE_DIRS.normalize);
  mkdirSync(normalizeDir, { recursive: true });
  const rng = new Rng(1);
  const values = new Float32Array(samples * genes);
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform() * 2 - 1;
  const sampleIds = Array.from({ length: samples }, (_, i) => `s${i}`);
  const geneIds = Array.from({ length: genes }, (_, j) => `g${j}`);
  writeTable(join(normalizeDir, 'X.arrow'), denseToTable({ nRows: samples, nCols: genes, data: values }, 'values'));
  writeFrame(join(normalizeDir, 'obs.arrow'), { sample_id: sampleIds });
  writeJsonAtomic(join(normalizeDir, 'normalization.json'), {
    formatVersion: 1,
    inputKind: 'log',
    targetSum: null,
    clipNegative: false,
    log1p: false,
    geneIds,
    mean: new Array(genes).fill(0),
    std: new Array(genes).fill(1),
    scale: true,
    clip: null,
  });
  return { xBytes: statSync(join(normalizeDir, 'X.arrow')).size };
}

/** Child process: runs the train stage for one epoch on the prepared cohort and reports its peak RSS. */
async function memoryChild(dir: string): Promise<object> {
  const log = new Logger('bench-train');
  const outputDir = join(dir, STAGE_DIRS.train);
  mkdirSync(outputDir, { recursive: true });
  const ctx: StageContext = {
    runDir: dir,
    outputDir,
    inputPath: (stage, file) => join(dir, STAGE_DIRS[stage], file),
    runId: 'bench-memory',
    seed: 0,
    log,
  };
  const started = performance.now();
  const result = await runTrain(ctx, {
    ...TRAIN_DEFAULTS,
    hiddenDims: [HIDDEN],
    latentDim: LATENT,
    epochs: 1,
    batchSize: BATCH,
    dp: false,
    likelihood: 'gaussian',
    backend: 'wasm',
  });
  const summary = result.summary as { seconds: { training: number } };
  return { peakRssMb: peakRssMb(), trainingSeconds: summary.seconds.training, stageSeconds: (performance.now() - started) / 1000 };
}

function runChild(args: string[], timeoutMs: number): Record<string, unknown> {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [script, '--child', ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 24 });
  const lastLine = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    return { error: `child ${args.join(' ')} failed (status ${child.status}): ${child.stderr.slice(-2000)}` };
  }
  return JSON.parse(lastLine) as Record<string, unknown>;
}

function runTorch(threads: number, skipDp: boolean): Record<string, unknown> {
  const script = join(here, '..', '..', 'bench', 'reference', 'vae_torch.py');
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found: install Debian's python3-torch to run the PyTorch reference` };
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `PyTorch is not importable by ${PYTHON} (apt-get install python3-torch): ${probe.stderr.trim().split('\n').pop()}` };
  const args = [script, '--threads', String(threads), '--samples', String(SAMPLES), '--genes', String(GENES), '--hidden', String(HIDDEN), '--latent', String(LATENT), '--batch-size', String(BATCH)];
  if (skipDp) args.push('--skip-dp');
  const child = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 1 << 24 });
  const lastLine = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) return { error: `vae_torch.py failed (status ${child.status}): ${child.stderr.slice(-2000)}` };
  return JSON.parse(lastLine) as Record<string, unknown>;
}

const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
const field = (run: Record<string, unknown>, ...path: string[]) =>
  path.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), run);

/** Runs every configuration and returns timings, peak RSS and the ratios that have targets. */
export async function run(): Promise<object> {
  const minutes = 60_000;
  const genevae = {
    plain: runChild(['speed', 'plain', '1', '4'], 20 * minutes),
    dp: runChild(['speed', 'dp', '1', '4'], 20 * minutes),
    dpTwoWorkers: runChild(['speed', 'dp', '2', '4'], 20 * minutes),
    plainTwoWorkers: runChild(['speed', 'plain', '2', '4'], 20 * minutes),
  };
  const torch = { oneThread: runTorch(1, false), twoThreads: runTorch(2, false) };

  const memoryDir = mkdtempSync(join(tmpdir(), 'genevae-bench-memory-'));
  let memory: Record<string, unknown>;
  try {
    const prepared = runChild(['prepare', memoryDir, '20000', '5000'], 20 * minutes);
    memory = { samples: 20_000, genes: 5_000, denseCopyMb: (20_000 * 5_000 * 4) / 2 ** 20, ...prepared, ...runChild(['memory', memoryDir], 60 * minutes) };
  } finally {
    rmSync(memoryDir, { recursive: true, force: true });
  }

  // Single-thread comparisons use CPU time, which other processes on a shared machine disturb
  // far less than wall time; the two-core speed-ups need wall time.
  const plainMs = field(genevae.plain, 'cpuMsPerEpoch');
  const dpMs = field(genevae.dp, 'cpuMsPerEpoch');
  const plainWallMs = field(genevae.plain, 'msPerEpoch');
  const dpWallMs = field(genevae.dp, 'msPerEpoch');
  return {
    model: { samples: SAMPLES, genes: GENES, hidden: HIDDEN, latent: LATENT, batch: BATCH, likelihood: 'gaussian', optimizer: 'adam' },
    genevae,
    torch,
    memory,
    ratios: {
      // Target at most 6: genevae non-private epoch over PyTorch's, both on one thread.
      plainVsTorch: ratio(plainMs, field(torch.oneThread, 'plain', 'cpuMsPerEpoch')),
      plainVsTorchWall: ratio(plainWallMs, field(torch.oneThread, 'plain', 'msPerEpoch')),
      // The matrix-multiply rates behind that ratio: PyTorch's GFLOP/s over tfjs wasm's.
      torchMatmulOverWasm: ratio(field(torch.oneThread, 'matmulGflopsCpu'), field(genevae.plain, 'matmulGflops', 'cpu')),
      // Target at most 1.5: DP-SGD epoch over genevae's own non-private epoch.
      dpVsPlain: ratio(dpMs, plainMs),
      dpVsPlainWall: ratio(dpWallMs, plainWallMs),
      // Target at least 5: PyTorch explicit per-example DP-SGD epoch over genevae's DP-SGD epoch.
      torchPerExampleDpOverDp: ratio(field(torch.oneThread, 'dpPerExample', 'cpuMsPerEpoch'), dpMs),
      // Speed-ups from the second core, in wall time.
      dpTwoWorkersSpeedup: ratio(dpWallMs, field(genevae.dpTwoWorkers, 'msPerEpoch')),
      plainTwoWorkersSpeedup: ratio(plainWallMs, field(genevae.plainTwoWorkers, 'msPerEpoch')),
      torchTwoThreadsPlainSpeedup: ratio(field(torch.oneThread, 'plain', 'msPerEpoch'), field(torch.twoThreads, 'plain', 'msPerEpoch')),
      torchTwoThreadsDpSpeedup: ratio(field(torch.oneThread, 'dpPerExample', 'msPerEpoch'), field(torch.twoThreads, 'dpPerExample', 'msPerEpoch')),
    },
  };
}

async function child(args: string[]): Promise<void> {
  const [mode, ...rest] = args;
  let result: object;
  if (mode === 'speed') result = await speedChild(rest[0] === 'dp', Number(rest[1]), Number(rest[2]));
  else if (mode === 'prepare') result = prepareChild(rest[0], Number(rest[1]), Number(rest[2]));
  else if (mode === 'memory') result = await memoryChild(rest[0]);
  else throw new Error(`unknown benchmark child mode ${mode}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[2] === '--child' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await child(process.argv.slice(3));
  process.exit(0);
}
