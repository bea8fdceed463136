#!/usr/bin/env node
// Entry point installed as `genevae`; the compiled CLI lives in dist/ after `make setup`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(compiled)) {
  process.stderr.write(`genevae: ${compiled} is missing; run \`make setup\` (or \`npm run build\`) first.\n`);
  process.exit(2);
}
await import(compiled);
