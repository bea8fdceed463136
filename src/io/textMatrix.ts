import { transpose } from '../matrix/csr.js';
import { InputError } from '../util/errors.js';
import { MISSING, diagnoseCell, type MissingValues } from './cells.js';
import { FLOAT32_MAX, float32RangeError, type CohortBuilder } from './cohortBuilder.js';
import { ColumnPatterns, describeChoices, describeDuplicates, duplicates } from './columns.js';
import { CsrBatchBuilder, concatBatches } from './csrBatches.js';
import { chooseDelimiter, readFirstLine } from './delimited.js';
import { scanDelimited, type RecordView } from './fastDelimited.js';
import type { FileKind } from './source.js';

/** How to read one matrix file; the stage builds it from the ingest options. */
export interface MatrixReadSpec {
  format: 'auto' | 'csv' | 'tsv';
  genesInRows: boolean;
  /** Sample id column (samples in rows) or gene id column (genes in rows); null: the first column. */
  idColumn: string | null;
  /** Label column of the matrix (samples in rows only). */
  labelColumn: string | null;
  /**
   * Columns of the metadata file, where a label column missing from the matrix may be found.
   * Null when there is no metadata, so a label column missing from the header is an error.
   */
  labelColumnsElsewhere?: string[] | null;
  /** Columns kept as sample metadata instead of genes (samples in rows only). */
  obsColumns: string[];
  /** Column holding gene symbols (genes in rows only). */
  symbolColumn: string | null;
  excludeColumns: string[];
  missing: MissingValues;
  missingPolicy: 'error' | 'zero';
  /** Called with the bytes read so far and the records parsed, for progress. */
  onProgress?: (bytesRead: number, records: number) => void;
}

/** The summary of one file read. */
export interface MatrixFileReport {
  path: string;
  format: 'csv' | 'tsv' | 'arrow' | 'mtx' | 'geo-miniml';
  delimiter?: string;
  compression: 'gzip' | null;
  bytes: number;
  /** Lines of a text file, the header included; rows of an Arrow table. */
  lines: number;
  /** Data rows: records after the header, or Arrow rows. */
  rows: number;
  /** Columns of the header. */
  columns: number;
  /** Names in the header, for suggestions in errors (not written to the summary). */
  columnNames: string[];
  samples: number;
  genes: number;
  layout: 'samples-in-rows' | 'genes-in-rows';
  /** Excluded column names, a repeated name once with its count ('call (38 columns)'). */
  excludedColumns: string[];
  /** True when the label column was found in this file. */
  labelColumnFound: boolean;
  /** Cells read as missing (and stored as zero under --missing zero). */
  missingCells: number;
  notes: string[];
}

/** Column roles, resolved from the header (and the first data row, for R's row-name layout). */
interface Layout {
  names: string[];
  /** Fields per record, after any added row-name column; a trailing empty field is extra. */
  width: number;
  trailingDelimiter: boolean;
  idIndex: number;
  labelIndex: number;
  symbolIndex: number;
  obsIndices: number[];
  /** Field positions of the value columns (genes, or samples when genes are in rows). */
  valueIndices: Int32Array;
  valueNames: string[];
  excluded: string[];
}

/**
 * Streams one CSV/TSV matrix (plain or gzip) into `cohort` with the byte-level reader of
 * fastDelimited.ts. Samples in rows are added as they are read; genes in rows are read into a
 * gene-major CSR that is transposed at the end.
 */
export async function readTextMatrix(path: string, kind: FileKind, fileIndex: number, spec: MatrixReadSpec, cohort: CohortBuilder): Promise<MatrixFileReport> {
  const notes: string[] = [];
  const firstLine = await readFirstLine(path, kind);
  if (firstLine.includes('\r')) {
    throw new InputError(
      'the lines end with a bare carriage return (classic Mac OS line ends), which is not supported',
      { file: path, line: 1 },
      "convert the line ends to LF, e.g. with tr '\\r' '\\n'",
    );
  }
  const { delimiter, note } = chooseDelimiter(path, spec.format, firstLine);
  if (note) notes.push(note);
  let delimiterName = `'${delimiter}'-separated text`;
  if (delimiter === '\t') delimiterName = 'TSV';
  if (delimiter === ',') delimiterName = 'CSV';

  let header: string[] | null = null;
  let headerLine = 0;
  let layout: Layout | null = null;
  let records = 0;
  let trailingOnRowsOnly = 0;
  let missingCells = 0;
  let target: Int32Array | null = null;
  let identity = true;

  // Genes in rows: the gene-major rows of this file, transposed once the file is read.
  let geneRows: CsrBatchBuilder | null = null;
  const geneIds: string[] = [];
  const geneSymbols: (string | null)[] = [];

  let cols = new Int32Array(0);
  let vals = new Float64Array(0);

  const parseValues = (record: RecordView, line: number, rowId: string): number => {
    const indices = layout!.valueIndices;
    const names = layout!.valueNames;
    let n = 0;
    for (let k = 0; k < indices.length; k++) {
      let v = record.number(indices[k], spec.missing);
      if (typeof v !== 'number') {
        const text = record.text(indices[k]);
        if (v === MISSING) {
          missingCells++;
          if (spec.missingPolicy === 'error') throw missingError(path, line, names[k], rowId, text, spec.genesInRows);
          v = 0;
        } else {
          const diagnosis = diagnoseCell(text, names[k], delimiterName);
          throw new InputError(diagnosis.problem, cellLocation(path, line, names[k], rowId, spec.genesInRows), diagnosis.hint);
        }
      }
      if (v === 0) continue;
      if (v > FLOAT32_MAX || v < -FLOAT32_MAX) throw float32RangeError(v, cellLocation(path, line, names[k], rowId, spec.genesInRows));
      cols[n] = k;
      vals[n] = v;
      n++;
    }
    return n;
  };

  const onRecord = (record: RecordView, line: number) => {
    records++;

    if (header === null) {
      header = Array.from({ length: record.length }, (_, k) => record.text(k).trim());
      headerLine = line;
      return;
    }
    if (layout === null) {
      const last = record.text(record.length - 1).trim();
      layout = resolveLayout(path, header, record.length, last === '', spec, notes);
      cols = new Int32Array(layout.valueIndices.length);
      vals = new Float64Array(layout.valueIndices.length);
      if (spec.genesInRows) geneRows = new CsrBatchBuilder(layout.valueIndices.length);
    }

    const expected = layout.width + (layout.trailingDelimiter ? 1 : 0);
    if (record.length !== expected) {
      // An extra empty last field (a trailing delimiter) is dropped: fields past `expected` are never read.
      if (!layout.trailingDelimiter && record.length === expected + 1 && record.text(expected).trim() === '') {
        trailingOnRowsOnly++;
      } else {
        throw raggedError(path, line, record.length, expected, delimiter, layout.trailingDelimiter);
      }
    } else if (layout.trailingDelimiter && record.text(expected - 1).trim() !== '') {
      throw new InputError(
        `the header ends with an empty column name but this line has a value there ('${record.text(expected - 1)}')`,
        { file: path, line, column: expected },
        'name the last column in the header, or remove the extra value',
      );
    }

    const rowId = record.text(layout.idIndex).trim();
    if (rowId === '') {
      throw new InputError(
        `the ${spec.genesInRows ? 'gene' : 'sample'} id is empty`,
        { file: path, line, column: layout.names[layout.idIndex] },
        `every record needs an id in column '${layout.names[layout.idIndex]}'; choose another column with --id-column`,
      );
    }
    const n = parseValues(record, line, rowId);

    if (spec.genesInRows) {
      geneIds.push(rowId);
      if (layout.symbolIndex >= 0) geneSymbols.push(emptyToNull(record.text(layout.symbolIndex)));
      geneRows!.addRow(cols, vals, n);
      if (geneIds.length === 1) checkUniqueValueNames(path, headerLine, layout, spec);
      return;
    }

    if (target === null) {
      target = cohort.alignGenes(layout.valueNames, path);
      identity = target.every((t, j) => t === j);
      if (!identity) notes.push('genes are in another order than in the first file; aligned by name');
    }
    cohort.addSample(rowId, fileIndex, cols, vals, n, identity ? null : target);
    if (layout.labelIndex >= 0) cohort.labels.push(emptyToNull(record.text(layout.labelIndex), spec.missing));
    for (const index of layout.obsIndices) {
      const name = layout.names[index];
      let column = cohort.obs.get(name);
      if (!column) {
        column = [];
        cohort.obs.set(name, column);
      }
      column.push(emptyToNull(record.text(index), spec.missing));
    }
  };

  let samplesBefore = cohort.nSamples;
  const info = await scanDelimited(path, { delimiter, kind, onProgress: (bytes) => spec.onProgress?.(bytes, records) }, onRecord);

  if (header === null) {
    throw new InputError('the file has no header and no data', { file: path }, 'check that the right file was given');
  }
  if (layout === null) {
    throw new InputError(
      `the file has a header (${(header as string[]).length} columns) but no data rows`,
      { file: path, line: headerLine },
      'check that the file was written completely',
    );
  }
  const resolved = layout as Layout;
  if (info.byteOrderMark) notes.push('removed a UTF-8 byte order mark at the start of the file');
  if (info.blankLines > 0) notes.push(`skipped ${info.blankLines} blank line${info.blankLines === 1 ? '' : 's'}`);
  if (trailingOnRowsOnly > 0) {
    notes.push(`dropped an empty last field (a trailing delimiter) on ${trailingOnRowsOnly} lines`);
  }

  if (spec.genesInRows) {
    samplesBefore = cohort.nSamples;
    addTransposed(path, fileIndex, resolved, geneRows!, geneIds, resolved.symbolIndex >= 0 ? geneSymbols : null, cohort);
  }

  return {
    path,
    format: delimiter === '\t' ? 'tsv' : 'csv',
    delimiter,
    compression: kind === 'gzip' ? 'gzip' : null,
    bytes: info.bytes,
    lines: info.lines,
    rows: records - 1,
    columns: (header as string[]).length,
    columnNames: resolved.names,
    samples: cohort.nSamples - samplesBefore,
    genes: spec.genesInRows ? geneIds.length : resolved.valueIndices.length,
    layout: spec.genesInRows ? 'genes-in-rows' : 'samples-in-rows',
    excludedColumns: countNames(resolved.excluded),
    labelColumnFound: resolved.labelIndex >= 0,
    missingCells,
    notes,
  };
}

/** Transposes a genes-in-rows file into samples and adds them to the cohort in its gene order. */
function addTransposed(
  path: string,
  fileIndex: number,
  layout: Layout,
  geneRows: CsrBatchBuilder,
  geneIds: string[],
  symbols: (string | null)[] | null,
  cohort: CohortBuilder,
): void {
  // NOTE: genes in rows keep the gene-major and the sample-major copy in memory at once, about
  // twice the final matrix. Samples in rows stream without that.
  const target = cohort.alignGenes(geneIds, path, symbols);
  const identity = target.every((t, j) => t === j);
  // Nothing keeps the gene-major copy once transposed, so it can be freed while samples are added.
  const sampleMajor = transpose(concatBatches(geneRows.finish(), layout.valueIndices.length));
  for (let s = 0; s < sampleMajor.nRows; s++) {
    const start = sampleMajor.indptr[s];
    const end = sampleMajor.indptr[s + 1];
    cohort.addSample(
      layout.valueNames[s],
      fileIndex,
      sampleMajor.indices.subarray(start, end),
      sampleMajor.data.subarray(start, end),
      end - start,
      identity ? null : target,
    );
  }
}

/** Resolves which column is the id, the label, metadata, excluded, or values. */
function resolveLayout(path: string, header: string[], firstRowLength: number, firstRowEndsEmpty: boolean, spec: MatrixReadSpec, notes: string[]): Layout {
  let names = header.slice();
  let trailingDelimiter = false;
  if (names.length > 1 && names[names.length - 1] === '') {
    trailingDelimiter = firstRowLength === names.length && firstRowEndsEmpty;
    if (trailingDelimiter) {
      names = names.slice(0, -1);
      notes.push('every line ends with a delimiter (an empty last column); dropped that column');
    }
  }
  // R's write.table writes row names without a header cell: the records have one field more.
  if (!trailingDelimiter && firstRowLength === names.length + 1 && !firstRowEndsEmpty) {
    names = ['', ...names];
    notes.push('the header has one field fewer than the records (R row-name layout); the first field of each record is its id');
  }

  const role = spec.genesInRows ? 'gene' : 'sample';
  const idIndex = spec.idColumn === null ? 0 : findColumn(path, names, spec.idColumn, '--id-column', `the ${role} id column`);
  const labelIndex = spec.labelColumn !== null && !spec.genesInRows ? names.indexOf(spec.labelColumn) : -1;
  const elsewhere = spec.labelColumnsElsewhere ?? [];
  if (spec.labelColumn !== null && !spec.genesInRows && labelIndex < 0 && !elsewhere.includes(spec.labelColumn)) {
    throw new InputError(
      `label column '${spec.labelColumn}' is not in the matrix${spec.labelColumnsElsewhere ? ' nor in the metadata' : ''}`,
      { file: path, line: 1 },
      spec.labelColumnsElsewhere
        ? describeChoices(spec.labelColumn, [...names, ...elsewhere])
        : `${describeChoices(spec.labelColumn, names)}; or give the labels in a metadata file with --metadata`,
    );
  }
  const symbolIndex =
    spec.symbolColumn === null ? -1 : findColumn(path, names, spec.symbolColumn, '--symbol-column', 'the gene symbol column');
  if (spec.symbolColumn !== null && !spec.genesInRows) {
    throw new InputError(
      '--symbol-column applies only with --genes-in-rows (a symbol per gene row)',
      { file: path },
      'leave it out, or add --genes-in-rows when genes are the rows',
    );
  }
  if (spec.obsColumns.length > 0 && spec.genesInRows) {
    throw new InputError(
      '--obs-columns applies only when samples are the rows',
      { file: path },
      'put sample metadata in a separate file and pass it with --metadata',
    );
  }

  const exclude = new ColumnPatterns(spec.excludeColumns);
  const obsPatterns = new ColumnPatterns(spec.obsColumns);
  const excluded: string[] = [];
  const obsIndices: number[] = [];
  const valueIndices: number[] = [];
  const valueNames: string[] = [];
  for (let j = 0; j < names.length; j++) {
    const name = names[j];
    if (j === idIndex || j === labelIndex || j === symbolIndex) {
      if (exclude.matches(name) && j === idIndex) {
        notes.push(`column '${name}' matches --exclude-columns but is the id column; it is kept as the id`);
      }
      continue;
    }
    if (exclude.matches(name)) {
      excluded.push(name);
      continue;
    }
    if (obsPatterns.matches(name)) {
      obsIndices.push(j);
      continue;
    }
    if (name === '') {
      throw new InputError(
        `column ${j + 1} has no name in the header`,
        { file: path, line: 1, column: j + 1 },
        `name it in the header, or choose the id column with --id-column`,
      );
    }
    valueIndices.push(j);
    valueNames.push(name);
  }
  for (const pattern of exclude.unused()) {
    notes.push(`--exclude-columns '${pattern}' matched no column`);
  }
  for (const pattern of obsPatterns.unused()) {
    throw new InputError(`--obs-columns '${pattern}' matched no column`, { file: path }, describeChoices(pattern, names));
  }
  if (valueIndices.length === 0) {
    throw new InputError(
      `no ${spec.genesInRows ? 'sample' : 'gene'} columns are left after the id, label and excluded columns`,
      { file: path, line: 1 },
      'check --exclude-columns and --id-column',
    );
  }
  return {
    names,
    width: names.length,
    trailingDelimiter,
    idIndex,
    labelIndex,
    symbolIndex,
    obsIndices,
    valueIndices: Int32Array.from(valueIndices),
    valueNames,
    excluded,
  };
}

function findColumn(path: string, names: string[], wanted: string, option: string, what: string): number {
  const index = names.indexOf(wanted);
  if (index < 0) {
    throw new InputError(`${what} '${wanted}' (${option}) is not in the header`, { file: path, line: 1 }, describeChoices(wanted, names));
  }
  if (names.indexOf(wanted, index + 1) >= 0) {
    throw new InputError(`${what} '${wanted}' (${option}) occurs more than once in the header`, { file: path, line: 1 }, 'rename the columns so that it is unique');
  }
  return index;
}

/** Sample ids (genes in rows) must be unique; gene names (samples in rows) are checked by the cohort. */
function checkUniqueValueNames(path: string, headerLine: number, layout: Layout, spec: MatrixReadSpec): void {
  if (!spec.genesInRows) return;
  const found = duplicates(layout.valueNames);
  if (found.size > 0) {
    throw new InputError(
      `duplicate sample ids in the header: ${describeDuplicates(found)}`,
      { file: path, line: headerLine },
      'each sample needs its own column name; if some columns are not samples, leave them out with --exclude-columns',
    );
  }
}

function cellLocation(path: string, line: number, column: string, rowId: string, genesInRows: boolean) {
  return genesInRows ? { file: path, line, column, gene: rowId } : { file: path, line, column, sample: rowId };
}

function missingError(path: string, line: number, column: string, rowId: string, text: string, genesInRows: boolean): InputError {
  const shown = text.trim() === '' ? 'an empty cell' : `'${text.trim()}'`;
  return new InputError(
    `missing value (${shown})`,
    cellLocation(path, line, column, rowId, genesInRows),
    'pass --missing zero to store missing values as 0, or fill them in before ingest',
  );
}

function raggedError(path: string, line: number, found: number, expected: number, delimiter: string, trailing: boolean): InputError {
  const hints: string[] = [];
  if (found > expected) {
    hints.push('a field may contain an unquoted delimiter');
    if (delimiter === ',') hints.push('a decimal comma (1,5) splits a value in two in a CSV file');
    if (trailing) hints.push('or the line has an extra trailing delimiter');
  } else {
    hints.push('the line may be cut short, or a field may be missing');
  }
  return new InputError(
    `the line has ${found} fields but the header has ${expected}`,
    { file: path, line },
    `${hints.join('; ')}; every line must have as many fields as the header`,
  );
}

/** Unique names in first-seen order; a repeated name gets its count: "call (38 columns)". */
export function countNames(names: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => (count > 1 ? `${name} (${count} columns)` : name));
}

function emptyToNull(text: string | undefined, missing?: MissingValues): string | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === '' || (missing !== undefined && missing.has(trimmed))) return null;
  return trimmed;
}
