import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initParameters } from '../../src/model/parameters.js';
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
