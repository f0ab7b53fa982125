// Browser spawn factory for RuntimeThread: the module Worker that runs user code (runtimes.worker.ts: Python).
// The `new URL(..., import.meta.url)` form is what lets Vite find and bundle the worker.
import { overPrivateChannel } from './private-channel.js';
import type { SpawnedWorker } from './thread.js';

/**
 * The page talks to the worker over its private port (overPrivateChannel), never over the Worker object.
 * @example
 * const thread = new RuntimeThread(spawnBrowserRuntimeWorker);
 * await thread.start({ indexURL: '/pyodide/', packageIndexURL: '/python-packages/', preload: ['python'] });
 */
export function spawnBrowserRuntimeWorker(): SpawnedWorker {
  const worker = new Worker(new URL('./runtimes.worker.ts', import.meta.url), { type: 'module', name: 'idle-sense python' });
  return overPrivateChannel(worker);
}
