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

/** The version in genevae's package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** File that `npm run build` writes beside the compiled code, naming the commit it was built from. */
export const BUILD_INFO_FILE = 'build-info.json';

/**
 * The genevae version with the git commit of the code that runs: the commit recorded at build
 * time when running compiled code, else the checkout's commit (tests run the sources).
 */
export function codeVersion(): string {
  const root = packageRoot();
  const version = packageVersion();
  const here = fileURLToPath(import.meta.url);
  if (here.includes(`${join(root, 'dist')}`)) {
    try {
      const info = JSON.parse(readFileSync(join(root, 'dist', BUILD_INFO_FILE), 'utf8')) as { commit?: string };
      return info.commit ? `${version}+${info.commit}` : version;
    } catch {
      return `${version}+unknown-build`;
    }
  }
  const commit = gitCommit(root);
  return commit ? `${version}+${commit}` : version;
}

/** The checkout's short commit, with '-dirty' when tracked files differ from it; '' outside git. */
export function gitCommit(root: string): string {
  try {
    let commit = execFileSync('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += '-dirty';
    return commit;
  } catch {
    // not a git checkout (an installed package): the package version alone identifies the code
    return '';
  }
}

/**
 * Reads an installed package's version by resolving its entry point and walking up to its
 * package.json, because packages with an `exports` map do not expose `<name>/package.json`.
 */
export function installedVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (let depth = 0; depth < 6; depth++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // no package.json at this level; keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // not resolvable: reported below
  }
  return 'not installed';
}

/** Libraries whose versions change results: the model, the tables, parsing, clustering and the plots. */
export const RESULT_LIBRARIES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  'apache-arrow',
  'papaparse',
  'ml-kmeans',
  'umap-js',
  'vega',
  'vega-lite',
] as const;

/** Versions of Node.js and of the libraries whose behaviour changes results. */
export function dependencyVersions(): Record<string, string> {
  const versions: Record<string, string> = { node: process.version };
  for (const name of RESULT_LIBRARIES) versions[name] = installedVersion(name);
  return versions;
}
