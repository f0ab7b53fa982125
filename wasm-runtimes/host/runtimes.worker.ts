// The contributor's runtime worker (browser module worker): locks itself down, then exposes one RuntimeHost with
// Comlink. Every runtime lives in this one worker and is loaded on first use; a new runtime adds one factory line.
//
// The ONNX runtime keeps two capabilities that chunks must not have: Cache Storage (models are kept once per browser)
// and an unrestricted fetch for model downloads. Both are captured here, at module evaluation, before lockdown, and
// handed only to the runtime: they live in this module's scope, which no chunk's code can reach.
import * as Comlink from 'comlink';
import { lockDown } from '../lockdown.js';
import type { OnnxRuntimeOptions } from '../onnx/onnx-runtime.js';
import { RuntimeHost, type RuntimeHostOptions } from './runtime-host.js';

const scope = globalThis as typeof globalThis & { location: { href: string } };
const privateCaches: CacheStorage | undefined = typeof caches !== 'undefined' ? caches : undefined;
const privateFetch: typeof fetch = fetch.bind(globalThis);

/** Same-origin path of a runtime file URL, for the fetch allowlist ("/pyodide/"). */
const pathOf = (url: string) => new URL(url, scope.location.href).pathname;

/** Options whose URL the runtime reaches through a private capability: not opened to chunks' code. */
const PRIVATE_URL_OPTIONS = new Set(['modelBaseURL']);

/** Every other `…URL` option names where a runtime loads its own files from: those paths stay fetchable. */
function runtimeFilePrefixes(options: RuntimeHostOptions): string[] {
  return Object.entries(options)
    .filter(([key, value]) => key.endsWith('URL') && !PRIVATE_URL_OPTIONS.has(key) && typeof value === 'string' && value !== '')
    .map(([, value]) => pathOf(value as string));
}

class LockedRuntimeHost extends RuntimeHost {
  override async initialize(options: RuntimeHostOptions = {}): Promise<void> {
    // Before anything else: from here on, user code can only ever see the locked-down global.
    const prefixes = runtimeFilePrefixes(options);
    lockDown(globalThis, { allowedFetchPrefixes: prefixes });
    await super.initialize(options);
  }
}

/**
 * ONNX Runtime's WASM backend runs on one thread per worker: its thread pool would need `new Worker`, which lockdown
 * and the worker CSP (`worker-src 'none'`) take away, and the tab already runs one worker per core (docs/onnx.md).
 */
async function createOnnxRuntime() {
  const [{ OnnxRuntime }, { CacheStorageModelCache }] = await Promise.all([import('../onnx/onnx-runtime.js'), import('../onnx/models.js')]);
  const modelCache = privateCaches ? new CacheStorageModelCache(undefined, privateCaches) : undefined;
  return new (class extends OnnxRuntime {
    override initialize(options: OnnxRuntimeOptions = {}): Promise<void> {
      return super.initialize({ ...options, onnxWasmThreads: 1, modelFetch: privateFetch, ...(modelCache ? { modelCache } : {}) });
    }
  })();
}

Comlink.expose(
  new LockedRuntimeHost({
    python: async () => new (await import('../python/python-runtime.js')).PythonRuntime(),
    onnx: createOnnxRuntime,
  }),
);
