import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { findMinimlXml, minimlFiles } from '../io/miniml.js';
import { findTenxFiles } from '../io/tenx.js';

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
  const files = bundleFiles(path);
  if (files === null) return { path, bytes: statSync(path).size, sha256: await sha256File(path) };
  // A bundle's content is the files ingest reads: the name and SHA-256 of each, in name order.
  const hash = createHash('sha256');
  let bytes = 0;
  for (const file of [...files].sort((a, b) => basename(a).localeCompare(basename(b)))) {
    bytes += statSync(file).size;
    hash.update(`${basename(file)}\0${await sha256File(file)}\n`);
  }
  return { path, bytes, sha256: hash.digest('hex') };
}

/**
 * Returns the files of a bundle input, or null for a single file. A bundle is a Cell Ranger
 * matrix (its .mtx, gene and barcode files) or a GEO MINiML series (its XML and sample tables),
 * given as its directory or its .mtx or .xml file.
 */
function bundleFiles(path: string): string[] | null {
  const tenx = findTenxFiles(path);
  if (tenx) return [tenx.matrix, tenx.features, tenx.barcodes];
  const xml = findMinimlXml(path);
  return xml ? minimlFiles(xml) : null;
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
