import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INGEST_DEFAULTS } from '../pipeline/ingest.js';
import { readDelimited } from '../src/io/delimited.js';
import type { StageContext } from '../src/run/stage.js';
import { STAGE_DIRS } from '../src/run/layout.js';
import { runIngest, type IngestSummary } from '../src/stages/ingest.js';
import { Logger } from '../src/util/log.js';
import { Rng } from '../src/util/rng.js';

/**
 * Ingest benchmark. It generates a CSV of counts in a temporary directory (by default 20,000
 * samples × 20,000 genes, 80% zeros, about 1 GB). It ingests the file in a child process and
 * compares throughput and peak RSS with the size of the final CSR matrix. It reads the same
 * file with pandas.read_csv (Debian's /usr/bin/python3) when pandas is installed.
 *
 * Environment: GENEVAE_BENCH_INGEST_SAMPLES, GENEVAE_BENCH_INGEST_GENES (matrix size),
 * GENEVAE_BENCH_INGEST_DENSITY (fraction of non-zero cells), GENEVAE_BENCH_INGEST_PANDAS=0
 * to skip pandas, GENEVAE_BENCH_INGEST_KEEP=1 to keep the generated file.
 * Runs from the compiled dist/bench/ingest.bench.js (the child re-runs this file).
 */

const PYTHON = '/usr/bin/python3';

export interface GeneratedCsv {
  path: string;
  bytes: number;
  samples: number;
  genes: number;
  nnz: number;
}

/**
 * Writes a samples × genes CSV of counts: each cell is non-zero with probability `density`,
 * non-zero values log-uniform in [1, 50,000] (1 to 5 digits). Seeded,
 * written row by row.
 */
export function generateCountsCsv(path: string, samples: number, genes: number, density: number, seed = 0): GeneratedCsv {
  const rng = new Rng(seed);
  const fd = openSync(path, 'w');
  let nnz = 0;
  try {
    const header = ['sample'];
    for (let j = 0; j < genes; j++) header.push(`G${j + 1}`);
    writeSync(fd, header.join(',') + '\n');
    const cells: string[] = new Array(genes + 1);
    const logMax = Math.log(50_000);
    let pending: string[] = [];
    let pendingLength = 0;
    for (let i = 0; i < samples; i++) {
      cells[0] = `S${i + 1}`;
      for (let j = 0; j < genes; j++) {
        if (rng.uniform() < density) {
          cells[j + 1] = String(Math.floor(Math.exp(rng.uniform() * logMax)));
          nnz++;
        } else {
          cells[j + 1] = '0';
        }
      }
      const line = cells.join(',') + '\n';
      pending.push(line);
      pendingLength += line.length;
      if (pendingLength > 1 << 24) {
        writeSync(fd, pending.join(''));
        pending = [];
        pendingLength = 0;
      }
    }
    if (pending.length > 0) writeSync(fd, pending.join(''));
  } finally {
    closeSync(fd);
  }
  return { path, bytes: statSync(path).size, samples, genes, nnz };
}

/** Timings and sizes printed by the ingest child. */
export interface ChildResult {
  seconds: number;
  peakRssBytes: number;
  nnz: number;
  nSamples: number;
  nGenes: number;
  xArrowBytes: number;
}

/** Ingests `csv` (or any input ingest reads) in a fresh Node process and returns its time and peak RSS. */
export async function ingestInChild(csv: string, outDir: string): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.js')) throw new Error(`run the compiled benchmark (dist/bench/ingest.bench.js), not ${self}`);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--ingest-child', csv, outDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`ingest child exited with ${code}`))));
  });
  return JSON.parse(output.trim().split('\n').pop()!) as ChildResult;
}

/** Child entry: runs the ingest stage on `csv` into `outDir` and prints timings and peak RSS as JSON. */
async function childMain(csv: string, outDir: string): Promise<void> {
  const outputDir = join(outDir, STAGE_DIRS.ingest);
  mkdirSync(outputDir, { recursive: true });
  const ctx: StageContext = {
    runDir: outDir,
    outputDir,
    inputPath: (stage, file) => join(outDir, STAGE_DIRS[stage], file),
    runId: 'bench',
    seed: 0,
    log: new Logger('ingest'),
  };
  const started = performance.now();
  const result = await runIngest(ctx, { ...INGEST_DEFAULTS, inputs: [csv] });
  const seconds = (performance.now() - started) / 1000;
  const summary = result.summary as unknown as IngestSummary;
  const out: ChildResult = {
    seconds,
    // resourceUsage().maxRSS is in kilobytes.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    nnz: summary.nnz,
    nSamples: summary.nSamples,
    nGenes: summary.nGenes,
    xArrowBytes: statSync(join(outputDir, 'X.arrow')).size,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/**
 * Runs `read` (Python lines that read sys.argv[1] into `result` and set `version`) with Debian's
 * Python, timed, with its peak RSS. Returns the reason instead when `module` cannot be imported.
 */
export function pythonReference<T extends object>(
  module: string,
  debianPackage: string,
  read: string[],
  path: string,
): (T & { seconds: number; peakRssBytes: number; version: string }) | { skipped: string } {
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found` };
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
  } catch {
    return { skipped: `${debianPackage} is not installed (apt-get install ${debianPackage})` };
  }
  const script = [
    'import json, resource, sys, time',
    // The import is outside the timing, and `read` may repeat it at no cost.
    `import ${module}`,
    't = time.perf_counter()',
    ...read,
    'seconds = time.perf_counter() - t',
    // ru_maxrss is in kilobytes on Linux.
    'print(json.dumps({**result, "seconds": seconds, "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "version": version}))',
  ].join('\n');
  const output = execFileSync(PYTHON, ['-c', script, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split('\n').pop()!) as T & { seconds: number; peakRssBytes: number; version: string };
}

/** pandas.read_csv on the same file, timed, with its peak RSS; the reason instead when pandas is missing. */
function pandasReadCsv(csv: string) {
  return pythonReference<{ shape: number[] }>('pandas', 'python3-pandas', [
    'import pandas',
    'df = pandas.read_csv(sys.argv[1], index_col=0)',
    'result, version = {"shape": list(df.shape)}, pandas.__version__',
  ], csv);
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

export async function run(): Promise<object> {
  const samples = envNumber('GENEVAE_BENCH_INGEST_SAMPLES', 20_000);
  const genes = envNumber('GENEVAE_BENCH_INGEST_GENES', 20_000);
  const density = envNumber('GENEVAE_BENCH_INGEST_DENSITY', 0.2);
  const dir = mkdtempSync(join(tmpdir(), 'genevae-bench-ingest-'));
  try {
    const generationStart = performance.now();
    const csv = generateCountsCsv(join(dir, 'counts.csv'), samples, genes, density);
    const generationSeconds = (performance.now() - generationStart) / 1000;
    process.stderr.write(`bench ingest: generated ${(csv.bytes / 1e6).toFixed(0)} MB in ${generationSeconds.toFixed(1)} s\n`);

    const child = await ingestInChild(csv.path, join(dir, 'run'));
    // The in-memory CSR of the cohort: Float64 indptr, Int32 indices, Float32 values.
    const csrBytes = (child.nSamples + 1) * 8 + child.nnz * 8;
    const genevae = {
      seconds: round(child.seconds),
      throughputMBps: round(csv.bytes / 1e6 / child.seconds),
      peakRssMB: round(child.peakRssBytes / 1e6),
      csrMB: round(csrBytes / 1e6),
      peakRssOverCsr: round(child.peakRssBytes / csrBytes),
      xArrowMB: round(child.xArrowBytes / 1e6),
      nnzMatches: child.nnz === csv.nnz,
    };
    process.stderr.write(`bench ingest: genevae ${JSON.stringify(genevae)}\n`);

    // papaparse alone (records split into strings, no number parsed), the parser ingest
    // used before the byte-level reader, as the lower bound of a papaparse-based ingest.
    const papaparseStart = performance.now();
    let papaparseRecords = 0;
    await readDelimited(csv.path, { delimiter: ',', kind: 'text' }, (block) => {
      papaparseRecords += block.rows.length;
    });
    const papaparseSeconds = (performance.now() - papaparseStart) / 1000;
    const papaparse = { seconds: round(papaparseSeconds), throughputMBps: round(csv.bytes / 1e6 / papaparseSeconds), records: papaparseRecords };
    process.stderr.write(`bench ingest: papaparse parse only ${JSON.stringify(papaparse)}\n`);

    let pandas: object;
    if (process.env.GENEVAE_BENCH_INGEST_PANDAS === '0') {
      pandas = { skipped: 'GENEVAE_BENCH_INGEST_PANDAS=0' };
    } else {
      rmSync(join(dir, 'run'), { recursive: true, force: true });
      const result = pandasReadCsv(csv.path);
      pandas =
        'skipped' in result
          ? result
          : {
              version: result.version,
              seconds: round(result.seconds),
              throughputMBps: round(csv.bytes / 1e6 / result.seconds),
              peakRssMB: round(result.peakRssBytes / 1e6),
            };
      process.stderr.write(`bench ingest: pandas ${JSON.stringify(pandas)}\n`);
    }
    return {
      file: { samples, genes, density, MB: round(csv.bytes / 1e6), nnz: csv.nnz, generationSeconds: round(generationSeconds) },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGB: round(totalmem() / 2 ** 30), node: process.version },
      genevae,
      papaparseParseOnly: papaparse,
      pandas,
    };
  } finally {
    if (process.env.GENEVAE_BENCH_INGEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench ingest: kept ${dir}\n`);
  }
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (process.argv[2] === '--ingest-child') {
  await childMain(process.argv[3], process.argv[4]);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
