// Browser spawn factory for RuntimeThread: a module Worker running onnx.worker.ts, reached over its private port
// (host/private-channel.ts). The `new URL(..., import.meta.url)` form is what lets Vite find and bundle the worker.
import { overPrivateChannel } from '../host/private-channel.js';
import type { SpawnedWorker } from '../host/thread.js';

/**
 * @example
 * const thread = new RuntimeThread(spawnBrowserOnnxWorker);
 * await thread.start({ ortURL: '/onnxruntime/', allowGpu: true } as RuntimeOptions);
 */
export function spawnBrowserOnnxWorker(): SpawnedWorker {
  return overPrivateChannel(new Worker(new URL('./onnx.worker.ts', import.meta.url), { type: 'module', name: 'idle-sense onnx' }));
}
