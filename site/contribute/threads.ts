// Browser runtime threads for the contribute page: each is one module Web Worker hosting every runtime (Pyodide for
// Python, loaded up front; others on first use), locked down before any chunk runs, and reused across chunks.
import { spawnBrowserRuntimeWorker } from '../../wasm-runtimes/host/browser.js';
import type { RuntimeHostOptions } from '../../wasm-runtimes/host/runtime-host.js';
import { BROWSER_PYODIDE_URL } from '../../wasm-runtimes/python/environment.js';
import { RuntimeThread } from '../../wasm-runtimes/python/thread.js';
import type { ChunkThread } from './contributor.js';

export function createBrowserThread(): ChunkThread {
  return new RuntimeThread(spawnBrowserRuntimeWorker);
}

/**
 * Runtime files are served by the coordinator, same origin (so they pass cross-origin isolation and the worker's
 * Content-Security-Policy): Pyodide at /pyodide/, job packages at /python-packages/.
 */
export const browserRuntimeOptions: RuntimeHostOptions = {
  indexURL: BROWSER_PYODIDE_URL,
  packageIndexURL: '/python-packages/',
  preload: ['python'],
};
