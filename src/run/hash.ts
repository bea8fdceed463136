import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** SHA-256 of a file, streamed, as lowercase hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface FileFingerprint {
  path: string;
  bytes: number;
  sha256: string;
}

export async function fingerprintFile(path: string): Promise<FileFingerprint> {
  const directory = bundleDirectory(path);
  if (directory === null) return { path, bytes: statSync(path).size, sha256: await sha256File(path) };
  // A bundle's content is every file of its directory: name and SHA-256 of each, in name order.
  const hash = createHash('sha256');
  let bytes = 0;
  for (const name of readdirSync(directory).sort()) {
    const file = join(directory, name);
    const stat = statSync(file);
    if (!stat.isFile()) continue;
    bytes += stat.size;
    hash.update(`${name}\0${await sha256File(file)}\n`);
  }
  return { path, bytes, sha256: hash.digest('hex') };
}

/**
 * Returns the directory whose files make up a bundle input, or null for a single file. A bundle
 * is a Cell Ranger matrix or a GEO MINiML series, given as its directory or its .mtx or .xml file.
 */
function bundleDirectory(path: string): string | null {
  if (statSync(path).isDirectory()) return path;
  return /\.(mtx|xml)(\.gz)?$/i.test(path) ? dirname(path) : null;
}

/** SHA-256 of a value's canonical JSON (object keys sorted), as lowercase hex. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as Record<string, unknown>).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
