import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { InputError } from '../util/errors.js';
import type { VaeConfig } from './config.js';
import { elementCount, networkLayout, ParameterSet, type NetworkLayout } from './parameters.js';

/**
 * Version of the saved-model format. A reader accepts every version up to its own; a change
 * that older readers cannot ignore raises it, and `loadModel` keeps reading the older layouts.
 * Version 2 added the linear decoder and the fixed input projection (stored as a tensor with
 * `trainable: false`).
 */
export const MODEL_FORMAT_VERSION = 2;

export const MODEL_CONFIG_FILE = 'config.json';
export const MODEL_WEIGHTS_FILE = 'weights.bin';

/** How to bring a new cohort to the encoder's input scale: normalize's normalization.json. */
export interface SavedNormalization {
  formatVersion: number;
  inputKind: 'counts' | 'normalized' | 'log';
  targetSum: number | null;
  clipNegative: boolean;
  log1p: boolean;
  /** Ids of the model's genes, in input-column order. */
  geneIds: string[];
  mean: number[];
  std: number[];
  scale: boolean;
  clip: number | null;
  /** Genes whose sum is the library size of count input, when normalize records them. */
  libraryGeneIds?: string[];
}

/** model/config.json. */
export interface SavedModelConfig {
  formatVersion: number;
  /** genevae version (and commit) that wrote the model. */
  writtenBy: string;
  architecture: VaeConfig;
  /** The resolved train options, for the record. */
  options: Record<string, unknown>;
  /** Gene ids of the input and output layers, in order. */
  genes: string[];
  normalization: SavedNormalization;
  weights: {
    file: string;
    dtype: 'float32';
    byteOrder: 'little';
    /**
     * Tensors in file order; offset and length count float32 elements. `trainable: false` marks
     * a fixed tensor (the input projection); absent means trainable.
     */
    tensors: { name: string; shape: number[]; offset: number; length: number; trainable?: boolean }[];
  };
}

export interface LoadedModel {
  config: SavedModelConfig;
  layout: NetworkLayout;
  parameters: ParameterSet;
  /** The fixed input projection [genes, dim], or null when the model has none. */
  projection: Float32Array | null;
}

/**
 * Writes config.json and weights.bin (float32, little-endian, layout order, then the fixed
 * input projection when the model has one) into `dir`.
 */
export function saveModel(
  dir: string,
  parameters: ParameterSet,
  details: Omit<SavedModelConfig, 'formatVersion' | 'weights'>,
  projection: Float32Array | null = null,
): void {
  mkdirSync(dir, { recursive: true });
  const layout = networkLayout(details.architecture);
  if ((layout.projection === null) !== (projection === null)) {
    throw new Error('saveModel: the input projection must be given exactly when the architecture has one');
  }
  const tensors: SavedModelConfig['weights']['tensors'] = [];
  const sources: Float32Array[] = [];
  let offset = 0;
  for (const spec of parameters.specs) {
    const length = elementCount(spec.shape);
    tensors.push({ name: spec.name, shape: spec.shape, offset, length });
    sources.push(parameters.get(spec.name));
    offset += length;
  }
  if (layout.projection && projection) {
    const length = elementCount(layout.projection.shape);
    if (projection.length !== length) throw new Error(`saveModel: the input projection has ${projection.length} values, expected ${length}`);
    tensors.push({ name: layout.projection.name, shape: layout.projection.shape, offset, length, trainable: false });
    sources.push(projection);
    offset += length;
  }
  const buffer = Buffer.alloc(offset * 4);
  tensors.forEach((tensor, t) => {
    const values = sources[t];
    for (let i = 0; i < values.length; i++) buffer.writeFloatLE(values[i], (tensor.offset + i) * 4);
  });
  writeFileAtomic(join(dir, MODEL_WEIGHTS_FILE), buffer);
  const config: SavedModelConfig = {
    formatVersion: MODEL_FORMAT_VERSION,
    ...details,
    weights: { file: MODEL_WEIGHTS_FILE, dtype: 'float32', byteOrder: 'little', tensors },
  };
  writeJsonAtomic(join(dir, MODEL_CONFIG_FILE), config);
}

/** Reads a model written by `saveModel`, checking the format version and every tensor's shape. */
export function loadModel(dir: string): LoadedModel {
  const configPath = join(dir, MODEL_CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new InputError(`no saved model: ${MODEL_CONFIG_FILE} is missing`, { file: configPath }, 'pass a run directory whose train stage has completed');
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as SavedModelConfig;
  if (!Number.isInteger(config.formatVersion) || config.formatVersion < 1 || config.formatVersion > MODEL_FORMAT_VERSION) {
    throw new InputError(
      `model format version ${config.formatVersion} is not supported (this genevae reads 1 to ${MODEL_FORMAT_VERSION})`,
      { file: configPath },
      'use the genevae version that wrote the model, or a later one',
    );
  }
  const layout = networkLayout(config.architecture);
  const weightsPath = join(dir, config.weights.file);
  const bytes = readFileSync(weightsPath);
  const byName = new Map(config.weights.tensors.map((t) => [t.name, t]));
  const read = (spec: { name: string; shape: number[] }): Float32Array => {
    const stored = byName.get(spec.name);
    if (!stored || stored.shape.join(',') !== spec.shape.join(',')) {
      throw new InputError(`tensor ${spec.name} is missing or has the wrong shape`, { file: weightsPath }, 'the model files are damaged or were edited');
    }
    if ((stored.offset + stored.length) * 4 > bytes.length) {
      throw new InputError(`tensor ${spec.name} extends past the end of the file`, { file: weightsPath }, 'the weights file is truncated');
    }
    const array = new Float32Array(stored.length);
    for (let i = 0; i < stored.length; i++) array[i] = bytes.readFloatLE((stored.offset + i) * 4);
    return array;
  };
  const values = new Map<string, Float32Array>();
  for (const spec of layout.parameters) values.set(spec.name, read(spec));
  const projection = layout.projection ? read(layout.projection) : null;
  return { config, layout, parameters: new ParameterSet(layout.parameters, values), projection };
}
