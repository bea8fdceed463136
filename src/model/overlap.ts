import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFrame, readTable, tableToCsr } from '../io/arrow.js';
import type { CsrMatrix } from '../matrix/csr.js';
import { FILES, STAGE_DIRS } from '../run/layout.js';

/** FNV-1a hash of a string, as an unsigned 32-bit integer. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Mixes 32 bits so that nearby inputs give unrelated outputs (the murmur3 finalizer). */
function mix(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Returns a fingerprint per row of a samples × genes matrix built from its (gene id, value)
 * pairs. The pairs are summed after mixing, so the fingerprint does not depend on the gene
 * order, and two files holding the same sample give the same fingerprint. Rows without a
 * non-zero value get null, since they cannot be told apart.
 */
export function rowFingerprints(matrix: CsrMatrix, geneIds: readonly string[]): (string | null)[] {
  const geneHash = Uint32Array.from(geneIds, hashText);
  const bits = new Uint32Array(1);
  const value = new Float32Array(bits.buffer);
  const out: (string | null)[] = [];
  for (let r = 0; r < matrix.nRows; r++) {
    const start = matrix.indptr[r];
    const end = matrix.indptr[r + 1];
    if (end === start) {
      out.push(null);
      continue;
    }
    let first = 0;
    let second = 0;
    for (let k = start; k < end; k++) {
      value[0] = matrix.data[k];
      const pair = mix(geneHash[matrix.indices[k]] ^ mix(bits[0]));
      first = (first + pair) >>> 0;
      second = (second + mix(pair ^ 0x9e3779b9)) >>> 0;
    }
    out.push(`${end - start}:${first}:${second}`);
  }
  return out;
}

/**
 * Counts the rows of `matrix` whose gene ids and values equal those of a sample the run in
 * `runDir` ingested (and so trained on). Returns null when the run's ingest tables are gone.
 */
export function samplesSeenInTraining(runDir: string, matrix: CsrMatrix, geneIds: readonly string[]): number | null {
  const ingestDir = join(runDir, STAGE_DIRS.ingest);
  if (!existsSync(join(ingestDir, FILES.X)) || !existsSync(join(ingestDir, FILES.var))) return null;
  const trainingGenes = (readFrame(join(ingestDir, FILES.var)).gene_id as (string | null)[]).map(String);
  const training = new Set(rowFingerprints(tableToCsr(readTable(join(ingestDir, FILES.X))), trainingGenes));
  return rowFingerprints(matrix, geneIds).filter((fingerprint) => fingerprint !== null && training.has(fingerprint)).length;
}
