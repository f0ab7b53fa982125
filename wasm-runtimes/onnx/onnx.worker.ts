// Browser module worker for ONNX: one OnnxRuntime, served with Comlink over the private port the page hands over first
// (host/private-channel.ts; nothing on `self` answers), spawned by spawnBrowserOnnxWorker (browser.ts).
// It runs no user code (a model is data, interpreted by ONNX Runtime's WebAssembly), so it keeps the capabilities
// the Python worker must not have: model downloads from the coordinator, the Cache Storage model cache, Web Locks
// (one download per model per browser) and, only when the contributor allows the GPU, WebGPU.
import * as Comlink from 'comlink';
import { acceptPrivateChannel } from '../host/private-channel.js';
import { OnnxRuntime, type OnnxRuntimeOptions } from './onnx-runtime.js';

/**
 * ONNX Runtime's WASM backend runs on one thread per worker unless told otherwise: the tab already runs one worker
 * per core (docs/onnx.md). The onnx e2e harness asks for more to test threaded WASM.
 */
class TabOnnxRuntime extends OnnxRuntime {
  override initialize(options: OnnxRuntimeOptions = {}): Promise<void> {
    // GPU off means no WebGPU in this worker at all, not only an unused provider.
    if (options.allowGpu === false) removeGpu();
    return super.initialize({ ...options, onnxWasmThreads: options.onnxWasmThreads ?? 1 });
  }
}

function removeGpu(): void {
  for (let target: object | null = navigator; target; target = Object.getPrototypeOf(target)) {
    if (Object.prototype.hasOwnProperty.call(target, 'gpu')) Reflect.deleteProperty(target, 'gpu');
  }
  if ('GPU' in globalThis) Reflect.deleteProperty(globalThis, 'GPU');
}

const runtime = new TabOnnxRuntime();
acceptPrivateChannel(globalThis as unknown as DedicatedWorkerGlobalScope).then(
  (endpoint) => Comlink.expose(runtime, endpoint),
  (err: unknown) => console.error(err),
);
