import { Worker } from 'node:worker_threads';
import { initBackend, type BackendChoice, type BackendInfo } from './backend.js';
import { usesTransposedInput, type VaeConfig } from './config.js';
import { withTransposedInput } from './data.js';
import { networkLayout, ParameterSet } from './parameters.js';
import type { GradientEngine } from './trainer.js';
import { VaeModel, type Batch, type BatchGradients, type ExampleLosses } from './vae.js';

/** The two ends of a worker's message channel: a worker_threads Worker, its parentPort, or a MessagePort. */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

type Request =
  | { type: 'init'; config: VaeConfig; backend: BackendChoice; parameters: [string, Float32Array][]; projection: Float32Array | null }
  | { type: 'upload' }
  | { type: 'gradients'; id: number; batch: Batch; klWeight: number; clipNorm: number | null }
  | { type: 'losses'; id: number; batch: Batch }
  | { type: 'close' };

type Reply =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'gradients'; id: number; result: BatchGradients }
  | { type: 'losses'; id: number; result: ExampleLosses }
  | { type: 'error'; id: number; message: string };

/**
 * Serves the worker side of the pool with its own backend and model copy. The parameters are
 * shared memory written by the main thread's optimizer, and 'upload' makes the worker copy
 * them to its backend. Runs in a worker thread (gradient-worker.ts), or on a MessagePort in tests.
 */
export function serveGradients(endpoint: MessageEndpoint): void {
  let model: VaeModel | null = null;
  let parameters: ParameterSet | null = null;
  endpoint.on('message', async (raw) => {
    const request = raw as Request;
    try {
      switch (request.type) {
        case 'init': {
          const backend = await initBackend(request.backend);
          const layout = networkLayout(request.config);
          parameters = new ParameterSet(layout.parameters, new Map(request.parameters));
          model = new VaeModel(request.config, layout, parameters, { projection: request.projection ?? undefined });
          endpoint.postMessage({ type: 'ready', backend } satisfies Reply);
          return;
        }
        case 'upload':
          model!.upload(parameters!);
          return;
        case 'gradients': {
          const batch = usesTransposedInput(model!.config) ? withTransposedInput(request.batch) : request.batch;
          const result = model!.gradients(batch, { klWeight: request.klWeight, clipNorm: request.clipNorm });
          const transfer = [...result.sums.values()].map((values) => values.buffer as ArrayBuffer);
          endpoint.postMessage({ type: 'gradients', id: request.id, result } satisfies Reply, transfer);
          return;
        }
        case 'losses':
          endpoint.postMessage({ type: 'losses', id: request.id, result: model!.losses(request.batch) } satisfies Reply);
          return;
        case 'close':
          model?.dispose();
          model = null;
          return;
      }
    } catch (error) {
      endpoint.postMessage({ type: 'error', id: 'id' in request ? request.id : -1, message: (error as Error).stack ?? String(error) } satisfies Reply);
    }
  });
}

/** Rows [start, end) of a batch, without the transposed input (each worker builds its own). */
export function sliceBatch(batch: Batch, start: number, end: number, config: VaeConfig): Batch {
  const genes = config.nGenes;
  const rows = (values: Float32Array | null, width: number) => (values ? values.slice(start * width, end * width) : null);
  return {
    size: end - start,
    x: rows(batch.x, genes)!,
    xTransposed: null,
    counts: rows(batch.counts, genes),
    logLibrary: rows(batch.logLibrary, 1),
    logFactorialSum: rows(batch.logFactorialSum, 1),
    noise: rows(batch.noise, config.latentDim)!,
    masks: batch.masks.map((mask, i) => rows(mask, config.hiddenDims[i])),
  };
}

/** Sums the parts' gradient sums and loss sums and concatenates their per-example norms. */
export function combineGradients(parts: BatchGradients[]): BatchGradients {
  const sums = new Map<string, Float32Array>();
  for (const part of parts) {
    for (const [name, values] of part.sums) {
      const total = sums.get(name);
      if (!total) sums.set(name, values);
      else for (let i = 0; i < values.length; i++) total[i] += values[i];
    }
  }
  const norms = parts.every((part) => part.norms) ? Float32Array.from(parts.flatMap((part) => Array.from(part.norms!))) : null;
  return {
    sums,
    reconstructionSum: parts.reduce((total, part) => total + part.reconstructionSum, 0),
    klSum: parts.reduce((total, part) => total + part.klSum, 0),
    norms,
  };
}

/**
 * A GradientEngine that splits each batch across worker threads, each with its own tfjs
 * backend. Per-example clipping makes each part's clipped sum independent of the others, so
 * the sum of the parts equals the single-thread result up to float32 rounding.
 */
export class WorkerPool implements GradientEngine {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();

  private constructor(
    private readonly endpoints: MessageEndpoint[],
    private readonly config: VaeConfig,
    private readonly shared: ParameterSet,
    private readonly closeEndpoints: () => Promise<void>,
  ) {
    for (const endpoint of endpoints) {
      endpoint.on('message', (raw) => {
        const reply = raw as Reply;
        if (reply.type === 'ready') return;
        const waiting = this.pending.get(reply.id);
        if (!waiting) return;
        this.pending.delete(reply.id);
        if (reply.type === 'error') waiting.reject(new Error(`gradient worker failed: ${reply.message}`));
        else waiting.resolve(reply);
      });
    }
  }

  /**
   * Starts `count` workers (or uses the endpoints `connect` returns, in tests) holding a model
   * with `parameters` (and the fixed input `projection`, when the model has one). The returned pool's `parameters` are shared memory: train with them, so
   * that every optimizer step is visible to the workers.
   */
  static async start(
    count: number,
    config: VaeConfig,
    parameters: ParameterSet,
    backend: BackendChoice,
    { connect, projection = null }: { connect?: () => MessageEndpoint; projection?: Float32Array | null } = {},
  ): Promise<{ pool: WorkerPool; parameters: ParameterSet; backends: BackendInfo[] }> {
    const sharedValues = new Map<string, Float32Array>();
    for (const [name, values] of parameters.values) {
      const shared = new Float32Array(new SharedArrayBuffer(values.byteLength));
      shared.set(values);
      sharedValues.set(name, shared);
    }
    const shared = new ParameterSet(parameters.specs, sharedValues);
    const workers: Worker[] = [];
    const endpoints = Array.from({ length: count }, () => {
      if (connect) return connect();
      const worker = new Worker(new URL('./gradient-worker.js', import.meta.url));
      worker.unref();
      workers.push(worker);
      return worker;
    });
    const backends = await Promise.all(
      endpoints.map(
        (endpoint) =>
          new Promise<BackendInfo>((resolve, reject) => {
            endpoint.on('message', (raw) => {
              const reply = raw as Reply;
              if (reply.type === 'ready') resolve(reply.backend);
              if (reply.type === 'error' && reply.id === -1) reject(new Error(`gradient worker failed to start: ${reply.message}`));
            });
            endpoint.postMessage({ type: 'init', config, backend, parameters: [...sharedValues], projection } satisfies Request);
          }),
      ),
    );
    const close = async () => {
      await Promise.all(workers.map((worker) => worker.terminate()));
    };
    return { pool: new WorkerPool(endpoints, config, shared, close), parameters: shared, backends };
  }

  private request(endpoint: MessageEndpoint, message: Request & { id: number }): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      endpoint.postMessage(message);
    });
  }

  /** Contiguous row ranges, one per worker that gets rows. */
  private ranges(size: number): [number, number][] {
    const parts = Math.min(this.endpoints.length, size);
    return Array.from({ length: parts }, (_, i) => [Math.floor((i * size) / parts), Math.floor(((i + 1) * size) / parts)] as [number, number]);
  }

  async gradients(batch: Batch, options: { klWeight: number; clipNorm: number | null }): Promise<BatchGradients> {
    const replies = await Promise.all(
      this.ranges(batch.size).map(([start, end], i) =>
        this.request(this.endpoints[i], { type: 'gradients', id: this.nextId++, batch: sliceBatch(batch, start, end, this.config), ...options }),
      ),
    );
    return combineGradients(replies.map((reply) => (reply as Extract<Reply, { type: 'gradients' }>).result));
  }

  async losses(batch: Batch): Promise<ExampleLosses> {
    const replies = await Promise.all(
      this.ranges(batch.size).map(([start, end], i) =>
        this.request(this.endpoints[i], { type: 'losses', id: this.nextId++, batch: sliceBatch(batch, start, end, this.config) }),
      ),
    );
    const results = replies.map((reply) => (reply as Extract<Reply, { type: 'losses' }>).result);
    return {
      reconstruction: Float32Array.from(results.flatMap((result) => Array.from(result.reconstruction))),
      kl: Float32Array.from(results.flatMap((result) => Array.from(result.kl))),
    };
  }

  async upload(parameters: ParameterSet): Promise<void> {
    if (parameters !== this.shared) {
      for (const [name, values] of parameters.values) this.shared.get(name).set(values);
    }
    for (const endpoint of this.endpoints) endpoint.postMessage({ type: 'upload' } satisfies Request);
  }

  async close(): Promise<void> {
    for (const endpoint of this.endpoints) endpoint.postMessage({ type: 'close' } satisfies Request);
    await this.closeEndpoints();
  }
}
