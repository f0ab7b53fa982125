// The contributor's Python worker (browser module worker): locks itself down, then exposes one RuntimeHost with
// Comlink. This is the worker that runs user code, so it holds no capability a chunk could turn against the
// contributor: no unrestricted fetch, no Cache Storage, no GPU. ONNX, which runs no user code, has its own worker
// (wasm-runtimes/onnx/onnx.worker.ts) and keeps its model downloads and cache there.
import * as Comlink from 'comlink';
import { lockDown } from '../lockdown.js';
import { RuntimeHost, type RuntimeHostOptions } from './runtime-host.js';

const scope = globalThis as typeof globalThis & { location: { href: string } };

/** Same-origin path of a runtime file URL, for the fetch allowlist ("/pyodide/"). */
const pathOf = (url: string) => new URL(url, scope.location.href).pathname;

/**
 * Pyodide's own files and the job packages stay fetchable, nothing else: the page hands every runtime the same
 * options, so the ONNX ones (`ortURL`, `modelBaseURL`) arrive here too and must not open a hole.
 */
function runtimeFilePrefixes(options: RuntimeHostOptions): string[] {
  return [options.indexURL, options.packageIndexURL].filter((url): url is string => !!url).map(pathOf);
}

class LockedRuntimeHost extends RuntimeHost {
  override async initialize(options: RuntimeHostOptions = {}): Promise<void> {
    // Before anything else: from here on, user code can only ever see the locked-down global.
    lockDown(globalThis, { allowedFetchPrefixes: runtimeFilePrefixes(options) });
    await super.initialize(options);
  }
}

Comlink.expose(new LockedRuntimeHost({ python: async () => new (await import('../python/python-runtime.js')).PythonRuntime() }));
