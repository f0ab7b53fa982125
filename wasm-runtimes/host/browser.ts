// Browser spawn factory for RuntimeThread: the module Worker that runs user code (runtimes.worker.ts: Python).
// The `new URL(..., import.meta.url)` form is what lets Vite find and bundle the worker.
import type { SpawnedWorker } from './thread.js';

/**
 * @example
 * const thread = new RuntimeThread(spawnBrowserRuntimeWorker);
 * await thread.start({ indexURL: '/pyodide/', packageIndexURL: '/python-packages/', preload: ['python'] });
 */
export function spawnBrowserRuntimeWorker(): SpawnedWorker {
  const worker = new Worker(new URL('./runtimes.worker.ts', import.meta.url), { type: 'module', name: 'idle-sense python' });
  // Browsers have no "exit" event; an uncaught error (failed load, out of memory) is the closest sign of a dead worker.
  const exited = new Promise<string>((resolve) => {
    worker.addEventListener('error', (event) => resolve(event.message || 'uncaught error in the worker'), { once: true });
  });
  return { endpoint: worker, terminate: () => worker.terminate(), exited };
}
