import type { Features } from './features.js';
import { minimizeLbfgs } from './lbfgs.js';
import type { Classifier, TrainingSet } from './learner.js';

export interface LogisticOptions {
  /** Inverse L2 regularization strength, as scikit-learn's C. */
  C: number;
  maxIterations: number;
}

export interface LogisticState {
  kind: 'logistic';
  nFeatures: number;
  nClasses: number;
  /** Row-major nClasses x nFeatures. */
  coefficients: number[];
  intercepts: number[];
}

/**
 * Multinomial logistic regression with an L2 penalty, fitted by L-BFGS. The objective is
 * scikit-learn's (lbfgs solver, multinomial): C * sum_i w_i * cross-entropy_i + 0.5 * ||W||^2,
 * with unpenalized intercepts. Written by hand because ml-logistic-regression 2.0.0 fits
 * one-vs-rest by fixed-step gradient descent without a penalty or sample weights.
 */
export class LogisticRegression implements Classifier {
  private state: LogisticState | null = null;

  constructor(private readonly options: LogisticOptions) {}

  fit(train: TrainingSet): void {
    const { x, y, nClasses, sampleWeight } = train;
    const d = x.nCols;
    const width = d + 1;
    const inverseC = 1 / this.options.C;
    const logits = new Float64Array(nClasses);

    // Parameters: per class, d coefficients then the intercept.
    const objective = (params: Float64Array, gradient: Float64Array): number => {
      gradient.fill(0);
      let loss = 0;
      for (let i = 0; i < x.nRows; i++) {
        const w = sampleWeight[i];
        if (w === 0) continue;
        const offset = i * d;
        let max = -Infinity;
        for (let k = 0; k < nClasses; k++) {
          let z = params[k * width + d];
          for (let j = 0; j < d; j++) z += params[k * width + j] * x.data[offset + j];
          logits[k] = z;
          if (z > max) max = z;
        }
        let sum = 0;
        for (let k = 0; k < nClasses; k++) sum += Math.exp(logits[k] - max);
        const logSum = max + Math.log(sum);
        loss += w * (logSum - logits[y[i]]);
        for (let k = 0; k < nClasses; k++) {
          const residual = w * (Math.exp(logits[k] - logSum) - (k === y[i] ? 1 : 0));
          for (let j = 0; j < d; j++) gradient[k * width + j] += residual * x.data[offset + j];
          gradient[k * width + d] += residual;
        }
      }
      // This is scikit-learn's objective divided by C: the same minimizer, with the data term
      // at the scale of the sample weights.
      let penalty = 0;
      for (let k = 0; k < nClasses; k++) {
        for (let j = 0; j < d; j++) {
          const beta = params[k * width + j];
          penalty += beta * beta;
          gradient[k * width + j] += inverseC * beta;
        }
      }
      return loss + 0.5 * inverseC * penalty;
    };

    const result = minimizeLbfgs(objective, new Float64Array(nClasses * width), {
      maxIterations: this.options.maxIterations,
      gradientTolerance: 1e-6,
    });
    const coefficients: number[] = [];
    const intercepts: number[] = [];
    for (let k = 0; k < nClasses; k++) {
      for (let j = 0; j < d; j++) coefficients.push(result.x[k * width + j]);
      intercepts.push(result.x[k * width + d]);
    }
    this.state = { kind: 'logistic', nFeatures: d, nClasses, coefficients, intercepts };
  }

  predictProba(x: Features): Float64Array {
    const state = this.requireState();
    const { nClasses, nFeatures: d } = state;
    const out = new Float64Array(x.nRows * nClasses);
    for (let i = 0; i < x.nRows; i++) {
      let max = -Infinity;
      for (let k = 0; k < nClasses; k++) {
        let z = state.intercepts[k];
        for (let j = 0; j < d; j++) z += state.coefficients[k * d + j] * x.data[i * d + j];
        out[i * nClasses + k] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let k = 0; k < nClasses; k++) {
        const e = Math.exp(out[i * nClasses + k] - max);
        out[i * nClasses + k] = e;
        sum += e;
      }
      for (let k = 0; k < nClasses; k++) out[i * nClasses + k] /= sum;
    }
    return out;
  }

  toJSON(): LogisticState {
    return this.requireState();
  }

  static fromJSON(state: LogisticState, options: LogisticOptions): LogisticRegression {
    const model = new LogisticRegression(options);
    model.state = state;
    return model;
  }

  private requireState(): LogisticState {
    if (!this.state) throw new Error('logistic regression: predict called before fit');
    return this.state;
  }
}
