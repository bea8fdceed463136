import { createRequire } from 'node:module';
import type { SvmConstructor, SvmInstance } from 'libsvm-js';
import type { Rng } from '../util/rng.js';
import { selectRows, toRowArrays, type Features } from './features.js';
import type { Classifier, TrainingSet } from './learner.js';
import { stratifiedSubsample } from './subsample.js';

export interface SvmOptions {
  /** Penalty C of the C-SVC. */
  C: number;
  /** RBF kernel width; 'scale' is 1 / (d * variance of the training features), as scikit-learn's default. */
  gamma: 'scale' | number;
  /**
   * Largest training set: above it the SVM trains on a stratified subsample of this many rows
   * drawn from the rng; 0 trains on every row.
   */
  maxSamples: number;
}

export interface SvmState {
  kind: 'svm';
  nClasses: number;
  gamma: number;
  /** libsvm's own text serialization of the model. */
  model: string;
  /** Classes present at training, in the order of libsvm's probability estimates. */
  labels: number[];
  /** Set when training saw one class only: it then predicts that class with probability 1. */
  constantClass: number | null;
  /** Rows the model was trained on: all training rows, or the subsample when they exceeded maxSamples. */
  trainedOn: number;
}

let libsvm: Promise<SvmConstructor> | null = null;

/**
 * Loads the WebAssembly build of libsvm-js once per process (the asm.js build is about 4x
 * slower: 137 ms against 30 ms for one 300-sample fit on this machine). Node's fetch cannot
 * read a file path, so fetch is hidden during the load: Emscripten then reads the .wasm from
 * disk instead of printing a failed streaming-compile warning first.
 */
export function loadLibsvm(): Promise<SvmConstructor> {
  if (!libsvm) {
    libsvm = (async () => {
      const saved = globalThis.fetch;
      const listeners = new Set(process.listeners('unhandledRejection'));
      (globalThis as { fetch?: unknown }).fetch = undefined;
      try {
        // require, not import: the package's CommonJS export is a promise, which ES-module
        // interop layers (vitest's among them) mistake for a thenable namespace.
        const loaded = createRequire(import.meta.url)('libsvm-js') as Promise<SvmConstructor>;
        return await loaded;
      } finally {
        globalThis.fetch = saved;
        // Emscripten's loader installs a handler that exits with status 1, silently, on any
        // unhandled promise rejection in the process; the CLI reports errors itself.
        for (const listener of process.listeners('unhandledRejection')) {
          if (!listeners.has(listener)) process.off('unhandledRejection', listener);
        }
      }
    })();
  }
  return libsvm;
}

/**
 * C-SVC with an RBF kernel from libsvm 3.22, the C++ library that scikit-learn's SVC wraps,
 * through libsvm-js. The probabilities come from libsvm's Platt scaling, and class weights
 * scale C per class as scikit-learn's class_weight does.
 * NOTE: libsvm draws the Platt-scaling folds from C rand(), whose state is global to the
 * WebAssembly instance and which libsvm-js offers no way to seed. The probabilities repeat
 * from one process to the next (the same fits run in the same order), but not when a
 * process fits the same data twice, and they do not depend on the run's seed.
 */
export class SupportVectorMachine implements Classifier {
  private state: SvmState | null = null;
  private instance: SvmInstance | null = null;

  constructor(
    private readonly options: SvmOptions,
    private readonly SVM: SvmConstructor,
    private readonly rng: Rng,
  ) {}

  fit(train: TrainingSet): void {
    const { nClasses, sampleWeight } = train;
    let { x, y } = train;
    this.free();
    if (this.options.maxSamples > 0 && y.length > this.options.maxSamples) {
      const rows = stratifiedSubsample(y, nClasses, this.options.maxSamples, this.rng.fork('subsample'));
      x = selectRows(x, rows);
      y = Int32Array.from(rows, (row) => train.y[row]);
    }
    const gamma = this.options.gamma === 'scale' ? scaleGamma(train.x) : this.options.gamma;
    const present = [...new Set(y)].sort((a, b) => a - b);
    if (present.length < 2) {
      this.state = { kind: 'svm', nClasses, gamma, model: '', labels: present, constantClass: present[0] ?? 0, trainedOn: y.length };
      return;
    }
    // sampleWeight is the class weight of each sample's class, so any member gives its class's weight.
    const weight: Record<number, number> = {};
    for (let i = 0; i < train.y.length; i++) weight[train.y[i]] = sampleWeight[i];
    const instance = new this.SVM({
      type: this.SVM.SVM_TYPES.C_SVC,
      kernel: this.SVM.KERNEL_TYPES.RBF,
      cost: this.options.C,
      gamma,
      probabilityEstimates: true,
      weight,
      quiet: true,
    });
    silenceStdout(() => instance.train(toRowArrays(x), Array.from(y)));
    this.instance = instance;
    this.state = {
      kind: 'svm',
      nClasses,
      gamma,
      model: instance.serializeModel(),
      labels: instance.getLabels(),
      constantClass: null,
      trainedOn: y.length,
    };
  }

  predictProba(x: Features): Float64Array {
    const state = this.requireState();
    const { nClasses } = state;
    const out = new Float64Array(x.nRows * nClasses);
    if (state.constantClass !== null) {
      for (let i = 0; i < x.nRows; i++) out[i * nClasses + state.constantClass] = 1;
      return out;
    }
    this.instance ??= this.SVM.load(state.model);
    const rows = toRowArrays(x);
    for (let i = 0; i < x.nRows; i++) {
      const { estimates } = this.instance.predictOneProbability(rows[i]);
      for (const { label, probability } of estimates) out[i * nClasses + label] = probability;
    }
    return out;
  }

  /** Frees the model's WebAssembly memory, which the garbage collector does not reclaim. */
  free(): void {
    this.instance?.free();
    this.instance = null;
  }

  toJSON(): SvmState {
    return this.requireState();
  }

  static fromJSON(state: SvmState, options: SvmOptions, SVM: SvmConstructor, rng: Rng): SupportVectorMachine {
    const model = new SupportVectorMachine(options, SVM, rng);
    model.state = state;
    return model;
  }

  private requireState(): SvmState {
    if (!this.state) throw new Error('SVM: predict called before fit');
    return this.state;
  }
}

/** scikit-learn's gamma='scale': 1 / (n_features * variance of all feature values). */
function scaleGamma(x: Features): number {
  let sum = 0;
  let sumSquares = 0;
  for (const v of x.data) {
    sum += v;
    sumSquares += v * v;
  }
  const n = x.data.length;
  const variance = sumSquares / n - (sum / n) ** 2;
  return variance > 0 ? 1 / (x.nCols * variance) : 1;
}

/**
 * Runs `work` with process.stdout muted. libsvm-js printed its solver progress on some fits
 * despite its quiet option (thousands of lines on a 1,400-sample cohort), which corrupted
 * output that users pipe. The training call is synchronous, so no other output is dropped.
 */
function silenceStdout<T>(work: () => T): T {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return work();
  } finally {
    process.stdout.write = write;
  }
}
