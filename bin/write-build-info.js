#!/usr/bin/env node
// Records the commit the compiled code in dist/ was built from, for manifests and the ledger.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
let commit = '';
try {
  const git = (args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  commit = git(['rev-parse', '--short=12', 'HEAD']);
  if (git(['status', '--porcelain', '--untracked-files=no'])) commit += '-dirty';
} catch {
  // not a git checkout: the package version alone identifies the build
}
const target = join(root, 'dist', 'build-info.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(`${target}.tmp`, JSON.stringify({ commit, builtAt: new Date().toISOString() }, null, 2) + '\n');
renameSync(`${target}.tmp`, target);
