import { existsSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/model/backend.js';
import { assembleBatch } from '../../src/model/data.js';
import { initParameters } from '../../src/model/parameters.js';
import { serveGradients, WorkerPool, type MessageEndpoint } from '../../src/model/worker-pool.js';
import { VaeModel } from '../../src/model/vae.js';
import { Rng } from '../../src/util/rng.js';
import { smallConfig, syntheticCohort } from './synthetic.js';

await initBackend('wasm');

const cohort = syntheticCohort(60, 20);
const config = smallConfig(20, { likelihood: 'nb', prior: 'mixture', mixtureComponents: 2 });

/** A worker served on a MessagePort in this thread: the pool's protocol without threads. */
function inThreadWorker(): MessageEndpoint {
  const channel = new MessageChannel();
  serveGradients(channel.port2);
  return channel.port1;
}

function batchOf(size: number) {
  const rows = Int32Array.from({ length: size }, (_, i) => i * 2);
  return assembleBatch(cohort.data, config, rows, { noise: new Rng(2), dropout: new Rng(3), transposed: true });
}

function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

describe('WorkerPool', () => {
  it('splits a batch into the same clipped sums', async () => {
    const { layout, parameters } = initParameters(config, new Rng(1));
    const single = new VaeModel(config, layout, parameters);
    const batch = batchOf(25);
    const expected = single.gradients(batch, { klWeight: 0.5, clipNorm: 3 });
    single.dispose();

    const { pool } = await WorkerPool.start(3, config, parameters, 'wasm', { connect: inThreadWorker });
    const actual = await pool.gradients(batch, { klWeight: 0.5, clipNorm: 3 });
    await pool.close();
    for (const [name, values] of expected.sums) {
      expect(maxRelativeDifference(actual.sums.get(name)!, values), name).toBeLessThan(1e-4);
    }
    expect(Array.from(actual.norms!).map((n) => n.toPrecision(4))).toEqual(Array.from(expected.norms!).map((n) => n.toPrecision(4)));
    expect(actual.reconstructionSum).toBeCloseTo(expected.reconstructionSum, 1);
  });

  it('sees optimizer steps through shared parameters', async () => {
    const { parameters } = initParameters(config, new Rng(1));
    const { pool, parameters: shared } = await WorkerPool.start(2, config, parameters, 'wasm', { connect: inThreadWorker });
    const batch = batchOf(8);
    const before = await pool.gradients(batch, { klWeight: 1, clipNorm: null });
    shared.get('decoder.head.bias').fill(0.5);
    await pool.upload(shared);
    const after = await pool.gradients(batch, { klWeight: 1, clipNorm: null });
    await pool.close();
    expect(after.reconstructionSum).not.toBe(before.reconstructionSum);
  });

  const compiledPool = new URL('../../dist/src/model/worker-pool.js', import.meta.url);
  it.skipIf(!existsSync(compiledPool))('runs in worker threads when built', async () => {
    const compiled = (await import(compiledPool.href)) as { WorkerPool: typeof WorkerPool };
    const { parameters } = initParameters(config, new Rng(1));
    const { pool, backends } = await compiled.WorkerPool.start(2, config, parameters, 'wasm');
    const result = await pool.gradients(batchOf(10), { klWeight: 1, clipNorm: 1 });
    await pool.close();
    expect(backends.map((backend) => backend.name)).toEqual(['wasm', 'wasm']);
    expect(result.norms).toHaveLength(10);
  });
});
