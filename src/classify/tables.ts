import {
  Field,
  FixedSizeList,
  Float32,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type Data,
} from 'apache-arrow';

/** A column of a classification table: strings (nullable), integers, floats or fixed-width float32 lists. */
export type TableColumn =
  | { name: string; kind: 'utf8'; values: (string | null)[] }
  | { name: string; kind: 'int32'; values: Int32Array }
  | { name: string; kind: 'float64'; values: Float64Array }
  | { name: string; kind: 'list'; width: number; values: Float32Array };

/**
 * Builds an Arrow table from columns of equal length; a 'list' column becomes
 * FixedSizeList<Float32>[width] (frameToTable in io/arrow has no list columns).
 */
export function buildTable(columns: TableColumn[], metadata: Record<string, string> = {}): Table {
  const lengths = new Set(columns.map((column) => (column.kind === 'list' ? column.values.length / column.width : column.values.length)));
  if (lengths.size > 1) throw new Error(`table columns have different lengths: ${[...lengths].join(', ')}`);
  const length = lengths.size === 0 ? 0 : [...lengths][0];
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const column of columns) {
    if (column.kind === 'list') {
      const type = new FixedSizeList(column.width, new Field('item', new Float32(), false));
      fields.push(new Field(column.name, type, false));
      children.push(
        makeData({
          type,
          length,
          nullCount: 0,
          child: makeData({ type: new Float32(), length: column.values.length, data: column.values }),
        }),
      );
      continue;
    }
    const vector = column.kind === 'utf8' ? vectorFromArray(column.values, new Utf8()) : makeVector(column.values);
    fields.push(new Field(column.name, vector.type, vector.nullCount > 0));
    children.push(vector.data[0]);
  }
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  const structData = makeData({ type: new Struct(fields), length, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, structData)]);
}
