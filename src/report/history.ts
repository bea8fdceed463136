import { isRecord } from './fields.js';
import type { RunData } from './run-data.js';

/** One epoch of training as the report plots it; null where the train stage did not record the value. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number | null;
  validationLoss: number | null;
  kl: number | null;
  klWeight: number | null;
  /** Epsilon spent up to the end of this epoch (DP runs only). */
  epsilon: number | null;
  reconstruction: number | null;
  /** Share of examples whose gradient norm exceeded the clipping norm (DP runs only). */
  clippedFraction: number | null;
  seconds: number | null;
}

/** Column names accepted for each value, in order of preference (camelCase summaries, snake_case tables). */
const KEYS: Record<Exclude<keyof EpochRecord, 'epoch'>, string[]> = {
  trainLoss: ['trainLoss', 'train_loss', 'loss'],
  validationLoss: ['validationLoss', 'valLoss', 'validation_loss', 'val_loss'],
  kl: ['kl', 'trainKl', 'train_kl', 'klDivergence'],
  klWeight: ['klWeight', 'kl_weight', 'beta'],
  epsilon: ['epsilon', 'epsilonSpent', 'epsilon_spent'],
  reconstruction: ['reconstruction', 'trainReconstruction'],
  clippedFraction: ['clippedFraction', 'clipped_fraction'],
  seconds: ['seconds', 'epochSeconds', 'epoch_seconds'],
};

function pick(row: Record<string, unknown>, keys: string[]): number | null {
  for (const key of keys) {
    const value = row[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return null;
}

function toRecords(rows: Record<string, unknown>[]): EpochRecord[] {
  return rows.map((row, index) => ({
    epoch: pick(row, ['epoch']) ?? index + 1,
    trainLoss: pick(row, KEYS.trainLoss),
    validationLoss: pick(row, KEYS.validationLoss),
    kl: pick(row, KEYS.kl),
    klWeight: pick(row, KEYS.klWeight),
    epsilon: pick(row, KEYS.epsilon),
    reconstruction: pick(row, KEYS.reconstruction),
    clippedFraction: pick(row, KEYS.clippedFraction),
    seconds: pick(row, KEYS.seconds),
  }));
}

/**
 * Reads the training history: the train summary's `history` array when present, else
 * 03-train/history.json, else the columns of 03-train/history.arrow. Empty when none exists.
 */
export function readHistory(data: RunData): EpochRecord[] {
  const inSummary = data.summary('train').array('history').filter(isRecord);
  if (inSummary.length > 0) return toRecords(inSummary);
  const json = data.json<unknown>('train', 'history.json');
  const jsonRows = Array.isArray(json) ? json : isRecord(json) && Array.isArray(json.epochs) ? json.epochs : [];
  if (jsonRows.length > 0) return toRecords(jsonRows.filter(isRecord));
  const frame = data.frame('train', 'history.arrow');
  if (!frame) return [];
  const columns = Object.keys(frame);
  const length = columns.length ? frame[columns[0]].length : 0;
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < length; i++) {
    const row: Record<string, unknown> = {};
    for (const column of columns) row[column] = (frame[column] as ArrayLike<unknown>)[i];
    rows.push(row);
  }
  return toRecords(rows);
}
