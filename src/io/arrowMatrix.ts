import { createReadStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataType, Precision, RecordBatchReader, type Data, type Field, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import { transpose } from '../matrix/csr.js';
import { InputError } from '../util/errors.js';
import { LAYOUT_KEY, readFrame, readTable, tableToCsr } from './arrow.js';
import { registerArrowCodecs } from './arrowCodecs.js';
import { FLOAT32_MAX, float32RangeError, type CohortBuilder } from './cohortBuilder.js';
import { ColumnPatterns, describeChoices, describeDuplicates, duplicates } from './columns.js';
import { CsrBatchBuilder, concatBatches } from './csrBatches.js';
import { countNames, type MatrixFileReport, type MatrixReadSpec } from './textMatrix.js';
import { statSync } from 'node:fs';

/** Names pandas and pyarrow give a stored DataFrame index. */
const INDEX_COLUMNS = ['__index_level_0__', 'index'];

/** How the values of one Arrow column are read. */
type ValueKind = 'float' | 'int' | 'bigint' | 'get' | 'null';

/**
 * Reads an Arrow IPC file or stream, or a Feather v2 file, into `cohort`. Two layouts:
 * - wide, as pandas `to_feather` writes it: an id column (the stored index `__index_level_0__`
 *   or `index`, else --id-column, else the first text column) and one numeric column per gene
 *   (or per sample with --genes-in-rows). Record batches are streamed, so memory holds one
 *   dense batch at a time (pyarrow's write_feather writes 64K rows per batch by default);
 * - CSR, as genevae writes X.arrow (schema metadata genevae.layout=csr), with obs.arrow and
 *   var.arrow beside it for the sample and gene ids.
 */
export async function readArrowMatrix(path: string, fileIndex: number, spec: MatrixReadSpec, cohort: CohortBuilder): Promise<MatrixFileReport> {
  registerArrowCodecs();
  let reader: Awaited<ReturnType<typeof RecordBatchReader.from>>;
  // A 'data' listener would start the stream before the reader attaches; ReadStream counts itself.
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    reader = await RecordBatchReader.from(file);
    await reader.open();
  } catch (error) {
    throw new InputError(`cannot read the Arrow file: ${(error as Error).message}`, { file: path }, 'check that the file was written completely');
  }
  const schema = reader.schema as Schema;
  if (schema.metadata.get(LAYOUT_KEY) === 'csr') {
    await reader.cancel();
    return readGenevaeCsr(path, fileIndex, spec, cohort);
  }
  return readWide(path, reader, schema, fileIndex, spec, cohort, () => file.bytesRead);
}

async function readWide(
  path: string,
  reader: AsyncIterable<RecordBatch>,
  schema: Schema,
  fileIndex: number,
  spec: MatrixReadSpec,
  cohort: CohortBuilder,
  bytesRead: () => number,
): Promise<MatrixFileReport> {
  const notes: string[] = [];
  const names = schema.fields.map((field) => field.name);
  const repeated = duplicates(names);
  if (repeated.size > 0) {
    throw new InputError(`column names repeat: ${describeDuplicates(repeated)}`, { file: path }, 'give every column a unique name');
  }
  const idIndex = resolveIdColumn(path, schema, spec, notes);
  const labelIndex = spec.labelColumn !== null && !spec.genesInRows ? names.indexOf(spec.labelColumn) : -1;
  const elsewhere = spec.labelColumnsElsewhere ?? [];
  if (spec.labelColumn !== null && !spec.genesInRows && labelIndex < 0 && !elsewhere.includes(spec.labelColumn)) {
    throw new InputError(
      `label column '${spec.labelColumn}' is not in the matrix${spec.labelColumnsElsewhere ? ' nor in the metadata' : ''}`,
      { file: path },
      spec.labelColumnsElsewhere
        ? describeChoices(spec.labelColumn, [...names, ...elsewhere])
        : `${describeChoices(spec.labelColumn, names)}; or give the labels in a metadata file with --metadata`,
    );
  }
  const symbolIndex = spec.symbolColumn === null ? -1 : names.indexOf(spec.symbolColumn);
  if (spec.symbolColumn !== null && (symbolIndex < 0 || !spec.genesInRows)) {
    throw new InputError(
      spec.genesInRows ? `symbol column '${spec.symbolColumn}' is not in the file` : '--symbol-column applies only with --genes-in-rows',
      { file: path },
      spec.genesInRows ? describeChoices(spec.symbolColumn, names) : 'leave it out, or add --genes-in-rows',
    );
  }
  const exclude = new ColumnPatterns(spec.excludeColumns);
  const obsPatterns = new ColumnPatterns(spec.obsColumns);
  const excluded: string[] = [];
  const obsIndices: number[] = [];
  const valueIndices: number[] = [];
  const kinds: ValueKind[] = [];
  schema.fields.forEach((field: Field, j: number) => {
    if (j === idIndex || j === labelIndex || j === symbolIndex) return;
    if (exclude.matches(field.name)) {
      excluded.push(field.name);
      return;
    }
    if (!spec.genesInRows && obsPatterns.matches(field.name)) {
      obsIndices.push(j);
      return;
    }
    kinds.push(valueKind(path, field));
    valueIndices.push(j);
  });
  for (const pattern of exclude.unused()) notes.push(`--exclude-columns '${pattern}' matched no column`);
  if (valueIndices.length === 0) {
    throw new InputError('no value columns are left after the id, label and excluded columns', { file: path }, 'check --exclude-columns and --id-column');
  }
  const valueNames = valueIndices.map((j) => names[j]);

  let target: Int32Array | null = null;
  let identity = true;
  if (!spec.genesInRows) {
    target = cohort.alignGenes(valueNames, path);
    identity = target.every((t, j) => t === j);
  } else {
    const found = duplicates(valueNames);
    if (found.size > 0) throw new InputError(`duplicate sample ids: ${describeDuplicates(found)}`, { file: path });
  }
  const geneRows = spec.genesInRows ? new CsrBatchBuilder(valueIndices.length) : null;
  const geneIds: string[] = [];
  const symbols: (string | null)[] = [];
  const samplesBefore = cohort.nSamples;
  const cols = new Int32Array(valueIndices.length);
  const vals = new Float64Array(valueIndices.length);
  let rows = 0;
  let missingCells = 0;

  try {
    for await (const batch of reader) {
      const idVector = batch.getChildAt(idIndex)!;
      const columns = valueIndices.map((j) => batch.getChildAt(j)!);
      const datas = columns.map((vector) => singleChunk(vector));
      for (let i = 0; i < batch.numRows; i++) {
        rows++;
        const rowId = textOf(idVector.get(i));
        if (rowId === null || rowId === '') {
          throw new InputError(`row ${rows} has an empty id in column '${names[idIndex]}'`, { file: path, column: names[idIndex] }, 'every row needs an id');
        }
        let n = 0;
        for (let k = 0; k < columns.length; k++) {
          let v = cellValue(columns[k], datas[k], kinds[k], i);
          if (v === null || Number.isNaN(v)) {
            missingCells++;
            if (spec.missingPolicy === 'error') {
              throw new InputError(
                'missing value (null or NaN)',
                locate(path, rows, valueNames[k], rowId, spec.genesInRows),
                'pass --missing zero to store missing values as 0, or fill them in before ingest',
              );
            }
            v = 0;
          }
          if (v === 0) continue;
          if (!Number.isFinite(v)) {
            throw new InputError(`${v} is not a finite number`, locate(path, rows, valueNames[k], rowId, spec.genesInRows), 'replace infinite values before ingest');
          }
          if (v > FLOAT32_MAX || v < -FLOAT32_MAX) throw float32RangeError(v, locate(path, rows, valueNames[k], rowId, spec.genesInRows));
          cols[n] = k;
          vals[n] = v;
          n++;
        }
        if (geneRows) {
          geneIds.push(rowId);
          if (symbolIndex >= 0) symbols.push(textOf(batch.getChildAt(symbolIndex)!.get(i)));
          geneRows.addRow(cols, vals, n);
          continue;
        }
        cohort.addSample(rowId, fileIndex, cols, vals, n, identity ? null : target);
        if (labelIndex >= 0) cohort.labels.push(textOf(batch.getChildAt(labelIndex)!.get(i)));
        for (const j of obsIndices) {
          let column = cohort.obs.get(names[j]);
          if (!column) {
            column = [];
            cohort.obs.set(names[j], column);
          }
          column.push(textOf(batch.getChildAt(j)!.get(i)));
        }
      }
      spec.onProgress?.(bytesRead(), rows);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read the Arrow record batches: ${(error as Error).message}`, { file: path }, 'check that the file was written completely');
  }
  if (rows === 0) throw new InputError('the Arrow file has a schema but no rows', { file: path }, 'check that the right file was given');

  if (geneRows) {
    const geneTarget = cohort.alignGenes(geneIds, path, symbolIndex >= 0 ? symbols : null);
    const same = geneTarget.every((t, j) => t === j);
    const sampleMajor = transpose(concatBatches(geneRows.finish(), valueIndices.length));
    for (let s = 0; s < sampleMajor.nRows; s++) {
      const start = sampleMajor.indptr[s];
      const end = sampleMajor.indptr[s + 1];
      cohort.addSample(valueNames[s], fileIndex, sampleMajor.indices.subarray(start, end), sampleMajor.data.subarray(start, end), end - start, same ? null : geneTarget);
    }
  }

  return {
    path,
    format: 'arrow',
    compression: null,
    bytes: statSync(path).size,
    lines: rows,
    rows,
    columns: names.length,
    columnNames: names,
    samples: cohort.nSamples - samplesBefore,
    genes: spec.genesInRows ? geneIds.length : valueIndices.length,
    layout: spec.genesInRows ? 'genes-in-rows' : 'samples-in-rows',
    excludedColumns: countNames(excluded),
    labelColumnFound: labelIndex >= 0,
    missingCells,
    notes,
  };
}

/** The id column: --id-column, else a stored pandas index, else the first text column. */
function resolveIdColumn(path: string, schema: Schema, spec: MatrixReadSpec, notes: string[]): number {
  const names = schema.fields.map((field) => field.name);
  if (spec.idColumn !== null) {
    const index = names.indexOf(spec.idColumn);
    if (index < 0) throw new InputError(`id column '${spec.idColumn}' (--id-column) is not in the file`, { file: path }, describeChoices(spec.idColumn, names));
    return index;
  }
  for (const name of [...pandasIndexColumns(schema), ...INDEX_COLUMNS]) {
    const index = names.indexOf(name);
    if (index >= 0) {
      notes.push(`using the stored index column '${name}' as the ${spec.genesInRows ? 'gene' : 'sample'} id`);
      return index;
    }
  }
  const text = schema.fields.findIndex((field) => isTextType(field.type));
  if (text >= 0) return text;
  throw new InputError(
    'no id column: the file has no stored index and no text column',
    { file: path },
    `name the id column with --id-column; with pandas, write the index with df.reset_index().to_feather(...)`,
  );
}

/** Index columns named in pandas' schema metadata ({"index_columns": ["sample", …]}); range indexes have no column. */
function pandasIndexColumns(schema: Schema): string[] {
  const raw = schema.metadata.get('pandas');
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as { index_columns?: unknown[] };
    return (parsed.index_columns ?? []).filter((c): c is string => typeof c === 'string');
  } catch {
    return [];
  }
}

function isTextType(type: DataType): boolean {
  return DataType.isUtf8(type) || DataType.isLargeUtf8(type) || (DataType.isDictionary(type) && (DataType.isUtf8(type.dictionary) || DataType.isLargeUtf8(type.dictionary)));
}

/** How to read a value column; columns of any other type are rejected with their name and type. */
function valueKind(path: string, field: Field): ValueKind {
  const type = field.type as DataType;
  if (DataType.isFloat(type)) return type.precision === Precision.HALF ? 'get' : 'float';
  if (DataType.isInt(type)) return type.bitWidth === 64 ? 'bigint' : 'int';
  if (DataType.isNull(type)) return 'null';
  const hint = isTextType(type)
    ? `if '${field.name}' is an annotation, leave it out with --exclude-columns '${field.name}' (or name it with --id-column, --label-column or --obs-columns)`
    : `leave it out with --exclude-columns '${field.name}', or convert it to numbers before ingest`;
  throw new InputError(
    `column '${field.name}' has type ${String(type)}, which cannot hold expression values (numbers are needed)`,
    { file: path, column: field.name },
    hint,
  );
}

function singleChunk(vector: Vector): Data {
  return vector.data[0];
}

/** The value of row i, or null when it is null. */
function cellValue(vector: Vector, data: Data, kind: ValueKind, i: number): number | null {
  if (kind === 'null') return null;
  if (data.nullCount > 0 && !data.getValid(i)) return null;
  switch (kind) {
    case 'float':
    case 'int':
      return (data.values as ArrayLike<number>)[data.offset + i];
    case 'bigint':
      return Number((data.values as BigInt64Array)[data.offset + i]);
    default: {
      const value = vector.get(i) as number | null;
      return value === null ? null : Number(value);
    }
  }
}

function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}

/** Where a cell sits; Arrow rows have no line numbers, so the row's id names the row. */
function locate(path: string, _row: number, column: string, rowId: string, genesInRows: boolean) {
  return genesInRows ? { file: path, column, gene: rowId } : { file: path, column, sample: rowId };
}

/** Reads a genevae CSR X.arrow, with the sample and gene ids from obs.arrow and var.arrow beside it. */
function readGenevaeCsr(path: string, fileIndex: number, spec: MatrixReadSpec, cohort: CohortBuilder): MatrixFileReport {
  if (spec.genesInRows) {
    throw new InputError('a genevae CSR matrix always has samples in rows', { file: path }, 'drop --genes-in-rows');
  }
  const obsPath = join(dirname(path), 'obs.arrow');
  const varPath = join(dirname(path), 'var.arrow');
  if (!existsSync(obsPath) || !existsSync(varPath)) {
    throw new InputError(
      'a genevae CSR matrix needs obs.arrow and var.arrow in the same directory for its sample and gene ids',
      { file: path },
      'point --input at the X.arrow of a genevae ingest directory',
    );
  }
  const matrix = tableToCsr(readTable(path), path);
  const obs = readFrame(obsPath);
  const vars = readFrame(varPath);
  const sampleIds = obs.sample_id as string[] | undefined;
  const geneIds = vars.gene_id as string[] | undefined;
  if (!sampleIds || sampleIds.length !== matrix.nRows || !geneIds || geneIds.length !== matrix.nCols) {
    throw new InputError(
      `obs.arrow/var.arrow do not match the matrix (${matrix.nRows} × ${matrix.nCols}): sample_id or gene_id missing or of another length`,
      { file: path },
      'use the obs.arrow and var.arrow written with this X.arrow',
    );
  }
  const symbols = vars.symbol as (string | null)[] | undefined;
  const target = cohort.alignGenes(geneIds, path, symbols ?? null);
  const identity = target.every((t, j) => t === j);
  const samplesBefore = cohort.nSamples;
  for (let s = 0; s < matrix.nRows; s++) {
    const start = matrix.indptr[s];
    const end = matrix.indptr[s + 1];
    cohort.addSample(sampleIds[s], fileIndex, matrix.indices.subarray(start, end), matrix.data.subarray(start, end), end - start, identity ? null : target);
  }
  const labels = obs.label as (string | null)[] | undefined;
  const labelFound = spec.labelColumn === 'label' && labels !== undefined;
  if (labelFound) cohort.labels.push(...labels!);
  return {
    path,
    format: 'arrow',
    compression: null,
    bytes: statSync(path).size,
    lines: matrix.nRows,
    rows: matrix.nRows,
    columns: matrix.nCols,
    columnNames: Object.keys(obs),
    samples: cohort.nSamples - samplesBefore,
    genes: matrix.nCols,
    layout: 'samples-in-rows',
    excludedColumns: [],
    labelColumnFound: labelFound,
    missingCells: 0,
    notes: ['read a genevae CSR matrix with the ids in obs.arrow and var.arrow beside it'],
  };
}
