import { FixedSizeList } from 'apache-arrow';
import { readTable, tableToDense } from '../io/arrow.js';
import type { DenseMatrix } from '../matrix/dense.js';

/**
 * Reads a FixedSizeList<Float32> column as a dense matrix. When the table has one record
 * batch, as normalize writes it, the matrix is a view into the file's bytes, so a cohort
 * occupies memory once. Otherwise the batches are copied into one array.
 */
export function readDenseColumn(path: string, column: string): DenseMatrix {
  const table = readTable(path);
  const field = table.schema.fields.find((f) => f.name === column);
  if (table.batches.length === 1 && field && field.type instanceof FixedSizeList) {
    const width = field.type.listSize;
    const data = table.batches[0].getChild(column)!.data[0];
    const child = data.children[0];
    const start = child.offset + data.offset * width;
    const values = (child.values as Float32Array).subarray(start, start + table.numRows * width);
    if (values.length === table.numRows * width) return { nRows: table.numRows, nCols: width, data: values };
  }
  return tableToDense(table, column, path);
}
