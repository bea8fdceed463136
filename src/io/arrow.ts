import { readFileSync } from 'node:fs';
import {
  Bool,
  Data,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  List,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  DataType,
  Precision,
} from 'apache-arrow';
import type { CsrMatrix } from '../matrix/csr.js';
import type { DenseMatrix } from '../matrix/dense.js';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';

/** Schema metadata key naming how X stores its values (see DESIGN's data contract). */
export const LAYOUT_KEY = 'genevae.layout';
/** Schema metadata key holding the number of columns (genes) of a CSR matrix. */
export const N_COLS_KEY = 'genevae.n_cols';

/** Rows per record batch; keeps each batch's Int32 list offsets far below 2^31 entries. */
const ROWS_PER_BATCH = 4096;

/** A column of a data frame: strings, numbers or booleans, one entry per row. */
export type FrameColumn = string[] | Float64Array | Float32Array | Int32Array | boolean[] | (string | null)[];

/** Named columns of equal length, in insertion order (obs and var follow this shape). */
export type Frame = Record<string, FrameColumn>;

/** Number of rows of a frame, checking that every column has the same length. */
export function frameLength(frame: Frame): number {
  const lengths = new Set(Object.values(frame).map((column) => column.length));
  if (lengths.size > 1) {
    throw new Error(`frame columns have different lengths: ${[...lengths].join(', ')}`);
  }
  return lengths.size === 0 ? 0 : [...lengths][0];
}

/** Converts a frame to an Arrow table: utf8 for strings, float64/float32/int32 for numbers, bool. */
export function frameToTable(frame: Frame, metadata: Record<string, string> = {}): Table {
  frameLength(frame);
  const fields: Field[] = [];
  const children: Data[] = [];
  // apache-arrow 21 writes an unreadable file when two columns share one buffer, so copy repeats.
  const seenBuffers = new Set<ArrayBufferLike>();
  for (const [name, original] of Object.entries(frame)) {
    let column = original;
    if (ArrayBuffer.isView(column)) {
      if (seenBuffers.has(column.buffer)) column = column.slice();
      seenBuffers.add(column.buffer);
    }
    const vector = columnVector(column);
    fields.push(new Field(name, vector.type, vector.nullCount > 0));
    children.push(vector.data[0]);
  }
  const length = frameLength(frame);
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  const structData = makeData({ type: new Struct(fields), length, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, structData)]);
}

function columnVector(column: FrameColumn) {
  if (column instanceof Float64Array) return makeVector(column);
  if (column instanceof Float32Array) return makeVector(column);
  if (column instanceof Int32Array) return makeVector(column);
  if (column.length > 0 && typeof column[0] === 'boolean') return vectorFromArray(column as boolean[], new Bool());
  return vectorFromArray(column as (string | null)[], new Utf8());
}

/** Converts an Arrow table back to a frame; numeric columns become typed arrays. */
export function tableToFrame(table: Table): Frame {
  const frame: Frame = {};
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name)!;
    const type: DataType = field.type;
    if (DataType.isFloat(type) && type.precision === Precision.SINGLE) {
      frame[field.name] = Float32Array.from(vector.toArray() as ArrayLike<number>);
    } else if (DataType.isFloat(type)) {
      frame[field.name] = Float64Array.from(vector.toArray() as ArrayLike<number>);
    } else if (DataType.isInt(type) && type.bitWidth <= 32) {
      frame[field.name] = Int32Array.from(vector.toArray() as ArrayLike<number>);
    } else if (DataType.isBool(type)) {
      frame[field.name] = Array.from(vector, (v) => Boolean(v));
    } else {
      frame[field.name] = Array.from(vector, (v) => (v === null || v === undefined ? null : String(v)));
    }
  }
  return frame;
}

/** Writes a table as an Arrow IPC file, atomically. */
export function writeTable(path: string, table: Table): void {
  writeFileAtomic(path, tableToIPC(table, 'file'));
}

/**
 * Reads an Arrow IPC file or stream. Raises InputError naming the file when it is truncated or
 * damaged, and when it has no columns: apache-arrow 21 reads an empty or zero-filled file as a
 * table without columns, which no stage writes.
 */
export function readTable(path: string): Table {
  const bytes = readFileSync(path);
  const hint = 'if a pipeline stage wrote it, rerun that stage with --force';
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new InputError(`cannot be read as Arrow IPC, so it is truncated or damaged (${(error as Error).message})`, { file: path }, hint);
  }
  if (table.schema.fields.length === 0) {
    const what = bytes.length === 0 ? 'the file is empty' : `its ${bytes.length} bytes hold no Arrow schema`;
    throw new InputError(`not an Arrow table: ${what}, so it is truncated or damaged`, { file: path }, hint);
  }
  return table;
}

export function writeFrame(path: string, frame: Frame, metadata: Record<string, string> = {}): void {
  writeTable(path, frameToTable(frame, metadata));
}

export function readFrame(path: string): Frame {
  return tableToFrame(readTable(path));
}

/** Converts a CSR matrix to the X table: `indices: List<Int32>`, `values: List<Float32>`, one row per sample. */
export function csrToTable(m: CsrMatrix): Table {
  const indicesField = new Field('indices', new List(new Field('item', new Int32(), false)), false);
  const valuesField = new Field('values', new List(new Field('item', new Float32(), false)), false);
  const schema = new Schema(
    [indicesField, valuesField],
    new Map([
      [LAYOUT_KEY, 'csr'],
      [N_COLS_KEY, String(m.nCols)],
    ]),
  );
  const batches: RecordBatch[] = [];
  for (let start = 0; start < m.nRows || (start === 0 && batches.length === 0); start += ROWS_PER_BATCH) {
    const end = Math.min(m.nRows, start + ROWS_PER_BATCH);
    const first = m.indptr[start];
    const last = m.indptr[end];
    const offsets = new Int32Array(end - start + 1);
    for (let r = start; r <= end; r++) offsets[r - start] = m.indptr[r] - first;
    const length = end - start;
    const indexData = makeData({
      type: indicesField.type,
      length,
      nullCount: 0,
      valueOffsets: offsets,
      child: makeData({ type: new Int32(), length: last - first, data: m.indices.subarray(first, last) }),
    });
    const valueData = makeData({
      type: valuesField.type,
      length,
      nullCount: 0,
      valueOffsets: offsets,
      child: makeData({ type: new Float32(), length: last - first, data: m.data.subarray(first, last) }),
    });
    const structData = makeData({
      type: new Struct(schema.fields),
      length,
      nullCount: 0,
      children: [indexData, valueData],
    });
    batches.push(new RecordBatch(schema, structData));
    if (m.nRows === 0) break;
  }
  return new Table(schema, batches);
}

/** Converts the X table back to CSR; throws when the layout metadata is not `csr`. */
export function tableToCsr(table: Table, source = 'X.arrow'): CsrMatrix {
  const layout = table.schema.metadata.get(LAYOUT_KEY);
  if (layout !== 'csr') {
    throw new Error(`${source}: expected schema metadata ${LAYOUT_KEY}=csr, found ${layout ?? 'none'}`);
  }
  const nCols = Number(table.schema.metadata.get(N_COLS_KEY));
  if (!Number.isInteger(nCols) || nCols < 0) {
    throw new Error(`${source}: schema metadata ${N_COLS_KEY} is missing or not an integer`);
  }
  const nRows = table.numRows;
  let total = 0;
  for (const batch of table.batches) {
    const values = batch.getChild('values')!.data[0];
    total += values.valueOffsets[batch.numRows] - values.valueOffsets[0];
  }
  const indptr = new Float64Array(nRows + 1);
  const indices = new Int32Array(total);
  const data = new Float32Array(total);
  let row = 0;
  let at = 0;
  for (const batch of table.batches) {
    const indexData = batch.getChild('indices')!.data[0];
    const valueData = batch.getChild('values')!.data[0];
    const offsets = indexData.valueOffsets;
    const childIndices = indexData.children[0].values as Int32Array;
    const childValues = valueData.children[0].values as Float32Array;
    const childOffset = indexData.children[0].offset;
    const valueChildOffset = valueData.children[0].offset;
    for (let r = 0; r < batch.numRows; r++) {
      const start = offsets[r];
      const end = offsets[r + 1];
      indices.set(childIndices.subarray(childOffset + start, childOffset + end), at);
      data.set(childValues.subarray(valueChildOffset + start, valueChildOffset + end), at);
      at += end - start;
      indptr[++row] = at;
    }
  }
  return { nRows, nCols, indptr, indices, data };
}

/** Converts a dense matrix to a table with one FixedSizeList<Float32>[nCols] column, optionally keyed by `idColumn`. */
export function denseToTable(
  m: DenseMatrix,
  column: string,
  ids?: { name: string; values: string[] },
  metadata: Record<string, string> = {},
): Table {
  const listType = new FixedSizeList(m.nCols, new Field('item', new Float32(), false));
  const fields: Field[] = [];
  const children: Data[] = [];
  if (ids) {
    if (ids.values.length !== m.nRows) {
      throw new Error(`denseToTable: ${ids.values.length} ids for ${m.nRows} rows`);
    }
    const idVector = vectorFromArray(ids.values, new Utf8());
    fields.push(new Field(ids.name, new Utf8(), false));
    children.push(idVector.data[0]);
  }
  fields.push(new Field(column, listType, false));
  children.push(
    makeData({
      type: listType,
      length: m.nRows,
      nullCount: 0,
      child: makeData({ type: new Float32(), length: m.data.length, data: m.data }),
    }),
  );
  const schema = new Schema(fields, new Map(Object.entries({ [LAYOUT_KEY]: 'dense', ...metadata })));
  const structData = makeData({ type: new Struct(fields), length: m.nRows, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, structData)]);
}

/** Reads the FixedSizeList<Float32> column `column` of a table into a dense matrix. */
export function tableToDense(table: Table, column: string, source = 'table'): DenseMatrix {
  const field = table.schema.fields.find((f) => f.name === column);
  if (!field || !(field.type instanceof FixedSizeList)) {
    throw new Error(`${source}: column '${column}' is missing or is not a FixedSizeList<Float32>`);
  }
  const width = (field.type as FixedSizeList).listSize;
  const out = new Float32Array(table.numRows * width);
  let row = 0;
  for (const batch of table.batches) {
    const data = batch.getChild(column)!.data[0];
    const child = data.children[0];
    const values = child.values as Float32Array;
    // A sliced FixedSizeList counts its offset in lists, its child in values.
    const start = child.offset + data.offset * width;
    out.set(values.subarray(start, start + batch.numRows * width), row * width);
    row += batch.numRows;
  }
  return { nRows: table.numRows, nCols: width, data: out };
}
