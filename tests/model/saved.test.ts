import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawProjection, initParameters } from '../../src/model/parameters.js';
import { loadModel, MODEL_FORMAT_VERSION, saveModel, type SavedNormalization } from '../../src/model/saved.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { smallConfig } from './synthetic.js';

const config = smallConfig(12, { prior: 'mixture', mixtureComponents: 3, likelihood: 'zinb' });
const normalization: SavedNormalization = {
  formatVersion: 1,
  inputKind: 'counts',
  targetSum: 1e4,
  clipNegative: false,
  log1p: true,
  geneIds: Array.from({ length: 12 }, (_, j) => `g${j}`),
  mean: new Array(12).fill(0.5),
  std: new Array(12).fill(2),
  scale: true,
  clip: 10,
};

function saved(): { dir: string; values: Map<string, Float32Array> } {
  const dir = mkdtempSync(join(tmpdir(), 'genevae-model-'));
  const { parameters } = initParameters(config, new Rng(4));
  saveModel(dir, parameters, { writtenBy: 'test', architecture: config, options: {}, genes: normalization.geneIds, normalization });
  return { dir, values: parameters.values };
}

describe('saved model', () => {
  it('loads the weights it saved', () => {
    const { dir, values } = saved();
    const loaded = loadModel(dir);
    for (const [name, expected] of values) expect(Array.from(loaded.parameters.get(name)), name).toEqual(Array.from(expected));
    expect(loaded.config.architecture).toEqual(config);
    expect(loaded.config.formatVersion).toBe(MODEL_FORMAT_VERSION);
  });

  it('loads a tied model and its input projection', () => {
    const dir = mkdtempSync(join(tmpdir(), 'genevae-model-'));
    const tied = smallConfig(12, { hiddenDims: [], dropout: 0, layerNorm: false, decoder: 'tied' });
    const { parameters } = initParameters(tied, new Rng(5));
    saveModel(dir, parameters, { writtenBy: 'test', architecture: tied, options: {}, genes: normalization.geneIds, normalization });
    expect(loadModel(dir).parameters.get('tied.weight')).toEqual(parameters.get('tied.weight'));

    const projected = smallConfig(12, { inputProjection: { dim: 4, seed: 2 } });
    const projectedParameters = initParameters(projected, new Rng(6)).parameters;
    const projection = drawProjection(12, projected.inputProjection!);
    saveModel(dir, projectedParameters, { writtenBy: 'test', architecture: projected, options: {}, genes: normalization.geneIds, normalization }, projection);
    expect(Array.from(loadModel(dir).projection!)).toEqual(Array.from(projection));
  });

  it('loads a model written before format version 2', () => {
    const { dir, values } = saved();
    const path = join(dir, 'config.json');
    const document = JSON.parse(readFileSync(path, 'utf8')) as { formatVersion: number };
    document.formatVersion = 1;
    writeFileSync(path, JSON.stringify(document));
    const loaded = loadModel(dir);
    expect(loaded.projection).toBeNull();
    expect(loaded.parameters.get('decoder.head.weight')).toEqual(values.get('decoder.head.weight'));
  });

  it('rejects a later format version', () => {
    const { dir } = saved();
    const path = join(dir, 'config.json');
    const document = JSON.parse(readFileSync(path, 'utf8')) as { formatVersion: number };
    document.formatVersion = MODEL_FORMAT_VERSION + 1;
    writeFileSync(path, JSON.stringify(document));
    expect(() => loadModel(dir)).toThrow(InputError);
  });

  it('rejects a truncated weights file', () => {
    const { dir } = saved();
    const path = join(dir, 'weights.bin');
    writeFileSync(path, readFileSync(path).subarray(0, 100));
    expect(() => loadModel(dir)).toThrow(/truncated/);
  });
});
