import { existsSync } from 'node:fs';
import { FixedSizeList } from 'apache-arrow';
import { readTable, tableToDense, tableToFrame } from '../io/arrow.js';
import type { DenseMatrix } from '../matrix/dense.js';
import { InputError } from '../util/errors.js';

/** Posterior means of the latents, one row per sample. */
export interface Latents {
  sampleIds: string[];
  z: DenseMatrix;
  /** Mixture-prior component of each sample, when the VAE used a Gaussian-mixture prior. */
  priorComponent: Int32Array | null;
}

/** Stops with a message naming the stage that writes `path` when it is missing. */
export function requireFile(path: string, writer: string): void {
  if (!existsSync(path)) {
    throw new InputError(`${path} not found`, { file: path }, `run 'genevae ${writer}' on this run directory first`);
  }
}

/** Reads latent.arrow (sample_id, z, optional prior_component) and checks that every value is finite. */
export function readLatents(path: string): Latents {
  requireFile(path, 'train');
  const table = readTable(path);
  const zField = table.schema.fields.find((field) => field.name === 'z');
  if (!zField || !(zField.type instanceof FixedSizeList)) {
    throw new InputError("column 'z' is missing or is not a FixedSizeList<Float32>", { file: path, column: 'z' });
  }
  const idColumn = table.getChild('sample_id');
  if (!idColumn) throw new InputError("column 'sample_id' is missing", { file: path, column: 'sample_id' });
  const sampleIds = Array.from(idColumn, (value) => String(value));
  const z = tableToDense(table, 'z', path);
  for (let i = 0; i < z.data.length; i++) {
    if (!Number.isFinite(z.data[i])) {
      const sample = sampleIds[Math.floor(i / z.nCols)];
      throw new InputError(
        `latent value ${z.data[i]} in dimension ${i % z.nCols} is not finite`,
        { file: path, column: 'z', sample },
        'the model diverged; retrain with a lower learning rate',
      );
    }
  }
  const priorColumn = table.getChild('prior_component');
  const priorComponent = priorColumn ? Int32Array.from(priorColumn.toArray() as ArrayLike<number>) : null;
  return { sampleIds, z, priorComponent };
}

/** Labels of the given samples (null where a sample has none), or null when obs has no label column. */
export function readLabels(obsPath: string, sampleIds: readonly string[]): (string | null)[] | null {
  requireFile(obsPath, 'ingest');
  const obs = tableToFrame(readTable(obsPath));
  if (!('label' in obs)) return null;
  const ids = obs.sample_id as (string | null)[] | undefined;
  if (!ids) throw new InputError("column 'sample_id' is missing", { file: obsPath, column: 'sample_id' });
  const labelOf = new Map<string, string | null>();
  const labels = obs.label as ArrayLike<unknown>;
  for (let i = 0; i < ids.length; i++) {
    const value = labels[i];
    labelOf.set(String(ids[i]), value === null || value === undefined || value === '' ? null : String(value));
  }
  return sampleIds.map((id) => {
    if (!labelOf.has(id)) {
      throw new InputError(`sample is in the latents but not in obs`, { file: obsPath, sample: id }, 'rerun the pipeline from ingest');
    }
    return labelOf.get(id)!;
  });
}

/** Integer codes of labelled samples: classes sorted, `codes[i]` = -1 for a sample without a label. */
export function encodeLabels(labels: readonly (string | null)[]): { classes: string[]; codes: Int32Array } {
  const classes = [...new Set(labels.filter((label): label is string => label !== null))].sort();
  const index = new Map(classes.map((label, i) => [label, i]));
  const codes = Int32Array.from(labels, (label) => (label === null ? -1 : index.get(label)!));
  return { classes, codes };
}
