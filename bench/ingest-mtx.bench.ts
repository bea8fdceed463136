import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/util/rng.js';
import { envNumber, ingestInChild, pythonReference, round } from './ingest.bench.js';

/**
 * Cell Ranger matrix ingest benchmark. It writes a Cell Ranger v3 directory to a temporary
 * directory: a plain matrix.mtx (genes × cells) with features.tsv and barcodes.tsv, by default
 * 20,000 cells × 5,000 genes at 10% non-zero, about 128 MB. It ingests the directory in a
 * child process, reads the same matrix.mtx with scipy.io.mmread (Debian's /usr/bin/python3)
 * when scipy is installed, and reports the time ratio and peak RSS.
 *
 * Environment: GENEVAE_BENCH_MTX_CELLS, GENEVAE_BENCH_MTX_GENES, GENEVAE_BENCH_MTX_DENSITY,
 * GENEVAE_BENCH_MTX_KEEP=1 to keep the generated directory.
 */

/** Writes the directory: entries column by column (cell by cell), as Cell Ranger does, with counts from 1 to 20. */
function generateCellRanger(dir: string, cells: number, genes: number, density: number, seed = 0): { bytes: number; nnz: number } {
  const rng = new Rng(seed);
  const body = join(dir, 'matrix.body');
  const fd = openSync(body, 'w');
  let nnz = 0;
  let pending: string[] = [];
  try {
    for (let c = 1; c <= cells; c++) {
      for (let g = 1; g <= genes; g++) {
        if (rng.uniform() >= density) continue;
        pending.push(`${g} ${c} ${1 + Math.floor(rng.uniform() * 20)}\n`);
        nnz++;
      }
      if (pending.length > 1 << 18) {
        writeSync(fd, pending.join(''));
        pending = [];
      }
    }
    if (pending.length > 0) writeSync(fd, pending.join(''));
  } finally {
    closeSync(fd);
  }
  // The header needs the entry count, so the body is written first and the header prepended.
  const matrix = join(dir, 'matrix.mtx');
  writeFileSync(matrix, `%%MatrixMarket matrix coordinate integer general\n%metadata_json: {"format_version": 2}\n${genes} ${cells} ${nnz}\n`);
  execFileSync('sh', ['-c', 'cat "$1" >> "$2" && rm "$1"', 'sh', body, matrix]);
  writeFileSync(join(dir, 'features.tsv'), Array.from({ length: genes }, (_, g) => `ENSG${String(g).padStart(11, '0')}\tG${g}\tGene Expression\n`).join(''));
  writeFileSync(join(dir, 'barcodes.tsv'), Array.from({ length: cells }, (_, c) => `CELL${c}-1\n`).join(''));
  return { bytes: statSync(matrix).size, nnz };
}

/** scipy.io.mmread on the matrix, timed, with its peak RSS; the reason instead when scipy is missing. */
function scipyMmread(matrix: string) {
  return pythonReference<{ nnz: number }>('scipy.io', 'python3-scipy', [
    'import scipy, scipy.io',
    'm = scipy.io.mmread(sys.argv[1]).tocsr()',
    'result, version = {"nnz": int(m.nnz)}, scipy.__version__',
  ], matrix);
}

export async function run(): Promise<object> {
  const cells = envNumber('GENEVAE_BENCH_MTX_CELLS', 20_000);
  const genes = envNumber('GENEVAE_BENCH_MTX_GENES', 5_000);
  const density = envNumber('GENEVAE_BENCH_MTX_DENSITY', 0.1);
  const root = mkdtempSync(join(tmpdir(), 'genevae-bench-mtx-'));
  const dir = join(root, 'filtered_feature_bc_matrix');
  mkdirSync(dir);
  try {
    const file = generateCellRanger(dir, cells, genes, density);
    process.stderr.write(`bench ingest-mtx: generated ${(file.bytes / 1e6).toFixed(0)} MB, ${file.nnz} entries\n`);
    const child = await ingestInChild(dir, join(root, 'run'));
    const csrBytes = (child.nSamples + 1) * 8 + child.nnz * 8;
    const genevae = {
      seconds: round(child.seconds),
      throughputMBps: round(file.bytes / 1e6 / child.seconds),
      peakRssMB: round(child.peakRssBytes / 1e6),
      csrMB: round(csrBytes / 1e6),
      peakRssOverCsr: round(child.peakRssBytes / csrBytes),
      nnzMatches: child.nnz === file.nnz,
    };
    process.stderr.write(`bench ingest-mtx: genevae ${JSON.stringify(genevae)}\n`);
    rmSync(join(root, 'run'), { recursive: true, force: true });
    const result = scipyMmread(join(dir, 'matrix.mtx'));
    const scipy =
      'skipped' in result
        ? result
        : {
            version: result.version,
            seconds: round(result.seconds),
            peakRssMB: round(result.peakRssBytes / 1e6),
            nnzMatches: result.nnz === file.nnz,
            genevaeTimeRatio: round(child.seconds / result.seconds),
          };
    process.stderr.write(`bench ingest-mtx: scipy ${JSON.stringify(scipy)}\n`);
    return { file: { cells, genes, density, MB: round(file.bytes / 1e6), nnz: file.nnz }, genevae, scipyMmread: scipy };
  } finally {
    if (process.env.GENEVAE_BENCH_MTX_KEEP !== '1') rmSync(root, { recursive: true, force: true });
    else process.stderr.write(`bench ingest-mtx: kept ${root}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
