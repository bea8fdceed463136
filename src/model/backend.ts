import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Logger } from '../util/log.js';

/** Backend requested on the command line; 'tensorflow' is the native backend of tfjs-node or tfjs-node-gpu. */
export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

/** The backend in use and where it came from, recorded in the train summary and the manifest. */
export interface BackendInfo {
  /** tfjs backend name: 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  /** Package that provides it, e.g. '@tensorflow/tfjs-backend-wasm'. */
  package: string;
  /** Whether the wasm build uses SIMD instructions; null for other backends. */
  simd: boolean | null;
}

/**
 * Native packages tried for the 'tensorflow' backend, fastest first. They are not dependencies
 * of genevae because their installers download libtensorflow, which fails on offline machines.
 * A user who installs one gets it through a dynamic import.
 */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let active: BackendInfo | null = null;

async function loadNative(log?: Logger): Promise<string | null> {
  for (const name of NATIVE_PACKAGES) {
    try {
      // A variable module name keeps TypeScript and bundlers from requiring the package.
      const moduleName: string = name;
      await import(moduleName);
      if (tf.findBackend('tensorflow')) return name;
      // NOTE: tfjs-node registers its backend in its own copy of tfjs-core when its version
      // differs from genevae's, so that backend is invisible here and wasm is used.
      log?.warn(`${name} loaded but registered no 'tensorflow' backend with this tfjs-core; check that its version matches ${tf.version_core}`);
    } catch {
      // not installed: try the next one
    }
  }
  return null;
}

/**
 * Selects and initialises the TensorFlow.js backend. 'auto' takes the native TensorFlow
 * backend when tfjs-node-gpu or tfjs-node is installed, else wasm, else the pure-JS cpu
 * backend. An explicit choice that cannot be initialised throws instead of falling back.
 */
export async function initBackend(choice: BackendChoice, log?: Logger): Promise<BackendInfo> {
  if (active && (choice === 'auto' || choice === active.name) && tf.getBackend() === active.name) return active;

  if (choice === 'tensorflow' || choice === 'auto') {
    const nativePackage = await loadNative(log);
    if (nativePackage && (await tf.setBackend('tensorflow'))) {
      await tf.ready();
      active = { name: 'tensorflow', package: nativePackage, simd: null };
      return active;
    }
    if (choice === 'tensorflow') {
      throw new Error(
        "backend 'tensorflow' is not available: install @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu " +
          `(version ${tf.version_core}) or use --backend wasm`,
      );
    }
  }

  if (choice === 'wasm' || choice === 'auto') {
    // Point at the package's .wasm files explicitly, so that bundled or relocated code finds them.
    const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(`${wasmDir}/`);
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      active = { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
      return active;
    }
    if (choice === 'wasm') throw new Error("backend 'wasm' failed to initialise; use --backend cpu");
    log?.warn('the wasm backend failed to initialise; falling back to the much slower cpu backend');
  }

  if (!(await tf.setBackend('cpu'))) throw new Error("backend 'cpu' failed to initialise");
  await tf.ready();
  active = { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', simd: null };
  return active;
}
