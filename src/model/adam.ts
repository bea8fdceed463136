import type { ParameterSet } from './parameters.js';

/** Adam hyper-parameters; the defaults are PyTorch's. */
export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam (Kingma and Ba, 2015) over Float32Array parameters, as torch.optim.Adam without weight
 * decay. Written as one JS loop per parameter because a tfjs version costs about ten backend
 * ops per parameter and step, several times the time of this loop on the wasm backend.
 */
export class Adam {
  private readonly firstMoments = new Map<string, Float32Array>();
  private readonly secondMoments = new Map<string, Float32Array>();
  private step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(readonly options: AdamOptions) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
  }

  /** Applies one update with the gradients given (same names and sizes as the parameters). */
  update(parameters: ParameterSet, gradients: Map<string, Float32Array>): void {
    this.step += 1;
    const { beta1, beta2, epsilon } = this;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    const stepSize = this.options.learningRate / correction1;
    const sqrtCorrection2 = Math.sqrt(correction2);
    for (const [name, values] of parameters.values) {
      const gradient = gradients.get(name);
      if (!gradient || gradient.length !== values.length) throw new Error(`Adam: missing or mis-sized gradient for ${name}`);
      let m = this.firstMoments.get(name);
      let v = this.secondMoments.get(name);
      if (!m || !v) {
        m = new Float32Array(values.length);
        v = new Float32Array(values.length);
        this.firstMoments.set(name, m);
        this.secondMoments.set(name, v);
      }
      for (let i = 0; i < values.length; i++) {
        const g = gradient[i];
        const mi = beta1 * m[i] + (1 - beta1) * g;
        const vi = beta2 * v[i] + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        values[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtCorrection2 + epsilon);
      }
    }
  }
}
