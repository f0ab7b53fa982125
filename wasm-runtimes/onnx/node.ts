// Node spawn factory for RuntimeThread: a worker_threads worker running the same OnnxRuntime as the browser,
// reached over its private port (host/node-channel.ts).
import { spawnNodeWorker } from '../host/node-channel.js';
import type { SpawnedWorker } from '../host/thread.js';

/**
 * @example
 * const thread = new RuntimeThread(spawnNodeOnnxWorker);
 * await thread.start({});
 */
export function spawnNodeOnnxWorker(): SpawnedWorker {
  return spawnNodeWorker(new URL('./node-worker.mjs', import.meta.url), 'idle-sense onnx');
}
