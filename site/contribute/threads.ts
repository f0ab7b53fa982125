// Browser runtime threads for the contribute page: each is one module Web Worker hosting every runtime (Pyodide for
// Python, loaded up front; ONNX Runtime on the first ONNX chunk), locked down before any chunk runs, and reused
// across chunks.
import { spawnBrowserRuntimeWorker } from '../../wasm-runtimes/host/browser.js';
import type { RuntimeHostOptions } from '../../wasm-runtimes/host/runtime-host.js';
import type { OnnxRuntimeOptions } from '../../wasm-runtimes/onnx/onnx-runtime.js';
import { BROWSER_PYODIDE_URL } from '../../wasm-runtimes/python/environment.js';
import { RuntimeThread } from '../../wasm-runtimes/host/thread.js';
import type { ChunkThread } from './contributor.js';

export function createBrowserThread(): ChunkThread {
  return new RuntimeThread(spawnBrowserRuntimeWorker);
}

/**
 * Runtime files are served by the coordinator, same origin (so they pass cross-origin isolation and the worker's
 * Content-Security-Policy): Pyodide at /pyodide/, job packages at /python-packages/, onnxruntime-web at
 * /onnxruntime/, models at /api/blobs/. `allowGpu` is the contributor's "Use GPU" setting.
 */
export function browserRuntimeOptions(settings: { useGpu: boolean }): RuntimeHostOptions & OnnxRuntimeOptions {
  return {
    indexURL: BROWSER_PYODIDE_URL,
    packageIndexURL: '/python-packages/',
    ortURL: '/onnxruntime/',
    modelBaseURL: '/api/blobs/',
    allowGpu: settings.useGpu,
    preload: ['python'],
  };
}
