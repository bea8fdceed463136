import { parentPort } from 'node:worker_threads';
import { serveGradients } from './worker-pool.js';

// Entry point of a WorkerPool thread: one tfjs backend and model copy per worker.
if (!parentPort) throw new Error('gradient-worker.js must run as a worker thread');
serveGradients(parentPort);
