import { mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeJsonAtomic } from '../src/io/atomic.js';

/**
 * Runs every bench/*.bench.ts (compiled to dist/bench/) whose name contains one of the
 * command-line arguments, or all of them, and writes the results to bench/out/<time>.json.
 * Each benchmark exports `run(): Promise<object>` and compares against its reference in the
 * same process or script, reporting ratios, because the machines are shared and noisy.
 */
async function main(filters: string[]): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const names = readdirSync(here)
    .filter((name) => name.endsWith('.bench.js'))
    .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
    .sort();
  if (names.length === 0) {
    process.stderr.write(`no benchmark matches ${filters.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const results: Record<string, unknown> = {};
  for (const name of names) {
    process.stderr.write(`bench: ${name} started\n`);
    const module = (await import(pathToFileURL(join(here, name)).href)) as { run: () => Promise<object> };
    const started = performance.now();
    results[name.replace(/\.bench\.js$/, '')] = await module.run();
    process.stderr.write(`bench: ${name} finished in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const outDir = join(here, '..', '..', 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeJsonAtomic(path, { machine: machineDescription(), results });
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  process.stderr.write(`bench: results written to ${path}\n`);
}

function machineDescription(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg(),
  };
}

await main(process.argv.slice(2));
