import type { CsrMatrix } from './csr.js';

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
 * order, and two files holding the same sample give the same fingerprint. With `genes`, only
 * the gene ids in it count. Rows without a counted non-zero value get null, because such rows
 * cannot be distinguished.
 */
export function rowFingerprints(matrix: CsrMatrix, geneIds: readonly string[], genes?: ReadonlySet<string>): (string | null)[] {
  const geneHash = Uint32Array.from(geneIds, hashText);
  const counted = Uint8Array.from(geneIds, (id) => (genes === undefined || genes.has(id) ? 1 : 0));
  const bits = new Uint32Array(1);
  const value = new Float32Array(bits.buffer);
  const out: (string | null)[] = [];
  for (let r = 0; r < matrix.nRows; r++) {
    let first = 0;
    let second = 0;
    let n = 0;
    for (let k = matrix.indptr[r]; k < matrix.indptr[r + 1]; k++) {
      const gene = matrix.indices[k];
      if (counted[gene] === 0) continue;
      value[0] = matrix.data[k];
      const pair = mix(geneHash[gene] ^ mix(bits[0]));
      first = (first + pair) >>> 0;
      second = (second + mix(pair ^ 0x9e3779b9)) >>> 0;
      n++;
    }
    out.push(n === 0 ? null : `${n}:${first}:${second}`);
  }
  return out;
}
