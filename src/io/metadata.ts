import { InputError } from '../util/errors.js';
import type { MissingValues } from './cells.js';
import { describeChoices, describeDuplicates, duplicates, listNames } from './columns.js';
import { chooseDelimiter, readDelimited, readFirstLine } from './delimited.js';
import { sniffFile } from './source.js';

/** A small per-sample table (labels, covariates) read whole into memory. */
export interface MetadataTable {
  path: string;
  columns: string[];
  rows: string[][];
  /** 1-based line of each row. */
  lines: number[];
}

/** Reads a CSV/TSV metadata file (gzip accepted); ragged rows are an error. */
export async function readMetadataTable(path: string): Promise<MetadataTable> {
  const kind = sniffFile(path);
  if (kind === 'empty') throw new InputError('the metadata file is empty', { file: path }, 'check the path given with --metadata');
  if (kind !== 'text' && kind !== 'gzip') {
    throw new InputError('the metadata file is not CSV or TSV text', { file: path }, 'give per-sample metadata as a CSV or TSV file');
  }
  const { delimiter } = chooseDelimiter(path, 'auto', await readFirstLine(path, kind));
  let columns: string[] | null = null;
  const rows: string[][] = [];
  const lines: number[] = [];
  await readDelimited(path, { delimiter, kind }, (block) => {
    for (let i = 0; i < block.rows.length; i++) {
      const row = block.rows[i];
      if (columns === null) {
        columns = row.map((name) => name.trim());
        // A trailing delimiter on the header only adds an empty, unusable column name.
        if (columns.length > 1 && columns[columns.length - 1] === '') columns.pop();
        continue;
      }
      let fields = row;
      if (fields.length === columns.length + 1 && fields[fields.length - 1].trim() === '') fields = fields.slice(0, -1);
      if (fields.length !== columns.length) {
        throw new InputError(
          `the line has ${fields.length} fields but the header has ${columns.length}`,
          { file: path, line: block.lines[i] },
          'every line must have as many fields as the header; quote fields that contain the delimiter',
        );
      }
      rows.push(fields.map((field) => field.trim()));
      lines.push(block.lines[i]);
    }
  });
  if (columns === null) throw new InputError('the metadata file has no header', { file: path });
  if (rows.length === 0) {
    throw new InputError('the metadata file has a header but no rows', { file: path, line: 1 }, 'check that the right file was given');
  }
  return { path, columns, rows, lines };
}

export interface MetadataJoinOptions {
  /** Column holding sample ids; null: the first column. */
  idColumn: string | null;
  /** Column holding the label; null: no label from the metadata. */
  labelColumn: string | null;
  missing: MissingValues;
}

/** A metadata column aligned with the matrix's samples: numbers (NaN when missing) or text (null when missing). */
export type MetadataColumn = Float64Array | (string | null)[];

export interface MetadataJoin {
  idColumn: string;
  labelColumn: string | null;
  /** Labels aligned with the samples; null for samples without a metadata row or a label. */
  labels: (string | null)[] | null;
  /** Other metadata columns aligned with the samples, by their name in the file. */
  columns: Map<string, MetadataColumn>;
  /** Matrix samples found in the metadata. */
  matched: number;
  /** Matrix samples without a metadata row. */
  missingSamples: string[];
  /** Metadata rows whose id is not a sample of the matrix. */
  extraIds: string[];
}

/**
 * Joins metadata rows to the matrix's samples by id (exact text after trimming). No overlap
 * at all is an error that shows examples from both sides; a partial overlap is returned for
 * the caller to warn about.
 */
export function joinMetadata(table: MetadataTable, sampleIds: readonly string[], options: MetadataJoinOptions): MetadataJoin {
  const idIndex = options.idColumn === null ? 0 : columnIndex(table, options.idColumn, '--metadata-id-column');
  const labelIndex = options.labelColumn === null ? -1 : columnIndex(table, options.labelColumn, '--metadata-label-column');
  if (labelIndex === idIndex) {
    throw new InputError(
      `the label column '${options.labelColumn}' is also the sample id column`,
      { file: table.path },
      'choose the id column with --metadata-id-column',
    );
  }
  const ids = table.rows.map((row) => row[idIndex]);
  const repeated = duplicates(ids);
  if (repeated.size > 0) {
    throw new InputError(
      `sample ids repeat in column '${table.columns[idIndex]}': ${describeDuplicates(repeated)}`,
      { file: table.path, column: table.columns[idIndex] },
      'keep one metadata row per sample',
    );
  }
  const rowOf = new Map<string, number>();
  ids.forEach((id, r) => rowOf.set(id, r));
  const rowForSample = sampleIds.map((id) => rowOf.get(id) ?? -1);
  const matched = rowForSample.filter((r) => r >= 0).length;
  if (matched === 0) throw noOverlapError(table, idIndex, sampleIds);

  const sampleSet = new Set(sampleIds);
  const missingSamples = sampleIds.filter((_, s) => rowForSample[s] < 0);
  const extraIds = ids.filter((id) => !sampleSet.has(id));

  const text = (r: number, c: number): string | null => {
    if (r < 0) return null;
    const value = table.rows[r][c];
    return value === '' || options.missing.has(value) ? null : value;
  };
  const labels = labelIndex < 0 ? null : rowForSample.map((r) => text(r, labelIndex));
  const columns = new Map<string, MetadataColumn>();
  for (let c = 0; c < table.columns.length; c++) {
    if (c === idIndex || c === labelIndex) continue;
    const values = rowForSample.map((r) => text(r, c));
    const numeric = values.every((v) => v === null || Number.isFinite(Number(v)));
    columns.set(table.columns[c], numeric ? Float64Array.from(values, (v) => (v === null ? NaN : Number(v))) : values);
  }
  return {
    idColumn: table.columns[idIndex],
    labelColumn: labelIndex < 0 ? null : table.columns[labelIndex],
    labels,
    columns,
    matched,
    missingSamples,
    extraIds,
  };
}

/** True when `name` is a column of the metadata file. */
export function hasColumn(table: MetadataTable, name: string): boolean {
  return table.columns.includes(name);
}

function columnIndex(table: MetadataTable, name: string, option: string): number {
  const index = table.columns.indexOf(name);
  if (index < 0) {
    throw new InputError(`column '${name}' (${option}) is not in the metadata header`, { file: table.path, line: 1 }, describeChoices(name, table.columns));
  }
  return index;
}

function noOverlapError(table: MetadataTable, idIndex: number, sampleIds: readonly string[]): InputError {
  const sampleSet = new Set(sampleIds);
  const lowerSamples = new Set(sampleIds.map((id) => id.toLowerCase()));
  const hints: string[] = [];
  // Another column may hold the matrix's ids: name it.
  for (let c = 0; c < table.columns.length; c++) {
    if (c === idIndex) continue;
    const overlap = table.rows.filter((row) => sampleSet.has(row[c])).length;
    if (overlap > 0) hints.push(`column '${table.columns[c]}' matches ${overlap} samples: pass --metadata-id-column '${table.columns[c]}'`);
  }
  const caseOverlap = table.rows.filter((row) => lowerSamples.has(row[idIndex].toLowerCase())).length;
  if (caseOverlap > 0) hints.push(`${caseOverlap} ids match when upper and lower case are ignored: make the case agree`);
  if (hints.length === 0) hints.push('check that the metadata describes this matrix and that --metadata-id-column names its sample id column');
  const metadataIds = table.rows.map((row) => row[idIndex]);
  return new InputError(
    `none of the ${sampleIds.length} sample ids of the matrix (${listNames(sampleIds.slice(0, 3))}) ` +
      `is in column '${table.columns[idIndex]}' (${metadataIds.length} ids such as ${listNames(metadataIds.slice(0, 3))})`,
    { file: table.path, column: table.columns[idIndex] },
    hints.join('; '),
  );
}
