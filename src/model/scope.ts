import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` in a tfjs scope and disposes every tensor it created, like tf.tidy, but for
 * functions that return plain JS values (maps, typed arrays) that tidy's types reject.
 */
export function inScope<T>(fn: () => T): T {
  const engine = tf.engine();
  engine.startScope();
  try {
    return fn();
  } finally {
    engine.endScope();
  }
}
