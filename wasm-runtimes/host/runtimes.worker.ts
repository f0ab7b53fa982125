// The contributor's Python worker (browser module worker). It takes its private channel from the page (the first
// message, see private-channel.ts), locks itself down on `initialize`, and serves one RuntimeHost with Comlink over
// that channel only: nothing on `self` answers RPC, and `self.postMessage` is gone, so user code can neither call the
// host nor post anything to the page. This is the worker that runs user code, so it holds no capability a chunk could
// turn against the contributor: no unrestricted fetch, no Cache Storage, no GPU. ONNX, which runs no user code, has
// its own worker (wasm-runtimes/onnx/onnx.worker.ts) and keeps its model downloads and cache there.
import * as Comlink from 'comlink';
import { capabilityError, hardenAfterLoad, lockDown } from '../lockdown.js';
import type { ChunkRuntime } from '../runtime.js';
import { acceptPrivateChannel } from './private-channel.js';
import { RuntimeHost, type RuntimeHostOptions } from './runtime-host.js';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

/** Same-origin path of a runtime file URL, for the fetch allowlist ("/pyodide/"). */
const pathOf = (url: string) => new URL(url, scope.location.href).pathname;

/**
 * Pyodide's own files and the job packages stay fetchable, nothing else: the page hands every runtime the same
 * options, so the ONNX ones (`ortURL`, `modelBaseURL`) arrive here too and must not open a hole.
 */
function runtimeFilePrefixes(options: RuntimeHostOptions): string[] {
  return [options.indexURL, options.packageIndexURL].filter((url): url is string => !!url).map(pathOf);
}

/**
 * `postMessage` to the page is the one way out of a worker that needs no capability; the host talks over its
 * private port, so it is taken away. A chunk flooding the
 * page with messages could otherwise cost the page's main thread memory and time, even though nothing reads them.
 */
function removePostMessage(): void {
  const disabled = () => {
    throw capabilityError('postMessage');
  };
  // A [Global] interface keeps its operations on the global object itself; any prototype copy goes too. Not
  // configurable: a chunk can neither delete the stand-in nor put its own in its place.
  for (let target: object | null = scope; target; target = Object.getPrototypeOf(target)) {
    if (target !== scope && !Object.prototype.hasOwnProperty.call(target, 'postMessage')) continue;
    Object.defineProperty(target, 'postMessage', { value: disabled, writable: false, configurable: false, enumerable: false });
  }
}

/**
 * What Comlink serves: only the ChunkRuntime methods, as closures over the host, on a frozen object without a
 * prototype. Comlink walks request paths with intrinsics user code can replace (Array.prototype.reduce sees the
 * served object), so the object it holds must be worth nothing beyond those calls: it reaches no field of the host.
 */
function served(host: RuntimeHost): ChunkRuntime {
  let hasControl = false;
  const runtime = Object.create(null) as ChunkRuntime;
  runtime.initialize = (options: RuntimeHostOptions) => host.initialize(options);
  runtime.setInterruptBuffer = (buffer: SharedArrayBuffer) => {
    // The control block is handed over once, at boot; a chunk that got hold of this object cannot swap it.
    if (hasControl) throw new Error('the control block was already set');
    hasControl = true;
    host.setInterruptBuffer(buffer);
  };
  runtime.run = (job, input, context) => host.run(job, input, context);
  runtime.memoryBytes = () => host.memoryBytes();
  // Blocks the worker while the host holds it suspended (RuntimeThread.suspend on a worker between chunks).
  runtime.park = () => host.park();
  runtime.dispose = () => host.dispose();
  return Object.freeze(runtime);
}

class LockedRuntimeHost extends RuntimeHost {
  override async initialize(options: RuntimeHostOptions = {}): Promise<void> {
    // Before anything else: from here on, user code can only ever see the locked-down global.
    lockDown(globalThis, { allowedFetchPrefixes: runtimeFilePrefixes(options) });
    // Python loads now, not on the first chunk, so that the freeze below comes after it and before any user code.
    await super.initialize({ ...options, preload: ['python'] });
    hardenAfterLoad(globalThis);
  }
}

const host = new LockedRuntimeHost({ python: async () => new (await import('../python/python-runtime.js')).PythonRuntime() });
acceptPrivateChannel(scope).then(
  (endpoint) => {
    removePostMessage();
    Comlink.expose(served(host), endpoint);
  },
  (err: unknown) => console.error(err),
);
