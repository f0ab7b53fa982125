// Browser side of the ONNX harness (e2e/onnx-harness.ts builds it with Vite): one OnnxRuntime in a real module
// worker, driven over Comlink, exposed as `window.onnxHarness` for page.evaluate in specs and the benchmark.
import * as Comlink from 'comlink';
import type { JobSpec } from '../protocol/index.js';
import { spawnBrowserOnnxWorker } from '../wasm-runtimes/onnx/browser.js';
import type { OnnxChunkRun, OnnxRuntime, OnnxRuntimeOptions } from '../wasm-runtimes/onnx/onnx-runtime.js';

let worker: ReturnType<typeof spawnBrowserOnnxWorker> | undefined;
let runtime: Comlink.Remote<OnnxRuntime> | undefined;

const harness = {
  /** Starts a fresh worker; the previous one (if any) is terminated. */
  async start(options: OnnxRuntimeOptions) {
    worker?.terminate();
    worker = spawnBrowserOnnxWorker();
    runtime = Comlink.wrap<OnnxRuntime>(worker.endpoint as Worker);
    await runtime.initialize(options);
    return { ...(await runtime.describe()), crossOriginIsolated };
  },
  run(job: JobSpec, input: unknown): Promise<OnnxChunkRun> {
    return runtime!.run(job, input);
  },
  /** Runs the same chunk `times` times back to back; returns the wall time and the last run. */
  async repeat(job: JobSpec, input: unknown, times: number) {
    let last: OnnxChunkRun | undefined;
    const started = performance.now();
    for (let i = 0; i < times; i++) last = await runtime!.run(job, input);
    return { ms: performance.now() - started, last };
  },
  stop() {
    worker?.terminate();
    worker = undefined;
    runtime = undefined;
  },
};

(globalThis as unknown as { onnxHarness: typeof harness }).onnxHarness = harness;
document.title = 'onnx harness ready';
