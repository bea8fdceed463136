import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { CsrMatrix } from '../matrix/csr.js';

/**
 * SHA-256 fingerprint of a dataset: its sample ids and matrix values. The privacy ledger keys
 * each dataset's budget by it, so two runs on the same cohort add up.
 *
 * Each sample is hashed with its own row (its id, the column indices and the float32 values of
 * its non-zero entries), and the per-sample hashes are combined in sample-id order. Reordering the
 * samples therefore keeps the fingerprint, while any change to an id, a value, the gene count
 * or the set of samples changes it. Values are hashed as little-endian float32 bytes, so the
 * fingerprint does not depend on the machine.
 *
 * NOTE: the budget can only add up runs whose fingerprints match. The same patients in a
 * subset, with other genes or re-normalised values, get a new fingerprint, so the input to
 * fingerprint should be the matrix as ingested, before any filtering or normalisation.
 */
export function datasetFingerprint(sampleIds: readonly string[], X: CsrMatrix): string {
  if (sampleIds.length !== X.nRows) {
    throw new RangeError(`fingerprint needs one sample id per matrix row: ${sampleIds.length} ids, ${X.nRows} rows`);
  }
  const rows = sampleIds.map((id, row) => ({ id, digest: rowDigest(id, X, row) }));
  // Code-unit order, so that the order does not depend on the locale.
  rows.sort((a, b) => {
    if (a.id === b.id) return 0;
    return a.id < b.id ? -1 : 1;
  });
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].id === rows[i - 1].id) throw new RangeError(`sample id '${rows[i].id}' appears twice; fingerprints need unique ids`);
  }

  const hash = createHash('sha256');
  hash.update('genevae dataset fingerprint v1\n');
  hash.update(`${X.nRows} samples, ${X.nCols} genes\n`);
  for (const row of rows) hash.update(row.digest);
  return hash.digest('hex');
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** SHA-256 of one sample: id, then column indices and float32 values of its non-zero entries. */
function rowDigest(id: string, X: CsrMatrix, row: number): Buffer {
  const start = X.indptr[row];
  const end = X.indptr[row + 1];
  let indices = X.indices.subarray(start, end);
  let values = X.data.subarray(start, end);
  // Explicit zeros are not part of the data, so a matrix that stores some hashes like one that does not.
  if (values.some((v) => v === 0)) {
    const keep: number[] = [];
    values.forEach((v, k) => {
      if (v !== 0) keep.push(k);
    });
    indices = Int32Array.from(keep, (k) => indices[k]);
    values = Float32Array.from(keep, (k) => values[k]);
  }
  const idBytes = Buffer.from(id, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt32LE(idBytes.length, 0);
  header.writeUInt32LE(values.length, 4);
  return createHash('sha256')
    .update(header)
    .update(idBytes)
    .update(littleEndianBytes(indices))
    .update(littleEndianBytes(values))
    .digest();
}

function littleEndianBytes(array: Int32Array | Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const out = Buffer.alloc(array.byteLength);
  array.forEach((v, k) => (array instanceof Int32Array ? out.writeInt32LE(v, 4 * k) : out.writeFloatLE(v, 4 * k)));
  return out;
}
