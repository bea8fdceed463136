import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../util/errors.js';
import { FLOAT32_MAX, float32RangeError, type CohortBuilder } from './cohortBuilder.js';
import { listNames } from './columns.js';
import { openText, readWholeText, sniffFile } from './source.js';
import type { MatrixFileReport, MatrixReadSpec } from './textMatrix.js';

/** The three files of a Cell Ranger matrix directory (v2: genes.tsv, v3: features.tsv.gz). */
export interface TenxFiles {
  matrix: string;
  features: string;
  barcodes: string;
}

const MATRIX_NAME = /^(.*)matrix\.mtx(\.gz)?$/;

/**
 * Finds the Cell Ranger files for `path`: a directory holding matrix.mtx[.gz], or the .mtx file
 * itself. Prefixed names as GEO stores them (GSM123_matrix.mtx.gz, GSM123_barcodes.tsv.gz) are
 * found too. Returns null when `path` is not a MatrixMarket matrix.
 */
export function findTenxFiles(path: string): TenxFiles | null {
  let directory: string;
  let prefix = '';
  let matrix: string | undefined;
  if (statSync(path).isDirectory()) {
    directory = path;
    matrix = ['matrix.mtx.gz', 'matrix.mtx'].map((name) => join(path, name)).find((file) => existsSync(file));
    if (!matrix) {
      // GEO stores Cell Ranger files with the sample's accession as a prefix.
      const prefixed = readdirSync(path).filter((name) => MATRIX_NAME.test(name));
      if (prefixed.length === 0) return null;
      if (prefixed.length > 1) {
        throw new InputError(
          `the directory contains ${prefixed.length} MatrixMarket matrices (${listNames(prefixed, 3)})`,
          { file: path },
          'give the .mtx file of the library to read; several libraries are joined by giving several files',
        );
      }
      matrix = join(path, prefixed[0]);
      prefix = MATRIX_NAME.exec(prefixed[0])![1];
    }
  } else {
    const match = MATRIX_NAME.exec(basename(path));
    if (!match && !path.endsWith('.mtx') && !path.endsWith('.mtx.gz')) return null;
    directory = dirname(path);
    prefix = match?.[1] ?? '';
    matrix = path;
  }
  const pick = (stems: string[], role: string, hint: string): string => {
    const candidates = stems.flatMap((stem) => [`${prefix}${stem}.gz`, `${prefix}${stem}`]);
    const found = candidates.map((name) => join(directory, name)).find((file) => existsSync(file));
    if (!found) {
      throw new InputError(
        `the MatrixMarket matrix has no ${role} file beside it (looked for ${candidates.join(', ')})`,
        { file: matrix },
        hint,
      );
    }
    return found;
  };
  return {
    matrix,
    features: pick(['features.tsv', 'genes.tsv'], 'gene', 'a Cell Ranger directory holds features.tsv.gz (v3) or genes.tsv (v2) with one gene per matrix row'),
    barcodes: pick(['barcodes.tsv'], 'barcode', 'a Cell Ranger directory holds barcodes.tsv[.gz] with one cell barcode per matrix column'),
  };
}

/** Lines of a small plain or gzip text file, without a trailing empty line. */
function readSmallLines(path: string): string[] {
  const lines = readWholeText(path).split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

interface Features {
  ids: string[];
  symbols: (string | null)[] | null;
  /** Feature type per row (v3 third column), or null for v2 files. */
  types: string[] | null;
}

function readFeatures(path: string): Features {
  const lines = readSmallLines(path);
  if (lines.length === 0) throw new InputError('the gene file is empty', { file: path }, 'check that the Cell Ranger output was copied completely');
  const rows = lines.map((line) => line.split('\t'));
  rows.forEach((fields, i) => {
    if (fields[0].trim() === '') throw new InputError('the gene id is empty', { file: path, line: i + 1 }, 'every line needs a gene id in its first column');
  });
  const ids = rows.map((fields) => fields[0].trim());
  const hasSymbols = rows.every((fields) => fields.length >= 2);
  const symbols = hasSymbols ? rows.map((fields) => fields[1].trim() || null) : null;
  const sameAsIds = symbols !== null && symbols.every((symbol, i) => symbol === ids[i]);
  const types = rows.every((fields) => fields.length >= 3) ? rows.map((fields) => fields[2].trim()) : null;
  return { ids, symbols: sameAsIds ? null : symbols, types };
}

/** Parallel arrays of matrix entries, sized by the size line, which bounds the entries read. */
interface Entries {
  rows: Int32Array;
  cols: Int32Array;
  values: Float32Array;
  length: number;
}

interface MatrixMarket {
  nRows: number;
  nCols: number;
  entries: Entries;
  lines: number;
  bytes: number;
  compressed: boolean;
}

// Written by hand because the format is a short line loop, and streaming keeps memory at the size of the entries.
/** Streams a MatrixMarket coordinate file (plain or gzip) into entry arrays, 0-based. */
async function readMatrixMarket(path: string, spec: MatrixReadSpec): Promise<MatrixMarket> {
  const kind = sniffFile(path);
  const text = openText(path, kind);
  let lineNumber = 0;
  let field: 'integer' | 'real' | 'pattern' | null = null;
  let size: { nRows: number; nCols: number; nnz: number } | null = null;
  const entries: Entries = { rows: new Int32Array(0), cols: new Int32Array(0), values: new Float32Array(0), length: 0 };
  let rest = '';

  const fail = (problem: string, hint: string): never => {
    throw new InputError(problem, { file: path, line: lineNumber }, hint);
  };

  const onLine = (line: string) => {
    lineNumber++;
    if (lineNumber === 1) {
      const header = line.trim().toLowerCase().split(/\s+/);
      if (header[0] !== '%%matrixmarket' || header[1] !== 'matrix') {
        fail(`the first line is not a MatrixMarket header ('${line.slice(0, 60)}')`, 'a .mtx file starts with %%MatrixMarket matrix coordinate integer general');
      }
      if (header[2] !== 'coordinate') fail(`only the sparse 'coordinate' MatrixMarket layout is supported, not '${header[2]}'`, 'write the matrix in coordinate form (scipy.io.mmwrite of a sparse matrix does)');
      if (header[3] !== 'integer' && header[3] !== 'real' && header[3] !== 'pattern') {
        fail(`MatrixMarket field '${header[3]}' is not supported`, 'expression values must be integer or real');
      }
      if (header[4] !== 'general') fail(`MatrixMarket symmetry '${header[4]}' is not supported`, "a genes × cells matrix is 'general'");
      field = header[3] as 'integer' | 'real' | 'pattern';
      return;
    }

    if (line.startsWith('%')) return;
    const trimmed = line.trim();
    if (trimmed === '') return;
    const parts = trimmed.split(/\s+/);
    if (size === null) {
      const [nRows, nCols, nnz] = parts.map(Number);
      if (parts.length !== 3 || ![nRows, nCols, nnz].every((v) => Number.isInteger(v) && v >= 0)) {
        fail(`the size line should hold three counts (rows, columns, entries), found '${trimmed}'`, 'check that the file is a complete MatrixMarket matrix');
      }
      size = { nRows, nCols, nnz };
      entries.rows = new Int32Array(nnz);
      entries.cols = new Int32Array(nnz);
      entries.values = new Float32Array(nnz);
      return;
    }

    const expected = field === 'pattern' ? 2 : 3;
    if (parts.length !== expected) fail(`an entry should have ${expected} fields (row, column${expected === 3 ? ', value' : ''}), found ${parts.length}`, 'check that the file was written completely');
    const row = Number(parts[0]);
    const col = Number(parts[1]);
    if (!Number.isInteger(row) || row < 1 || row > size.nRows) fail(`row index '${parts[0]}' is outside 1..${size.nRows}`, 'MatrixMarket indices are 1-based and within the size line');
    if (!Number.isInteger(col) || col < 1 || col > size.nCols) fail(`column index '${parts[1]}' is outside 1..${size.nCols}`, 'MatrixMarket indices are 1-based and within the size line');
    const value = field === 'pattern' ? 1 : Number(parts[2]);
    if (!Number.isFinite(value)) fail(`the value '${parts[2]}' is not a finite number`, 'every entry needs a numeric value');
    if (field === 'integer' && !Number.isInteger(value)) {
      fail(`the value '${parts[2]}' is not an integer, but the header declares integer values`, "correct the value, or declare the field 'real' in the header if the matrix holds non-integer values");
    }
    if (field === 'integer' && value < 0) {
      fail(`the count '${parts[2]}' is negative`, 'a Cell Ranger matrix holds counts, which are never negative; check how the file was made');
    }
    if (value > FLOAT32_MAX || value < -FLOAT32_MAX) throw float32RangeError(value, { file: path, line: lineNumber });
    if (entries.length === size.nnz) fail(`the file has more entries than the ${size.nnz} its size line declares`, 'check that the file was not concatenated or edited');
    entries.rows[entries.length] = row - 1;
    entries.cols[entries.length] = col - 1;
    entries.values[entries.length] = value;
    entries.length++;
  };

  try {
    for await (const chunk of text.stream) {
      const lines = (rest + (chunk as string)).split('\n');
      rest = lines.pop()!;
      for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      spec.onProgress?.(text.bytesRead(), entries.length);
    }
    if (rest !== '') onLine(rest);
  } finally {
    text.close();
  }
  if (lineNumber === 0) throw new InputError('the matrix file is empty', { file: path }, 'check that the Cell Ranger output was copied completely');
  if (size === null) throw new InputError('the matrix has a header but no size line', { file: path }, 'check that the file was written completely');
  const declared = size as { nRows: number; nCols: number; nnz: number };
  if (entries.length < declared.nnz) {
    throw new InputError(
      `the matrix ends after ${entries.length} of the ${declared.nnz} entries its size line declares`,
      { file: path, line: lineNumber },
      'the file is truncated: copy or download it again',
    );
  }
  return { nRows: declared.nRows, nCols: declared.nCols, entries, lines: lineNumber, bytes: statSync(path).size, compressed: kind === 'gzip' };
}

/**
 * Reads a Cell Ranger matrix (MatrixMarket genes × cells plus genes and barcodes files) into
 * `cohort`, one sample per barcode. Gene ids are the first column of the gene file, symbols
 * the second. A v3 file with several feature types keeps the 'Gene Expression' rows only.
 */
export async function readTenxMatrix(files: TenxFiles, fileIndex: number, spec: MatrixReadSpec, cohort: CohortBuilder): Promise<MatrixFileReport> {
  const notes: string[] = [];
  const features = readFeatures(files.features);
  const barcodes = readSmallLines(files.barcodes).map((line) => line.split('\t')[0].trim());
  barcodes.forEach((barcode, i) => {
    if (barcode === '') throw new InputError('the barcode is empty', { file: files.barcodes, line: i + 1 }, 'every line needs a cell barcode');
  });
  const market = await readMatrixMarket(files.matrix, spec);

  // Genes × cells is Cell Ranger's orientation; a cells × genes file (as some tools write) is read too.
  let geneAxis: 'rows' | 'cols' = 'rows';
  if (market.nRows !== features.ids.length || market.nCols !== barcodes.length) {
    if (market.nRows === barcodes.length && market.nCols === features.ids.length) {
      geneAxis = 'cols';
      notes.push('the matrix is cells × genes (Cell Ranger writes genes × cells); read it that way');
    } else {
      throw new InputError(
        `the matrix is ${market.nRows} × ${market.nCols} but there are ${features.ids.length} genes in ${basename(files.features)} and ${barcodes.length} barcodes in ${basename(files.barcodes)}`,
        { file: files.matrix },
        'the three files must come from the same Cell Ranger output directory',
      );
    }
  }

  let keep: Int32Array | null = null;
  const excluded: string[] = [];
  if (features.types && features.types.some((type) => type !== 'Gene Expression')) {
    const counts = new Map<string, number>();
    for (const type of features.types) counts.set(type, (counts.get(type) ?? 0) + 1);
    const expression = counts.get('Gene Expression') ?? 0;
    if (expression === 0) {
      throw new InputError(
        `the matrix has no 'Gene Expression' features (${[...counts].map(([type, n]) => `${type} ${n}`).join(', ')})`,
        { file: files.features },
        'give a Cell Ranger matrix with gene expression counts',
      );
    }
    keep = new Int32Array(features.ids.length).fill(-1);
    let next = 0;
    features.types.forEach((type, i) => {
      if (type === 'Gene Expression') keep![i] = next++;
    });
    const others = [...counts].filter(([type]) => type !== 'Gene Expression');
    notes.push(`kept the ${expression} 'Gene Expression' features and left out ${others.map(([type, n]) => `${n} ${type}`).join(', ')}`);
    excluded.push(...others.map(([type, n]) => `${type} (${n} features)`));
  }
  const kept = (i: number) => keep === null || keep[i] >= 0;
  const geneIds = features.ids.filter((_, i) => kept(i));
  const symbols = features.symbols?.filter((_, i) => kept(i)) ?? null;
  const target = cohort.alignGenes(geneIds, files.matrix, symbols);
  const identity = target.every((t, j) => t === j);
  if (!identity) notes.push('genes are in another order than in the first file; aligned by name');

  // Bucket the entries by cell (counting sort), then add the cells in barcode order.
  const { entries } = market;
  const cellOf = geneAxis === 'rows' ? entries.cols : entries.rows;
  const geneOf = geneAxis === 'rows' ? entries.rows : entries.cols;
  const start = new Int32Array(barcodes.length + 1);
  for (let e = 0; e < entries.length; e++) start[cellOf[e] + 1]++;
  for (let c = 0; c < barcodes.length; c++) start[c + 1] += start[c];
  const fill = start.slice(0, barcodes.length);
  const order = new Int32Array(entries.length);
  for (let e = 0; e < entries.length; e++) order[fill[cellOf[e]]++] = e;

  const maxPerCell = barcodes.reduce((most, _, c) => Math.max(most, start[c + 1] - start[c]), 0);
  const genes = new Int32Array(maxPerCell);
  const values = new Float64Array(maxPerCell);
  const seen = new Int32Array(geneIds.length).fill(-1);
  for (let c = 0; c < barcodes.length; c++) {
    let n = 0;
    for (let k = start[c]; k < start[c + 1]; k++) {
      const e = order[k];
      const gene = keep === null ? geneOf[e] : keep[geneOf[e]];
      if (gene < 0) continue;
      if (seen[gene] === c) {
        throw new InputError(
          'the matrix has two entries for the same gene and cell',
          { file: files.matrix, sample: barcodes[c], gene: geneIds[gene] },
          'a MatrixMarket matrix from Cell Ranger has one entry per gene and cell; sum the duplicates before ingest',
        );
      }
      seen[gene] = c;
      genes[n] = gene;
      values[n] = entries.values[e];
      n++;
    }
    sortPairs(genes, values, n);
    cohort.addSample(barcodes[c], fileIndex, genes, values, n, identity ? null : target);
  }
  if (barcodes.length > 0 && geneIds.length > 0 && entries.length === 0) notes.push('the matrix has no non-zero entries');
  notes.push(`read ${[files.matrix, files.features, files.barcodes].map((file) => basename(file)).join(', ')}`);

  return {
    path: files.matrix,
    format: 'mtx',
    compression: market.compressed ? 'gzip' : null,
    bytes: market.bytes + statSync(files.features).size + statSync(files.barcodes).size,
    lines: market.lines,
    rows: entries.length,
    columns: geneAxis === 'rows' ? market.nCols : market.nRows,
    columnNames: [],
    samples: barcodes.length,
    genes: geneIds.length,
    layout: geneAxis === 'rows' ? 'genes-in-rows' : 'samples-in-rows',
    excludedColumns: excluded,
    labelColumnFound: false,
    missingCells: 0,
    notes,
  };
}

/**
 * Returns an error when `path` is the gene or barcode file of a Cell Ranger matrix, or null for
 * any other path. Without it, such a file would be read as a table of its own.
 */
export function tenxPartError(path: string): InputError | null {
  const match = /^(.*?)(features|genes|barcodes)\.tsv(\.gz)?$/.exec(basename(path));
  if (!match) return null;
  const matrix = [`${match[1]}matrix.mtx.gz`, `${match[1]}matrix.mtx`].find((name) => existsSync(join(dirname(path), name)));
  if (!matrix) return null;
  return new InputError(
    `this is the ${match[2] === 'barcodes' ? 'barcode' : 'gene'} file of a Cell Ranger matrix, not a matrix`,
    { file: path },
    `give the directory ${dirname(path)} or its ${matrix}`,
  );
}

/** Sorts the first n (gene, value) pairs by gene. Entries written column by column arrive sorted, so this is usually one pass. */
function sortPairs(genes: Int32Array, values: Float64Array, n: number): void {
  let sorted = true;
  for (let k = 1; k < n && sorted; k++) if (genes[k - 1] > genes[k]) sorted = false;
  if (sorted) return;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => genes[a] - genes[b]);
  const g = order.map((k) => genes[k]);
  const v = order.map((k) => values[k]);
  for (let k = 0; k < n; k++) {
    genes[k] = g[k];
    values[k] = v[k];
  }
}
