// Browser runtime threads for the contribute page: each is one module Web Worker running Pyodide, loaded once and reused.
import { spawnBrowserPythonWorker } from '../../wasm-runtimes/python/browser.js';
import { BROWSER_PYODIDE_URL } from '../../wasm-runtimes/python/environment.js';
import { RuntimeThread } from '../../wasm-runtimes/python/thread.js';
import type { RuntimeOptions } from '../../wasm-runtimes/runtime.js';
import type { ChunkThread } from './contributor.js';

export function createBrowserThread(): ChunkThread {
  return new RuntimeThread(spawnBrowserPythonWorker);
}

/** Pyodide is served by the coordinator at /pyodide/ (same origin, so it passes cross-origin isolation). */
export const browserRuntimeOptions: RuntimeOptions = { indexURL: BROWSER_PYODIDE_URL };
