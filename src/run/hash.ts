import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

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
  return { path, bytes: statSync(path).size, sha256: await sha256File(path) };
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
