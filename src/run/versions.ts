import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Root of the genevae package (the folder holding package.json), for both src/ and dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'genevae') return dir;
    } catch {
      // not here; keep walking up
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the genevae package.json above ' + fileURLToPath(import.meta.url));
}

/** The genevae version, with the git commit when the code runs from a checkout. */
export function codeVersion(): string {
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  let commit = '';
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += '-dirty';
  } catch {
    // not a git checkout (an installed package): the package version alone identifies the code
  }
  return commit ? `${pkg.version}+${commit}` : pkg.version;
}

/** Versions of Node.js and of the libraries whose behaviour changes results. */
export function dependencyVersions(): Record<string, string> {
  const names = [
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-backend-wasm',
    'apache-arrow',
    'papaparse',
    'ml-kmeans',
    'umap-js',
  ];
  const versions: Record<string, string> = { node: process.version };
  for (const name of names) {
    try {
      const pkgPath = require.resolve(`${name}/package.json`);
      versions[name] = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
    } catch {
      versions[name] = 'not installed';
    }
  }
  return versions;
}
