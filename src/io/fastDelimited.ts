import { InputError } from '../util/errors.js';
import { parseCell, type CellValue, type MissingValues } from './cells.js';
import { openBytes, type FileKind } from './source.js';

/**
 * A byte-level reader for delimited numeric matrices. It replaces papaparse for the matrix
 * because papaparse builds a string for every cell. A whole ingest of a 94 MB counts CSV took
 * 5.9 s with papaparse and 2.0 to 2.9 s with this reader on a shared 2-core machine
 * (bench/ingest.bench.ts, figures in bench/RESULTS.md). Small metadata files still go through
 * papaparse.
 *
 * The grammar is RFC 4180 as papaparse reads it. Records end at LF or CRLF. A field that
 * starts with a double quote runs to the matching quote, may contain delimiters and line
 * breaks, and writes a quote as two. A quote inside an unquoted field is a literal character.
 */

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
/** Bytes gathered before a scan, so that a record split across chunks is rescanned rarely. */
const SCAN_BYTES = 1 << 22;
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** One record of the file; valid only during the callback that receives it. */
export interface RecordView {
  /** Number of fields. */
  readonly length: number;
  /** The text of field k, unquoted and decoded as UTF-8. */
  text(k: number): string;
  /** Field k as a number, MISSING or INVALID (see parseCell), parsed from the bytes when it is a plain numeral. */
  number(k: number, missing: MissingValues): CellValue;
  /** True when field k is empty (quoted or not). */
  isEmpty(k: number): boolean;
}

export interface ScanInfo {
  /** Physical lines read. */
  lines: number;
  /** Bytes of the file (compressed bytes for gzip). */
  bytes: number;
  byteOrderMark: boolean;
  blankLines: number;
}

export interface ScanOptions {
  /** A single-byte delimiter: ',', '\t' or ';'. */
  delimiter: string;
  kind: FileKind;
  onProgress?: (bytesRead: number) => void;
}

class Record implements RecordView {
  buffer: Buffer = Buffer.alloc(0);
  length = 0;
  starts = new Int32Array(1024);
  ends = new Int32Array(1024);
  /** 1 when the field was quoted; its text then needs unescaping. */
  quoted = new Uint8Array(1024);

  push(start: number, end: number, quoted: boolean): void {
    if (this.length === this.starts.length) {
      const size = this.starts.length * 2;
      this.starts = grow(this.starts, size);
      this.ends = grow(this.ends, size);
      const flags = new Uint8Array(size);
      flags.set(this.quoted);
      this.quoted = flags;
    }
    this.starts[this.length] = start;
    this.ends[this.length] = end;
    this.quoted[this.length] = quoted ? 1 : 0;
    this.length++;
  }

  text(k: number): string {
    const raw = this.buffer.toString('utf8', this.starts[k], this.ends[k]);
    return this.quoted[k] ? raw.replaceAll('""', '"') : raw;
  }

  isEmpty(k: number): boolean {
    return this.starts[k] === this.ends[k];
  }

  number(k: number, missing: MissingValues): CellValue {
    const buffer = this.buffer;
    let i = this.starts[k];
    const end = this.ends[k];
    if (this.quoted[k] === 0 && end > i && !missing.checkBeforeParsing) {
      // Fast path: [+-]digits[.digits] with at most 15 digits. The integer mantissa and the power
      // of ten are then exact doubles, so one correctly rounded division gives Number(text).
      if (end - i === 1 && buffer[i] === 0x30) return 0;
      let negative = false;
      const first = buffer[i];
      if (first === 0x2d || first === 0x2b) {
        negative = first === 0x2d;
        i++;
      }
      let mantissa = 0;
      let digits = 0;
      let fraction = -1;
      let plain = i < end;
      for (; i < end; i++) {
        const b = buffer[i];
        if (b >= 0x30 && b <= 0x39) {
          mantissa = mantissa * 10 + (b - 0x30);
          digits++;
          if (fraction >= 0) fraction++;
        } else if (b === 0x2e && fraction < 0) {
          fraction = 0;
        } else {
          plain = false;
          break;
        }
      }
      if (plain && digits > 0 && digits <= 15) {
        const value = fraction > 0 ? mantissa / POW10[fraction] : mantissa;
        return negative ? -value : value;
      }
    }
    return parseCell(this.text(k), missing);
  }
}

function grow(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(array);
  return out;
}

/**
 * Streams the records of a CSV/TSV file (plain or gzip) to `onRecord` with the physical line
 * where each starts. Blank lines are skipped and counted; a leading UTF-8 byte order mark is
 * removed. An exception thrown by `onRecord` stops the scan and rejects with it.
 */
export async function scanDelimited(
  path: string,
  options: ScanOptions,
  onRecord: (record: RecordView, line: number) => void,
): Promise<ScanInfo> {
  if (options.delimiter.length !== 1 || options.delimiter.charCodeAt(0) > 0x7f) {
    throw new Error(`scanDelimited needs a single ASCII delimiter, got '${options.delimiter}'`);
  }
  const delimiter = options.delimiter.charCodeAt(0);
  const source = openBytes(path, options.kind);
  const record = new Record();
  let line = 1;
  let blankLines = 0;
  let byteOrderMark = false;
  let first = true;
  let carry: Buffer | null = null;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  /** Scans complete records of `buffer`; returns the offset of the first incomplete one. */
  const scan = (buffer: Buffer, final: boolean): number => {
    record.buffer = buffer;
    let position = 0;
    const size = buffer.length;
    while (position < size) {
      const recordStart = position;
      const recordLine = line;
      let newlines = 0;
      record.length = 0;
      let i = position;
      for (;;) {
        // One field starting at i.
        if (i < size && buffer[i] === QUOTE) {
          const start = i + 1;
          let j = start;
          let closed = -1;
          while (j < size) {
            const b = buffer[j];
            if (b === QUOTE) {
              if (j + 1 < size && buffer[j + 1] === QUOTE) {
                j += 2;
                continue;
              }
              if (j + 1 >= size && !final) break;
              closed = j;
              break;
            }
            if (b === LF) newlines++;
            j++;
          }
          if (closed < 0) {
            if (!final) return recordStart;
            throw new InputError('malformed quotes: quoted field unterminated', { file: path, line: recordLine }, 'check for a stray double quote; a field that contains the delimiter must be quoted in full');
          }
          record.push(start, closed, true);
          i = closed + 1;
          const next = i < size ? buffer[i] : -1;
          if (next === delimiter) {
            i++;
            continue;
          }
          if (next === LF || (next === CR && i + 1 < size && buffer[i + 1] === LF)) {
            i += next === CR ? 2 : 1;
            break;
          }
          if (next === -1 || (next === CR && i + 1 >= size)) {
            if (!final) return recordStart;
            i = size;
            break;
          }
          throw new InputError('malformed quotes: a quoted field is followed by text before the delimiter', { file: path, line: recordLine + newlines }, 'a field that contains a quote must be quoted in full, with the quote written twice');
        }
        // Unquoted field: up to the delimiter or LF.
        const start = i;
        while (i < size) {
          const b = buffer[i];
          if (b === delimiter || b === LF) break;
          i++;
        }
        if (i < size && buffer[i] === delimiter) {
          record.push(start, i, false);
          i++;
          continue;
        }
        if (i >= size && !final) return recordStart;
        const end = i > start && buffer[i - 1] === CR ? i - 1 : i;
        record.push(start, end, false);
        if (i < size) i++;
        break;
      }
      position = i;
      line += newlines + 1;
      if (record.length === 1 && record.starts[0] === record.ends[0] && !record.quoted[0]) {
        blankLines++;
        continue;
      }
      onRecord(record, recordLine);
    }
    return size;
  };

  try {
    const flush = (final: boolean) => {
      let buffer = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
      if (carry) buffer = Buffer.concat([carry, buffer]);
      pending = [];
      pendingBytes = 0;
      if (first && buffer.length >= 3) {
        first = false;
        if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) {
          byteOrderMark = true;
          buffer = buffer.subarray(3);
        }
      }
      const done = scan(buffer, final);
      carry = done < buffer.length ? buffer.subarray(done) : null;
      options.onProgress?.(source.bytesRead());
    };
    for await (const chunk of source.stream) {
      pending.push(chunk as Buffer);
      pendingBytes += (chunk as Buffer).length;
      if (pendingBytes >= SCAN_BYTES) flush(false);
    }
    flush(true);
  } finally {
    source.close();
  }
  // A final line break does not start a line.
  return { lines: line - 1, bytes: source.bytesRead(), byteOrderMark, blankLines };
}
