import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { processAlive } from '../util/process.js';

/** A temporary written by this module, `.<name>.tmp-<pid>-<hex>` (or `.old-` for a directory moved aside). */
export const TEMPORARY_NAME = /^\..+\.(?:tmp|old)-(\d+)-[0-9a-f]+$/;

/**
 * Removes the temporaries in `dir` (not below it) whose writing process no longer exists,
 * and returns their names. Call it while holding the lock that guards the directory.
 */
export function removeDeadTemporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const match = TEMPORARY_NAME.exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Temporary name beside `path`, so that the final rename stays on one file system. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes `content` to `path` atomically: the bytes go to a temporary file in the same
 * directory, are flushed to disk, and the file is renamed into place. A crash leaves either
 * the old file or the new one, never a partial file.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPathFor(path);
  const fd = openSync(temporary, 'w');
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  fsyncDirectory(dirname(path));
}

/**
 * Flushes a directory's entries, so that a rename into it survives a power cut as well as a
 * killed process. Some file systems refuse to open or flush directories; that only weakens
 * the power-cut guarantee, so the error is ignored.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // see above: durability against power loss is best effort where the OS refuses
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Writes a JSON document atomically, pretty-printed with a trailing newline. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Copies a file to `target` through a temporary name in the target's directory. */
export function copyFileAtomic(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  const temporary = temporaryPathFor(target);
  copyFileSync(source, temporary);
  const fd = openSync(temporary, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, target);
  fsyncDirectory(dirname(target));
}
