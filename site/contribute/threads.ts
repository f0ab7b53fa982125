// Browser runtime threads for the contribute page: each contributor thread is one worker per runtime. The Python
// worker (Pyodide, loaded up front) runs user code, is locked down before any chunk runs and holds no capability;
// the ONNX worker (started on the first ONNX chunk) runs no user code and keeps model downloads, the model cache
// and WebGPU to itself. Both are reused across the chunks of one job
// only (a job switch takes the thread's standby worker; see RuntimeThread).
import { spawnBrowserRuntimeWorker } from '../../wasm-runtimes/host/browser.js';
import { PerRuntimeThread } from '../../wasm-runtimes/host/per-runtime.js';
import type { RuntimeHostOptions } from '../../wasm-runtimes/host/runtime-host.js';
import { RuntimeThread } from '../../wasm-runtimes/host/thread.js';
import { spawnBrowserOnnxWorker } from '../../wasm-runtimes/onnx/browser.js';
import type { OnnxRuntimeOptions } from '../../wasm-runtimes/onnx/onnx-runtime.js';
import { BROWSER_PYODIDE_URL } from '../../wasm-runtimes/python/environment.js';
import type { ChunkThread } from '../../contributor-core/contributor.js';

export function createBrowserThread(): ChunkThread {
  return new PerRuntimeThread(
    {
      python: () => new RuntimeThread(spawnBrowserRuntimeWorker),
      // ONNX runs no user code, and pauses between chunks only: a long inference must not count as a chunk that
      // will not pause.
      onnx: () => new RuntimeThread(spawnBrowserOnnxWorker, { watchdog: false }),
    },
    ['python'],
  );
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
