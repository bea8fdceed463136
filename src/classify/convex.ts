import { minimizeLbfgs } from './lbfgs.js';

export interface ConvexState {
  kind: 'convex';
  /** Non-negative learner weights that sum to 1, in the ensemble's learner order. */
  weights: number[];
}

/**
 * Stacking meta-learner that combines the learners' probabilities with non-negative weights
 * summing to 1 (the convex "super learner"). The weights minimize the sample-weighted log-loss
 * of the combined out-of-fold probabilities. With one weight per learner it has far fewer
 * parameters than a logistic regression on the stacked probabilities, which suits small cohorts.
 */
export class ConvexStacker {
  private state: ConvexState | null = null;

  /** Fits the weights; `probabilities[l]` is learner l's out-of-fold matrix, row-major samples x classes. */
  fit(probabilities: Float64Array[], y: Int32Array, nClasses: number, sampleWeight: Float64Array): void {
    const nLearners = probabilities.length;
    // Probability each learner gave the true class, floored so that log stays finite.
    const truthProbability = probabilities.map((p) => Float64Array.from(y, (k, i) => Math.max(p[i * nClasses + k], 1e-12)));
    const weights = new Float64Array(nLearners);
    const lossGradient = new Float64Array(nLearners);

    // Weights are the softmax of free parameters theta, so the constraints hold by construction.
    const objective = (theta: Float64Array, gradient: Float64Array): number => {
      softmax(theta, weights);
      lossGradient.fill(0);
      let loss = 0;
      for (let i = 0; i < y.length; i++) {
        let mixed = 0;
        for (let l = 0; l < nLearners; l++) mixed += weights[l] * truthProbability[l][i];
        loss -= sampleWeight[i] * Math.log(mixed);
        for (let l = 0; l < nLearners; l++) lossGradient[l] -= (sampleWeight[i] * truthProbability[l][i]) / mixed;
      }
      let weighted = 0;
      for (let l = 0; l < nLearners; l++) weighted += lossGradient[l] * weights[l];
      // A small ridge on theta fixes softmax's free shift, so the minimum is unique.
      for (let m = 0; m < nLearners; m++) {
        gradient[m] = weights[m] * (lossGradient[m] - weighted) + 1e-6 * theta[m];
        loss += 0.5e-6 * theta[m] * theta[m];
      }
      return loss;
    };
    const result = minimizeLbfgs(objective, new Float64Array(nLearners), { maxIterations: 500, gradientTolerance: 1e-8 });
    softmax(result.x, weights);
    this.state = { kind: 'convex', weights: Array.from(weights) };
  }

  /** Combines the learners' probabilities (row-major samples x classes) with the fitted weights. */
  predictProba(probabilities: Float64Array[]): Float64Array {
    const state = this.requireState();
    const out = new Float64Array(probabilities[0].length);
    probabilities.forEach((p, l) => {
      for (let i = 0; i < out.length; i++) out[i] += state.weights[l] * p[i];
    });
    return out;
  }

  toJSON(): ConvexState {
    return this.requireState();
  }

  static fromJSON(state: ConvexState): ConvexStacker {
    const model = new ConvexStacker();
    model.state = state;
    return model;
  }

  private requireState(): ConvexState {
    if (!this.state) throw new Error('convex stacker: predict called before fit');
    return this.state;
  }
}

function softmax(theta: Float64Array, out: Float64Array): void {
  let max = -Infinity;
  for (const t of theta) max = Math.max(max, t);
  let sum = 0;
  for (let i = 0; i < theta.length; i++) {
    out[i] = Math.exp(theta[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < theta.length; i++) out[i] /= sum;
}
