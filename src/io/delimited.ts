import { extname } from 'node:path';
import Papa from 'papaparse';
import { InputError } from '../util/errors.js';
import { openText, type FileKind } from './source.js';

/** A block of parsed records, blank lines left out; `lines[i]` is the 1-based line of `rows[i]`. */
export interface RowBlock {
  rows: string[][];
  lines: number[];
}

/** What the reader saw besides the records. */
export interface DelimitedFileInfo {
  /** Records read, blank lines included (so the last line number). */
  lines: number;
  /** Bytes of the file (compressed bytes for gzip). */
  bytes: number;
  byteOrderMark: boolean;
  /** Blank lines skipped. */
  blankLines: number;
}

export interface ReadDelimitedOptions {
  delimiter: string;
  kind: FileKind;
  /** Called with the bytes read so far after each block, for progress. */
  onProgress?: (bytesRead: number) => void;
}

/**
 * Streams a CSV/TSV file through papaparse, calling `onBlock` synchronously for each block
 * of records as it is parsed, so that memory stays bounded by one block. An exception thrown
 * by `onBlock` stops the parse and rejects the returned promise with it. Blank lines are
 * skipped but counted, so line numbers stay right.
 *
 * NOTE: line numbers count records; a quoted field that spans lines makes later line numbers
 * smaller than the physical line.
 */
export function readDelimited(
  path: string,
  options: ReadDelimitedOptions,
  onBlock: (block: RowBlock) => void,
): Promise<DelimitedFileInfo> {
  const text = openText(path, options.kind);
  let line = 0;
  let blankLines = 0;
  let failure: unknown = null;

  return new Promise<DelimitedFileInfo>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      text.close();
      if (error) {
        reject(error);
        return;
      }
      resolve({ lines: line, bytes: text.bytesRead(), byteOrderMark: text.hadByteOrderMark(), blankLines });
    };
    // papaparse does not report a stream error through `error` for Node streams in every
    // version, so listen to the stream as well.
    text.stream.on('error', (error) => {
      failure ??= error;
      finish(failure);
    });

    Papa.parse<string[]>(text.stream as unknown as File, {
      delimiter: options.delimiter,
      header: false,
      skipEmptyLines: false,
      dynamicTyping: false,
      chunk: (results, parser) => {
        if (failure) return;
        try {
          const quoteError = results.errors.find((error) => error.type === 'Quotes');
          if (quoteError) {
            const at = line + (quoteError.row ?? 0) + 1;
            throw new InputError(
              `malformed quotes: ${quoteError.message.toLowerCase()}`,
              { file: path, line: at },
              'check for a stray double quote in this line; a field that contains the delimiter must be quoted in full',
            );
          }
          const rows: string[][] = [];
          const lines: number[] = [];
          for (const row of results.data) {
            line++;
            if (row.length === 1 && row[0].trim() === '') {
              blankLines++;
              continue;
            }
            rows.push(row);
            lines.push(line);
          }
          if (rows.length > 0) onBlock({ rows, lines });
          options.onProgress?.(text.bytesRead());
        } catch (error) {
          failure = error;
          parser.abort();
          finish(error);
        }
      },
      complete: () => finish(failure),
      error: (error: Error) => finish(failure ?? error),
    });
  });
}

/** The delimiter of a text matrix: from the format or the extension, else sniffed from the first line. */
export function chooseDelimiter(path: string, format: 'auto' | 'csv' | 'tsv', firstLine: string): { delimiter: string; note: string | null } {
  if (format === 'csv') return { delimiter: ',', note: null };
  if (format === 'tsv') return { delimiter: '\t', note: null };
  const name = path.toLowerCase().replace(/\.(gz|gzip|bgz)$/, '');
  const extension = extname(name);
  const tabs = countOutsideQuotes(firstLine, '\t');
  const commas = countOutsideQuotes(firstLine, ',');
  const semicolons = countOutsideQuotes(firstLine, ';');
  if (extension === '.csv') {
    if (commas === 0 && tabs > 0) {
      return { delimiter: '\t', note: 'the file is named .csv but its header is tab-separated; reading it as TSV' };
    }
    if (commas === 0 && semicolons > 0) {
      return { delimiter: ';', note: 'the file is named .csv but its header is semicolon-separated; reading it with ; as the delimiter' };
    }
    return { delimiter: ',', note: null };
  }
  if (extension === '.tsv' || extension === '.tab' || extension === '.txt') {
    if (tabs === 0 && commas > 0) {
      return { delimiter: ',', note: `the file is named ${extension} but its header is comma-separated; reading it as CSV` };
    }
    return { delimiter: '\t', note: null };
  }
  if (tabs >= commas && tabs > 0) return { delimiter: '\t', note: null };
  return { delimiter: ',', note: null };
}

function countOutsideQuotes(line: string, character: string): number {
  let count = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === character && !quoted) count++;
  }
  return count;
}

/** The first line of a text file (decompressed), for sniffing; empty when the file has no text. */
export async function readFirstLine(path: string, kind: FileKind): Promise<string> {
  const text = openText(path, kind);
  let buffer = '';
  try {
    for await (const chunk of text.stream) {
      buffer += chunk as string;
      const end = buffer.search(/\r?\n/);
      if (end >= 0) return buffer.slice(0, end);
      if (buffer.length > 1 << 24) break;
    }
  } finally {
    text.close();
  }
  return buffer;
}
