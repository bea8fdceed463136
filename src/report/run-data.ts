import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { readTable, tableToDense, tableToFrame, type Frame } from '../io/arrow.js';
import type { DenseMatrix } from '../matrix/dense.js';
import { FILES, STAGES, stageFile, type StageName } from '../run/layout.js';
import { readStageSummary, type Manifest, type StageSummaryFile } from '../run/runner.js';
import { Fields } from './fields.js';

/** A dense per-sample table (latents, UMAP coordinates) with its sample ids. */
export interface SampleMatrix {
  sampleIds: string[];
  matrix: DenseMatrix;
}

/**
 * A run's recorded outputs as the report reads them: the manifest, each completed stage's
 * summary.json, and the stage tables, read lazily. Nothing here throws on a missing or unreadable file;
 * it returns null and records the problem, which the report lists.
 */
export class RunData {
  readonly manifest: Manifest | null;
  readonly summaries: Partial<Record<StageName, StageSummaryFile>> = {};
  /** Files that exist but could not be read, with the error, for the report's warnings. */
  readonly problems: string[] = [];
  private readonly tables = new Map<string, Table | null>();

  constructor(readonly runDir: string) {
    this.manifest = this.readJson<Manifest>(join(runDir, FILES.manifest));
    for (const stage of STAGES) {
      if (stage === 'report') continue;
      try {
        const summary = readStageSummary(runDir, stage);
        if (summary) this.summaries[stage] = summary;
      } catch (error) {
        this.problems.push(`${stage}/summary.json could not be read: ${(error as Error).message}`);
      }
    }
  }

  get runId(): string {
    return this.manifest?.runId ?? this.runDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run';
  }

  /** Returns true when the stage completed (its summary.json exists). */
  completed(stage: StageName): boolean {
    return this.summaries[stage] !== undefined;
  }

  /** The stage's summary fields, typed by the stage's own summary interface; empty when the stage has not run. */
  summary<T = Record<string, unknown>>(stage: StageName): Fields<T> {
    return new Fields<T>(this.summaries[stage]?.summary);
  }

  warnings(stage: StageName): string[] {
    const warnings = this.summaries[stage]?.warnings;
    return Array.isArray(warnings) ? warnings.filter((w): w is string => typeof w === 'string') : [];
  }

  seconds(stage: StageName): number | null {
    const fromSummary = this.summaries[stage]?.seconds;
    if (typeof fromSummary === 'number') return fromSummary;
    const fromManifest = this.manifest?.stages?.[stage]?.seconds;
    return typeof fromManifest === 'number' ? fromManifest : null;
  }

  path(stage: StageName, file: string): string {
    return stageFile(this.runDir, stage, file);
  }

  /** Reads an Arrow table written by a stage; null when it is missing or unreadable. */
  table(stage: StageName, file: string): Table | null {
    const path = this.path(stage, file);
    if (this.tables.has(path)) return this.tables.get(path)!;
    let table: Table | null = null;
    if (existsSync(path)) {
      try {
        table = readTable(path);
      } catch (error) {
        this.problems.push(`${stage}/${file} could not be read: ${(error as Error).message}`);
      }
    }
    this.tables.set(path, table);
    return table;
  }

  /** Reads a table's plain columns as a frame; list columns come back as text, so read those with `sampleMatrix`. */
  frame(stage: StageName, file: string): Frame | null {
    const table = this.table(stage, file);
    return table ? tableToFrame(table) : null;
  }

  /** Reads a table of sample_id plus one FixedSizeList<Float32> column as ids and a dense matrix. */
  sampleMatrix(stage: StageName, file: string, column: string): SampleMatrix | null {
    const table = this.table(stage, file);
    if (!table) return null;
    try {
      const ids = table.getChild('sample_id');
      if (!ids) throw new Error("column 'sample_id' is missing");
      const matrix = tableToDense(table, column, `${stage}/${file}`);
      return { sampleIds: Array.from(ids, (id) => String(id)), matrix };
    } catch (error) {
      this.problems.push(`${stage}/${file} could not be read: ${(error as Error).message}`);
      return null;
    }
  }

  /** Reads the per-sample table with labels and metadata: ingest's obs, else normalize's (no labels). */
  obs(): Frame | null {
    return this.frame('ingest', FILES.obs) ?? this.frame('normalize', FILES.obs);
  }

  /** A JSON file written by a stage, or null. */
  json<T>(stage: StageName, file: string): T | null {
    return this.readJson<T>(this.path(stage, file));
  }

  private readJson<T>(path: string): T | null {
    if (!existsSync(path)) return null;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch (error) {
      this.problems.push(`${path} could not be read: ${(error as Error).message}`);
      return null;
    }
  }
}

/** Labels per sample (null where missing), or null when obs has no label column. */
export function labelsOf(obs: Frame | null): (string | null)[] | null {
  if (!obs || !('label' in obs)) return null;
  return Array.from(obs.label as ArrayLike<unknown>, (value) =>
    value === null || value === undefined || value === '' ? null : String(value),
  );
}
