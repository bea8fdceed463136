/** Objective for `minimizeLbfgs`: writes the gradient at `x` into `gradient` and returns the value. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Maximum iterations. */
  maxIterations: number;
  /** Stop when the largest absolute gradient entry falls below this. */
  gradientTolerance: number;
  /** Number of correction pairs kept. */
  memory: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

const DEFAULTS: LbfgsOptions = { maxIterations: 1000, gradientTolerance: 1e-5, memory: 10 };

/**
 * Minimizes a smooth function with limited-memory BFGS and a backtracking line search under
 * the Armijo condition. Written by hand because the objectives here (multinomial logistic
 * loss) are small and convex, and no maintained npm package offers L-BFGS for typed arrays.
 */
export function minimizeLbfgs(objective: Objective, start: Float64Array, options: Partial<LbfgsOptions> = {}): LbfgsResult {
  const { maxIterations, gradientTolerance, memory } = { ...DEFAULTS, ...options };
  const n = start.length;
  let x = Float64Array.from(start);
  let gradient = new Float64Array(n);
  let value = objective(x, gradient);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const direction = new Float64Array(n);
  const alpha = new Array<number>(memory);

  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(gradient) < gradientTolerance) return { x, value, iterations: iteration, converged: true };

    // Two-loop recursion: direction = -H * gradient.
    for (let i = 0; i < n; i++) direction[i] = -gradient[i];
    for (let m = sHistory.length - 1; m >= 0; m--) {
      alpha[m] = rhoHistory[m] * dot(sHistory[m], direction);
      axpy(-alpha[m], yHistory[m], direction);
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      const gammaScale = dot(sHistory[last], yHistory[last]) / dot(yHistory[last], yHistory[last]);
      for (let i = 0; i < n; i++) direction[i] *= gammaScale;
    }
    for (let m = 0; m < sHistory.length; m++) {
      const beta = rhoHistory[m] * dot(yHistory[m], direction);
      axpy(alpha[m] - beta, sHistory[m], direction);
    }
    let slope = dot(gradient, direction);
    if (slope >= 0) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      for (let i = 0; i < n; i++) direction[i] = -gradient[i];
      sHistory.length = 0;
      yHistory.length = 0;
      rhoHistory.length = 0;
      slope = dot(gradient, direction);
    }

    let step = iteration === 0 && sHistory.length === 0 ? Math.min(1, 1 / Math.max(maxAbs(gradient), 1e-12)) : 1;
    const candidate = new Float64Array(n);
    const candidateGradient = new Float64Array(n);
    let candidateValue = Infinity;
    let accepted = false;
    for (let attempt = 0; attempt < 60; attempt++) {
      for (let i = 0; i < n; i++) candidate[i] = x[i] + step * direction[i];
      candidateValue = objective(candidate, candidateGradient);
      if (Number.isFinite(candidateValue) && candidateValue <= value + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) return { x, value, iterations: iteration, converged: false };

    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = candidate[i] - x[i];
      y[i] = candidateGradient[i] - gradient[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
      if (sHistory.length > memory) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
    }
    const decrease = value - candidateValue;
    x = candidate;
    gradient = candidateGradient;
    value = candidateValue;
    if (decrease <= 1e-12 * Math.max(Math.abs(value), 1)) {
      return { x, value, iterations: iteration + 1, converged: maxAbs(gradient) < gradientTolerance * 100 };
    }
  }
  return { x, value, iterations: maxIterations, converged: maxAbs(gradient) < gradientTolerance };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function axpy(scale: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += scale * x[i];
}

function maxAbs(a: Float64Array): number {
  let max = 0;
  for (const v of a) max = Math.max(max, Math.abs(v));
  return max;
}
