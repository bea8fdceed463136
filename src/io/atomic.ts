import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

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
  renameSync(temporary, target);
}
