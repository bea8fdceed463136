import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { writeFrame, type Frame } from '../io/arrow.js';
import { FILES } from '../run/layout.js';
import { labelsOf, type RunData, type SampleMatrix } from './run-data.js';

/** One exported table: its base name, rows and columns, and the files written. */
export interface ExportedTable {
  name: string;
  rows: number;
  columns: string[];
  files: string[];
}

/** Shortest decimal text that reads back as the same float32 (at most 9 significant digits). */
export function formatFloat32(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const target = Math.fround(value);
  for (let digits = 6; digits < 9; digits++) {
    const text = target.toPrecision(digits);
    if (Math.fround(Number(text)) === target) return String(Number(text));
  }
  return String(Number(target.toPrecision(9)));
}

/** TSV field text; tabs and line breaks inside a value are written as \t, \n and \r so each row stays one line. */
function tsvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : formatFloat32(value);
  return String(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Writes a frame as TSV with a header line (missing values as empty fields). */
export function writeFrameTsv(path: string, frame: Frame): void {
  const columns = Object.keys(frame);
  const n = columns.length ? frame[columns[0]].length : 0;
  const lines: string[] = [columns.map(tsvField).join('\t')];
  for (let i = 0; i < n; i++) {
    const fields = new Array<string>(columns.length);
    for (let c = 0; c < columns.length; c++) fields[c] = tsvField((frame[columns[c]] as ArrayLike<unknown>)[i]);
    lines.push(fields.join('\t'));
  }
  writeFileAtomic(path, lines.join('\n') + '\n');
}

/** Converts a per-sample matrix to a frame: sample_id, then one float32 column per dimension named prefix_1..prefix_d. */
function matrixFrame(matrix: SampleMatrix, prefix: string): Frame {
  const frame: Frame = { sample_id: matrix.sampleIds };
  const { nRows, nCols, data } = matrix.matrix;
  for (let j = 0; j < nCols; j++) {
    const column = new Float32Array(nRows);
    for (let i = 0; i < nRows; i++) column[i] = data[i * nCols + j];
    frame[`${prefix}_${j + 1}`] = column;
  }
  return frame;
}

function writeBoth(dir: string, name: string, frame: Frame): ExportedTable {
  const tsv = `${name}.tsv`;
  const arrow = `${name}.arrow`;
  writeFrameTsv(join(dir, tsv), frame);
  writeFrame(join(dir, arrow), frame);
  const columns = Object.keys(frame);
  return { name, rows: columns.length ? frame[columns[0]].length : 0, columns, files: [tsv, arrow] };
}

/**
 * Writes the per-sample exports into `dir` (TSV with a header, and Arrow IPC with the same columns):
 * - latent.{tsv,arrow}: sample_id, z_1..z_d (posterior means, from 03-train/latent.arrow);
 * - umap.{tsv,arrow}: sample_id, umap_1, umap_2 (from 04-cluster/umap.arrow);
 * - clusters.{tsv,arrow}: sample_id, label (when the cohort has labels), then every cluster
 *   assignment column of 04-cluster/clusters.arrow (for example kmeans).
 * A table whose source is missing is not written, and `skipped` records why.
 */
export function writeExports(data: RunData, dir: string): { tables: ExportedTable[]; skipped: string[] } {
  mkdirSync(dir, { recursive: true });
  const tables: ExportedTable[] = [];
  const skipped: string[] = [];

  const latent = data.sampleMatrix('train', FILES.latent, 'z');
  if (latent) tables.push(writeBoth(dir, 'latent', matrixFrame(latent, 'z')));
  else skipped.push('latent: 03-train/latent.arrow is missing or unreadable');

  const umap = data.sampleMatrix('cluster', FILES.umap, 'umap');
  if (umap) tables.push(writeBoth(dir, 'umap', matrixFrame(umap, 'umap')));
  else skipped.push('umap: 04-cluster/umap.arrow is missing or unreadable');

  const clusters = data.frame('cluster', FILES.clusters);
  if (clusters && clusters.sample_id) {
    const ids = clusters.sample_id as string[];
    const frame: Frame = { sample_id: ids };
    const obs = data.obs();
    const labels = labelsOf(obs);
    if (labels && obs?.sample_id) {
      const labelById = new Map<string, string | null>();
      (obs.sample_id as string[]).forEach((id, i) => labelById.set(id, labels[i]));
      frame.label = ids.map((id) => labelById.get(id) ?? null);
    }
    for (const [name, column] of Object.entries(clusters)) if (name !== 'sample_id') frame[name] = column;
    tables.push(writeBoth(dir, 'clusters', frame));
  } else {
    skipped.push('clusters: 04-cluster/clusters.arrow is missing or has no sample_id column');
  }
  return { tables, skipped };
}
