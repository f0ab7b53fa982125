// Node spawn factory for RuntimeThread: a worker_threads worker running the same PythonRuntime as the browser.
/// <reference path="./comlink-node-adapter.d.ts" />
import { Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { SpawnedWorker } from '../host/thread.js';

/**
 * @example
 * const thread = new RuntimeThread(spawnNodePythonWorker);
 * await thread.start({});
 */
export function spawnNodePythonWorker(): SpawnedWorker {
  const worker = new Worker(new URL('./node-worker.mjs', import.meta.url), { name: 'idle-sense python' });
  const exited = new Promise<string>((resolve) => {
    worker.once('error', (err) => resolve(err instanceof Error ? err.message : String(err)));
    worker.once('exit', (code) => resolve(`exit code ${code}`));
  });
  return { endpoint: nodeEndpoint(worker), terminate: () => void worker.terminate(), exited };
}
