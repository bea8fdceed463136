import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { tableFromIPC } from 'apache-arrow';

/**
 * Name of a temporary that an atomic write or a stage leaves while it runs: a hidden
 * `.<name>.tmp-<pid>-<hex>` (or `.old-` for a stage directory moved aside). Only these may be
 * left behind by a killed process, because no reader looks at hidden names.
 */
export const TEMPORARY_NAME = /^\..+\.(tmp|old)-\d+-[0-9a-f]+$/;

/** Lists every file under `dir` as a path relative to it, hidden ones included. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return files.sort();
}

/** Hashes every file under `dir` (SHA-256, keyed by relative path): equal maps mean byte-for-byte equal trees. */
export function hashTree(dir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const file of listFiles(dir)) hashes[file] = createHash('sha256').update(readFileSync(join(dir, file))).digest('hex');
  return hashes;
}

export function hashFile(path: string): string | null {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : null;
}

/** Lists the files and directories named as temporaries at any depth, relative to `dir`. */
export function temporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => TEMPORARY_NAME.test(entry.name))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/**
 * Opens every file at a final name under a run directory (skipping hidden temporaries): each
 * .arrow must read as an Arrow table with at least one column, each .json must parse and each
 * .html must end with its closing tag. Returns one line per damaged file.
 */
export function damagedFiles(runDir: string): string[] {
  const problems: string[] = [];
  for (const file of listFiles(runDir)) {
    if (file.split(sep).some((part) => TEMPORARY_NAME.test(part))) continue;
    const path = join(runDir, file);
    try {
      if (file.endsWith('.arrow')) {
        const table = tableFromIPC(readFileSync(path));
        if (table.schema.fields.length === 0) problems.push(`${file}: Arrow table without columns`);
      } else if (file.endsWith('.json')) {
        JSON.parse(readFileSync(path, 'utf8'));
      } else if (file.endsWith('.html')) {
        if (!readFileSync(path, 'utf8').trimEnd().endsWith('</html>')) problems.push(`${file}: HTML ends before </html>`);
      }
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/**
 * Lists the problems of the ledger text as a file: a last line without its newline, or a line that is not
 * JSON. The hash chain itself is checked by `genevae audit`.
 */
export function halfWrittenLedgerLines(text: string): string[] {
  if (text === '') return [];
  const problems: string[] = [];
  if (!text.endsWith('\n')) problems.push('the ledger does not end with a newline');
  text
    .split('\n')
    .filter((line) => line !== '')
    .forEach((line, index) => {
      try {
        JSON.parse(line);
      } catch {
        problems.push(`line ${index + 1} is not JSON: ${line.slice(0, 80)}`);
      }
    });
  return problems;
}

/** Parses the ledger's lines. */
export function ledgerEntries(privacyDir: string): Record<string, any>[] {
  const path = join(privacyDir, 'ledger.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}
