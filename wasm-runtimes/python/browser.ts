// Browser spawn factory for RuntimeThread: a module Worker running python.worker.ts. The `new URL(..., import.meta.url)`
// form is what lets Vite find and bundle the worker.
import type { SpawnedWorker } from './thread.js';

/**
 * @example
 * const thread = new RuntimeThread(spawnBrowserPythonWorker);
 * await thread.start({ indexURL: '/pyodide/' });
 */
export function spawnBrowserPythonWorker(): SpawnedWorker {
  const worker = new Worker(new URL('./python.worker.ts', import.meta.url), { type: 'module', name: 'idle-sense python' });
  // Browsers have no "exit" event; an uncaught error (failed load, out of memory) is the closest sign of a dead worker.
  const exited = new Promise<string>((resolve) => {
    worker.addEventListener('error', (event) => resolve(event.message || 'uncaught error in the worker'), { once: true });
  });
  return { endpoint: worker, terminate: () => worker.terminate(), exited };
}
