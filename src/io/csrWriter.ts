import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { RecordBatchFileWriter, Table, type RecordBatch } from 'apache-arrow';
import type { CsrMatrix } from '../matrix/csr.js';
import { csrToTable } from './arrow.js';
import { temporaryPathFor } from './atomic.js';

/**
 * Writes row batches as an X.arrow table in the CSR layout of `csrToTable`, one record batch
 * per row batch, streamed to a temporary file that is flushed and renamed into place. Unlike
 * `writeTable`, which serializes the whole table into one buffer first, the peak extra memory
 * here is one record batch, which matters for matrices of several GB.
 */
export async function writeCsrBatchesAtomic(path: string, batches: readonly CsrMatrix[]): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPathFor(path);
  const fd = openSync(temporary, 'w');
  let bytes = 0;
  try {
    const writer = new RecordBatchFileWriter();
    // The writer queues its output; a concurrent loop drains it into the file.
    const drain = (async () => {
      for await (const chunk of writer) {
        let written = 0;
        while (written < chunk.byteLength) written += writeSync(fd, chunk, written, chunk.byteLength - written);
        bytes += chunk.byteLength;
      }
    })();
    for (const batch of batches) {
      const table: Table = csrToTable(batch);
      for (const recordBatch of table.batches as RecordBatch[]) writer.write(recordBatch);
      // Let the drain loop take the queued bytes before the next batch is serialized.
      await new Promise((resolve) => setImmediate(resolve));
    }
    writer.finish();
    writer.close();
    await drain;
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  return bytes;
}
