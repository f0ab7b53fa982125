// Browser spawn factory for RuntimeThread: a module Worker running onnx.worker.ts. The `new URL(..., import.meta.url)`
// form is what lets Vite find and bundle the worker.
import type { SpawnedWorker } from '../host/thread.js';

/**
 * @example
 * const thread = new RuntimeThread(spawnBrowserOnnxWorker);
 * await thread.start({ ortURL: '/onnxruntime/', allowGpu: true } as RuntimeOptions);
 */
export function spawnBrowserOnnxWorker(): SpawnedWorker {
  const worker = new Worker(new URL('./onnx.worker.ts', import.meta.url), { type: 'module', name: 'idle-sense onnx' });
  const exited = new Promise<string>((resolve) => {
    worker.addEventListener('error', (event) => resolve(event.message || 'uncaught error in the worker'), { once: true });
  });
  return { endpoint: worker, terminate: () => worker.terminate(), exited };
}
