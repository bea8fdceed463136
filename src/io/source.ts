import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, gunzipSync } from 'node:zlib';
import { InputError } from '../util/errors.js';

/** The kind of a file, judged from its first bytes (magic numbers), not from its name. */
export type FileKind = 'text' | 'gzip' | 'arrow-file' | 'arrow-stream' | 'empty';

const GZIP_MAGIC = [0x1f, 0x8b];
const ARROW_MAGIC = 'ARROW1';

/**
 * Detects the file kind from magic bytes and rejects formats that ingest cannot read, naming
 * what to convert them to.
 */
export function sniffFile(path: string): FileKind {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? (error as Error).message})`,
      { file: path },
      'check the path given with --input or --metadata',
    );
  }
  if (size === 0) return 'empty';
  const head = Buffer.alloc(Math.min(size, 16));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return 'gzip';
  const ascii = head.toString('latin1');
  if (ascii.startsWith(ARROW_MAGIC)) return 'arrow-file';
  // An Arrow IPC stream starts with a schema message: the continuation marker 0xFFFFFFFF, or
  // (before Arrow 0.15) directly with the message length.
  if (head.length >= 4 && head.readUInt32LE(0) === 0xffffffff) return 'arrow-stream';
  if (ascii.startsWith('FEA1')) {
    throw new InputError(
      'this is a Feather version 1 file, which is not supported',
      { file: path },
      'rewrite it as Feather version 2 (pyarrow.feather.write_feather(..., version=2), the default since pyarrow 0.17) or as CSV',
    );
  }
  if (ascii.startsWith('PAR1')) {
    throw new InputError('this is a Parquet file, which is not supported', { file: path }, 'convert it to Feather v2 or CSV');
  }
  if (ascii.startsWith('\x89HDF')) {
    throw new InputError(
      'this is an HDF5 file (h5ad, loom or 10x .h5), which is not supported',
      { file: path },
      'export the matrix as CSV or Feather v2 (for AnnData: adata.to_df().to_csv(...))',
    );
  }
  if (ascii.startsWith('PK\x03\x04')) {
    throw new InputError(
      'this is a zip archive (or an .xlsx workbook), which is not supported',
      { file: path },
      'unpack it, or save the sheet as CSV',
    );
  }
  return 'text';
}

/** Reads a small plain or gzip file whole as UTF-8 text; a truncated or corrupt gzip file raises an InputError naming it. */
export function readWholeText(path: string): string {
  const raw = readFileSync(path);
  if (sniffFile(path) !== 'gzip') return raw.toString('utf8');
  try {
    return gunzipSync(raw).toString('utf8');
  } catch (error) {
    throw new InputError(
      `the gzip file is truncated or corrupt (${(error as Error).message})`,
      { file: path },
      `check the download or recompress the file (gzip -t ${basename(path)} tests it)`,
    );
  }
}

/** A byte stream over a plain or gzip-compressed file. */
export interface ByteStream {
  /** Decompressed bytes, as Buffer chunks. */
  stream: Readable;
  /** Bytes of the file read so far (compressed bytes for gzip), for progress. */
  bytesRead(): number;
  /** Stops reading and releases the file. */
  close(): void;
}

/**
 * Opens `path` for reading, decompressing gzip (detected by magic bytes; concatenated gzip
 * members such as bgzip output are read in full). A truncated or corrupt gzip stream ends the
 * stream with an InputError.
 */
export function openBytes(path: string, kind: FileKind): ByteStream {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  file.on('data', (chunk) => {
    bytes += chunk.length;
  });
  if (kind !== 'gzip') {
    return { stream: file, bytesRead: () => bytes, close: () => file.destroy() };
  }
  const gunzip = createGunzip({ chunkSize: 1 << 18 });
  // A destroyed stream keeps its first error, so the mapped error goes out on a stream of its own.
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const fail = (error: Error) => {
    const gzipProblem = /unexpected end of file|incorrect header check|invalid/i.test(error.message);
    out.destroy(
      gzipProblem
        ? new InputError(
            `the gzip stream is truncated or corrupt (${error.message}) after ${bytes} compressed bytes`,
            { file: path },
            `check the download or recompress the file (gzip -t ${basename(path)} tests it)`,
          )
        : error,
    );
  };
  file.on('error', fail);
  gunzip.on('error', fail);
  file.pipe(gunzip).pipe(out);
  return {
    stream: out,
    bytesRead: () => bytes,
    close: () => {
      file.destroy();
      gunzip.destroy();
      out.destroy();
    },
  };
}

/** A decoded text stream over a plain or gzip-compressed file. */
export interface TextStream {
  /** UTF-8 text chunks, with a leading byte order mark removed. */
  stream: Readable;
  /** Bytes of the file read so far (compressed bytes for gzip), for progress. */
  bytesRead(): number;
  /** True once a UTF-8 byte order mark was found and removed. */
  hadByteOrderMark(): boolean;
  /** Stops reading and releases the file. */
  close(): void;
}

/** Opens `path` as UTF-8 text (see openBytes for gzip), removing a leading byte order mark. */
export function openText(path: string, kind: FileKind): TextStream {
  const source = openBytes(path, kind);
  const decoder = new StringDecoder('utf8');
  let first = true;
  let byteOrderMark = false;
  const decode = new Transform({
    readableObjectMode: false,
    decodeStrings: true,
    transform(chunk: Buffer, _encoding, callback) {
      let text = decoder.write(chunk);
      if (first && text.length > 0) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) {
          byteOrderMark = true;
          text = text.slice(1);
        }
      }
      callback(null, text);
    },
    flush(callback) {
      callback(null, decoder.end());
    },
  });
  decode.setEncoding('utf8');
  source.stream.on('error', (error) => decode.destroy(error));
  source.stream.pipe(decode);
  return {
    stream: decode,
    bytesRead: source.bytesRead,
    hadByteOrderMark: () => byteOrderMark,
    close: () => {
      source.close();
      decode.destroy();
    },
  };
}
