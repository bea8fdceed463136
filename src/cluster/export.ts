import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { readFrame, readTable, tableToDense, writeFrame, type Frame } from '../io/arrow.js';
import { writeFileAtomic } from '../io/atomic.js';
import { FILES, stageFile } from '../run/layout.js';
import { InputError } from '../util/errors.js';

export type ExportFormat = 'tsv' | 'csv' | 'arrow';

export interface BiomarkerExportOptions {
  /** Rows kept per group and direction (markers), per latent dimension, and per importance source. */
  top: number;
  /** Largest marker q-value kept; latent and importance rows have no q and are always kept. */
  qMax: number;
}

/** Columns of the biomarker table; every source fills the same columns, null where a value does not apply. */
interface BiomarkerRows {
  gene_id: string[];
  symbol: (string | null)[];
  /** 'cluster:<clustering>' or 'label' for markers, 'latent' for decoder loadings, the classifier's own source name for importance. */
  source: string[];
  /** Cluster or label name, 'z<d>' for a latent dimension, 'label' for classifier importance. */
  group: string[];
  statistic: number[];
  p: (number | null)[];
  q: (number | null)[];
  /** Log fold change (markers), loading (latent), importance score (classifier). */
  effect_size: number[];
  /** 'up' or 'down' in the group (markers), 'positive' or 'negative' loading (latent), null for importance. */
  direction: (string | null)[];
  /** Rank within the source, group and direction, 1 = strongest. */
  rank: number[];
}

function emptyRows(): BiomarkerRows {
  return { gene_id: [], symbol: [], source: [], group: [], statistic: [], p: [], q: [], effect_size: [], direction: [], rank: [] };
}

function push(rows: BiomarkerRows, row: { [K in keyof BiomarkerRows]: BiomarkerRows[K][number] }): void {
  for (const key of Object.keys(rows) as (keyof BiomarkerRows)[]) (rows[key] as unknown[]).push(row[key]);
}

function requireStageFile(path: string, stage: string): void {
  if (!existsSync(path)) {
    throw new InputError(`${path} not found`, { file: path }, `run 'genevae ${stage}' on this run directory first`);
  }
}

/** Marker rows: per grouping and group, the `top` strongest up and down markers with q <= qMax. */
function addMarkers(rows: BiomarkerRows, path: string, options: BiomarkerExportOptions): void {
  const markers = readFrame(path);
  const n = markers.gene_id.length;
  // Rows arrive strongest first within each group, so the up markers are read forwards and the down markers backwards.
  const byGroup = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const key = `${markers.grouping[i]}\u0000${markers.group[i]}`;
    if (!byGroup.has(key)) byGroup.set(key, []);
    byGroup.get(key)!.push(i);
  }
  const statistic = markers.statistic as Float64Array;
  const q = markers.q as Float64Array;
  for (const indices of byGroup.values()) {
    indices.sort((a, b) => statistic[b] - statistic[a]);
    for (const direction of ['up', 'down'] as const) {
      const ordered = direction === 'up' ? indices : [...indices].reverse();
      let rank = 0;
      for (const i of ordered) {
        if (rank >= options.top) break;
        const isUp = statistic[i] > 0;
        if ((direction === 'up') !== isUp || statistic[i] === 0 || !(q[i] <= options.qMax)) continue;
        rank++;
        const grouping = String(markers.grouping[i]);
        push(rows, {
          gene_id: String(markers.gene_id[i]),
          symbol: (markers.symbol?.[i] as string | null) ?? null,
          source: grouping === 'label' ? 'label' : `cluster:${grouping}`,
          group: String(markers.group[i]),
          statistic: statistic[i],
          p: (markers.p as Float64Array)[i],
          q: q[i],
          effect_size: (markers.log_fold_change as Float64Array)[i],
          direction,
          rank,
        });
      }
    }
  }
}

/** Latent rows: per dimension, the `top` genes with the largest |loading|. */
function addLatentGenes(rows: BiomarkerRows, path: string, options: BiomarkerExportOptions): void {
  const genes = readFrame(path);
  const rank = genes.rank as Int32Array;
  for (let i = 0; i < genes.gene_id.length; i++) {
    if (rank[i] > options.top) continue;
    const loading = (genes.loading as Float32Array)[i];
    push(rows, {
      gene_id: String(genes.gene_id[i]),
      symbol: (genes.symbol?.[i] as string | null) ?? null,
      source: 'latent',
      group: `z_${(genes.latent_dim as Int32Array)[i] + 1}`,
      statistic: loading,
      p: null,
      q: null,
      effect_size: loading,
      direction: String(genes.direction[i]),
      rank: rank[i],
    });
  }
}

/** Classifier rows: the `top` genes by importance score from 05-classify/importance.arrow. */
function addImportance(rows: BiomarkerRows, path: string, options: BiomarkerExportOptions): void {
  const importance = readFrame(path);
  const score = importance.score as Float64Array | Float32Array | undefined;
  if (!score) throw new InputError("column 'score' is missing", { file: path, column: 'score' });
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  order.slice(0, options.top).forEach((i, r) => {
    push(rows, {
      gene_id: String(importance.gene_id[i]),
      symbol: (importance.symbol?.[i] as string | null) ?? null,
      source: importance.source ? String(importance.source[i]) : 'classifier',
      group: 'label',
      statistic: score[i],
      p: null,
      q: null,
      effect_size: score[i],
      direction: null,
      rank: r + 1,
    });
  });
}

/**
 * Builds the biomarker table of a run: marker genes per cluster and per label (from
 * 04-cluster/markers.arrow), genes per latent dimension (04-cluster/latent_genes.arrow), and
 * classifier importance (05-classify/importance.arrow) when each exists. The `source` column
 * names where each row came from.
 */
export function biomarkerTable(runDir: string, options: BiomarkerExportOptions): { columns: BiomarkerRows; sources: string[] } {
  const rows = emptyRows();
  const sources: string[] = [];
  const markersPath = stageFile(runDir, 'cluster', 'markers.arrow');
  const latentPath = stageFile(runDir, 'cluster', 'latent_genes.arrow');
  const importancePath = stageFile(runDir, 'classify', 'importance.arrow');
  requireStageFile(stageFile(runDir, 'cluster', FILES.clusters), 'cluster');
  if (existsSync(markersPath)) {
    addMarkers(rows, markersPath, options);
    sources.push(markersPath);
  }
  if (existsSync(latentPath)) {
    addLatentGenes(rows, latentPath, options);
    sources.push(latentPath);
  }
  if (existsSync(importancePath)) {
    addImportance(rows, importancePath, options);
    sources.push(importancePath);
  }
  if (sources.length === 0) {
    throw new InputError(
      `the run has no marker genes, latent genes or classifier importance`,
      { file: markersPath },
      'rerun `genevae cluster` with markers on (drop --no-markers)',
    );
  }
  return { columns: rows, sources };
}

/**
 * Builds the sample table: sample_id, label (when known), z0..z<d-1>, umap_1, umap_2 and
 * every clustering column of 04-cluster/clusters.arrow, one row per sample in latent order.
 */
export function sampleTable(runDir: string): Frame {
  const latentPath = stageFile(runDir, 'train', FILES.latent);
  const clustersPath = stageFile(runDir, 'cluster', FILES.clusters);
  const umapPath = stageFile(runDir, 'cluster', FILES.umap);
  requireStageFile(latentPath, 'train');
  requireStageFile(clustersPath, 'cluster');
  const latentTable = readTable(latentPath);
  const ids = Array.from(latentTable.getChild('sample_id')!, (id) => String(id));
  const z = tableToDense(latentTable, 'z', latentPath);
  const clusters = readFrame(clustersPath);
  const clusterIds = clusters.sample_id as string[];
  if (clusterIds.length !== ids.length || clusterIds.some((id, i) => id !== ids[i])) {
    throw new InputError('clusters.arrow does not list the samples of latent.arrow in the same order', { file: clustersPath }, 'rerun `genevae cluster` on this run directory');
  }
  const frame: Frame = { sample_id: ids };
  for (const obsPath of [stageFile(runDir, 'normalize', FILES.obs), stageFile(runDir, 'ingest', FILES.obs)]) {
    if (!existsSync(obsPath)) continue;
    const obs = readFrame(obsPath);
    if (!obs.label) continue;
    const labelOf = new Map((obs.sample_id as string[]).map((id, i) => [String(id), obs.label[i] as string | null]));
    frame.label = ids.map((id) => labelOf.get(id) ?? null);
    break;
  }
  for (let d = 0; d < z.nCols; d++) frame[`z_${d + 1}`] = Float32Array.from({ length: z.nRows }, (_, i) => z.data[i * z.nCols + d]);
  if (existsSync(umapPath)) {
    const umap = tableToDense(readTable(umapPath), 'umap', umapPath);
    frame.umap_1 = Float32Array.from({ length: umap.nRows }, (_, i) => umap.data[2 * i]);
    frame.umap_2 = Float32Array.from({ length: umap.nRows }, (_, i) => umap.data[2 * i + 1]);
  }
  for (const [name, column] of Object.entries(clusters)) if (name !== 'sample_id') frame[name] = column;
  return frame;
}

function toFrame(rows: BiomarkerRows): Frame {
  return {
    gene_id: rows.gene_id,
    symbol: rows.symbol,
    source: rows.source,
    group: rows.group,
    statistic: Float64Array.from(rows.statistic),
    p: Float64Array.from(rows.p, (value) => value ?? Number.NaN),
    q: Float64Array.from(rows.q, (value) => value ?? Number.NaN),
    effect_size: Float64Array.from(rows.effect_size),
    direction: rows.direction,
    rank: Int32Array.from(rows.rank),
  };
}

/** Writes a frame atomically as TSV, CSV (RFC 4180 quoting by papaparse) or Arrow IPC; missing values become empty cells. */
export function writeExport(path: string, frame: Frame, format: ExportFormat): void {
  if (format === 'arrow') {
    writeFrame(path, frame);
    return;
  }
  const names = Object.keys(frame);
  const length = names.length === 0 ? 0 : frame[names[0]].length;
  const data: unknown[][] = [];
  for (let i = 0; i < length; i++) {
    data.push(
      names.map((name) => {
        const value = frame[name][i];
        return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value)) ? '' : value;
      }),
    );
  }
  const text = Papa.unparse({ fields: names, data }, { delimiter: format === 'tsv' ? '\t' : ',', newline: '\n' });
  writeFileAtomic(path, text + '\n');
}

export interface ExportResult {
  biomarkers: string;
  samples: string;
  biomarkerRows: number;
  sampleRows: number;
  sources: string[];
}

/** Writes biomarkers.<ext> and samples.<ext> for a run into `outDir` (default <run-dir>/exports). */
export function exportBiomarkers(runDir: string, format: ExportFormat, options: BiomarkerExportOptions, outDir?: string): ExportResult {
  const directory = outDir ?? join(runDir, FILES.exports);
  const { columns, sources } = biomarkerTable(runDir, options);
  const samples = sampleTable(runDir);
  const biomarkersPath = join(directory, `biomarkers.${format}`);
  const samplesPath = join(directory, `samples.${format}`);
  writeExport(biomarkersPath, toFrame(columns), format);
  writeExport(samplesPath, samples, format);
  return {
    biomarkers: biomarkersPath,
    samples: samplesPath,
    biomarkerRows: columns.gene_id.length,
    sampleRows: samples.sample_id.length,
    sources,
  };
}
