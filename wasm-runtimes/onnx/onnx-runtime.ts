// OnnxRuntime: runs chunks of ONNX jobs with onnxruntime-web. It knows nothing of workers or transports; a worker
// exposes it with Comlink (onnx.worker.ts, onnx.node-worker.ts) and RuntimeThread enforces timeouts.
//
// One InferenceSession per model per worker, reused across chunks and jobs (the two most recently used are kept).
// The execution provider is the first of the job's list that this worker can offer: WebGPU when an adapter exists
// and GPU use is allowed, WASM always. A model WebGPU cannot load or run here (float64 operators, float16 on an
// adapter without shader-f16, ...) falls back to the next provider, and this worker stops trying WebGPU for it.
// Each result says which provider and adapter produced it (`runtimeInfo`).
import {
  DEFAULT_EXECUTION_PROVIDERS,
  type ExecutionProvider,
  type FailureKind,
  type JobSpec,
  type OnnxChunkInput,
  type OnnxChunkOutput,
  type TensorType,
} from '../../protocol/index.js';
import { Control, type ChunkRun, type ChunkRuntime, type RuntimeOptions } from '../runtime.js';
import { availableProviders, describeAdapter, loadNodeOrt, loadOrt, wasmThreadCount, type Ort } from './environment.js';
import { defaultModelCache, ModelLoader, ModelUnavailableError, type ModelCache } from './models.js';
import { decodeTensor, encodeTensor, type TensorArray } from './tensors.js';

export interface OnnxRuntimeOptions extends RuntimeOptions {
  /**
   * Where onnxruntime-web's files are served (browser default `/onnxruntime/`); unused in Node. Not `indexURL`:
   * a RuntimeHost gives every runtime the same options, and `indexURL` is Pyodide's.
   */
  ortURL?: string;
  /** Where models are downloaded from: `<modelBaseURL><sha256:hex>` (default `/api/blobs/`). */
  modelBaseURL?: string;
  /** The contributor's "use GPU" setting (default true). Without it chunks run on WASM. */
  allowGpu?: boolean;
  /** WASM threads for this worker (default: up to 4 when cross-origin isolated, else 1). Fixed once loaded. */
  onnxWasmThreads?: number;
  /** Where verified models are kept (default: Cache Storage in browsers, memory in Node). Not for Comlink callers. */
  modelCache?: ModelCache;
  /**
   * How models are downloaded (default: the global `fetch`). A locked-down worker passes the fetch it captured before
   * lockdown, so model downloads need no hole in the allowlist that chunks' code could use. Not for Comlink callers.
   */
  modelFetch?: typeof fetch;
  /**
   * Which ONNX Runtime computes: `web` (onnxruntime-web, the tab's; default) or `node` (onnxruntime-node, native code,
   * for the headless runner; Node only). With `node` the job's `wasm` class runs on ORT's CPU provider, or on CUDA
   * when `cuda` is set and the CUDA provider starts; runtimeInfo names `cpu` or `cuda`.
   */
  ortBackend?: 'web' | 'node';
  /** With `ortBackend: 'node'`: try the CUDA execution provider first (a GPU and its libraries are present). */
  cuda?: boolean;
}

/** Facts about the run that produced a result; sent as ResultReport.runtimeInfo (all values are strings). */
export type OnnxRuntimeInfo = {
  /** The provider class the job asked for (`webgpu`, `wasm`), or where onnxruntime-node ran it (`cpu`, `cuda`). */
  executionProvider: ExecutionProvider | 'cpu' | 'cuda';
  /** The GPU adapter (WebGPU) or `cpu` (WASM). */
  adapter: string;
  /** WASM threads (also meaningful under WebGPU, for operators that fall back to the CPU). */
  threads: string;
  ort: string;
  /** Why WebGPU, preferred by the job, did not compute this result (it fell back to WASM). */
  webgpuFallback?: string;
};

/** A ChunkRun with the provider that computed it. Successful runs always carry runtimeInfo. */
export type OnnxChunkRun = ChunkRun & { runtimeInfo?: OnnxRuntimeInfo };

/** What this worker can offer, for the contributor page ("WebGPU: google swiftshader", "WASM, 2 threads"). */
export interface OnnxCapabilities {
  providers: ExecutionProvider[];
  adapter?: string;
  /** The adapter's optional WebGPU features (`shader-f16` decides whether float16 models run on the GPU). */
  gpuFeatures?: string[];
  wasmThreads: number;
  ort: string;
}

interface LiveSession {
  session: import('onnxruntime-web').InferenceSession;
  provider: ExecutionProvider;
  /** What runtimeInfo reports: the provider, or onnxruntime-node's own (`cpu`, `cuda`). */
  reported: OnnxRuntimeInfo['executionProvider'];
  adapter: string;
  bytes: number;
}

type OrtTensor = InstanceType<Ort['Tensor']>;

const KEPT_SESSIONS = 2;

/**
 * @example
 * const runtime = new OnnxRuntime();
 * await runtime.initialize({ allowGpu: true });
 * const run = await runtime.run(job, { x: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] } });
 * // { ok: true, output: { y: { type: 'float32', dims: [1, 2], data: [...] } }, runtimeInfo: { executionProvider: 'webgpu', ... } }
 */
export class OnnxRuntime implements ChunkRuntime {
  private options?: OnnxRuntimeOptions;
  private models?: ModelLoader;
  private capabilities?: OnnxCapabilities;
  private control?: Int32Array;
  /** onnxruntime-web builds by provider, each loaded on first use. */
  private readonly builds = new Map<ExecutionProvider, Promise<Ort>>();
  /** Sessions by `${model}|${provider}`, least recently used first. */
  private readonly sessions = new Map<string, Promise<LiveSession>>();
  /** Models WebGPU failed on in this worker, with the reason; they go straight to the next provider. */
  private readonly webgpuRefused = new Map<string, string>();
  private liveBytes = 0;

  /** Staged start: which providers this worker offers → the preferred provider's onnxruntime-web build. */
  async initialize(options: OnnxRuntimeOptions = {}): Promise<void> {
    if (this.options) throw new Error('OnnxRuntime.initialize() was already called');
    this.options = options;
    // onnxruntime-node offers the CPU class only (CUDA, when used, computes it): a WebGPU-only job is not for it.
    const { providers, adapter, gpuFeatures } = options.ortBackend === 'node' ? { providers: ['wasm' as const], adapter: undefined, gpuFeatures: undefined } : await availableProviders(options.allowGpu ?? true);
    this.models = new ModelLoader(options.modelCache ?? defaultModelCache(), options.modelBaseURL ?? '/api/blobs/', options.modelFetch);
    const threads = wasmThreadCount(options.onnxWasmThreads);
    const ort = await this.build(providers[0], threads);
    this.capabilities = { providers, adapter, gpuFeatures, wasmThreads: threads, ort: options.ortBackend === 'node' ? `node ${ort.env.versions.node ?? ort.env.versions.common}` : (ort.env.versions.web ?? ort.env.versions.common) };
  }

  /** The providers, adapter and thread count this worker offers (after initialize()). */
  describe(): OnnxCapabilities {
    return this.ready().capabilities;
  }

  /**
   * Adds a model the caller already holds to the cache (checked against `name`), so no download is needed;
   * for tests, benches and the submit page's local preview.
   */
  async addModel(name: string, bytes: Uint8Array): Promise<void> {
    await this.ready().models.add(name, bytes);
  }

  /** Inference cannot be interrupted; the host's timeout replaces the worker. Pauses are honoured between chunks. */
  setInterruptBuffer(buffer: SharedArrayBuffer): void {
    this.control = new Int32Array(buffer);
  }

  async run(job: JobSpec, input: unknown): Promise<OnnxChunkRun> {
    const started = performance.now();
    const pausedMs = this.waitWhilePaused();
    const fail = (failure: FailureKind, error: string): OnnxChunkRun => ({
      ok: false, failure, error, stdout: '', stderr: '', durationMs: performance.now() - started - pausedMs, pausedMs,
    });
    if (job.runtime !== 'onnx') return fail('crash', `OnnxRuntime cannot run ${job.runtime} jobs`);
    const { capabilities } = this.ready();

    const asked = job.executionProviders ?? DEFAULT_EXECUTION_PROVIDERS;
    const offered = asked.filter((p) => capabilities.providers.includes(p));
    if (offered.length === 0) {
      return fail('crash', `this tab cannot run the job: it asks for ${asked.join(', ')}, this browser offers ${capabilities.providers.join(', ')}`);
    }
    let webgpuFallback = this.webgpuRefused.get(job.model);
    const providers = webgpuFallback ? offered.filter((p) => p !== 'webgpu') : offered;
    if (providers.length === 0) return fail('crash', `WebGPU cannot run this model in this tab: ${webgpuFallback}`);

    for (const provider of providers) {
      let live: LiveSession;
      try {
        live = await this.session(job.model, provider);
      } catch (err) {
        if (err instanceof ModelUnavailableError) return fail('crash', err.message);
        if (isOutOfMemory(err)) return fail('crash', `ONNX Runtime ran out of memory loading the model: ${message(err)}`);
        // ORT could not start its backend here (no WebAssembly threads in a locked-down worker, a failed
        // download of its .wasm): this tab's problem, not the model's.
        if (/no available backend found/.test(message(err))) {
          if (provider === 'webgpu') {
            webgpuFallback = this.refuseWebgpu(job.model, `WebGPU did not start: ${message(err)}`);
            continue;
          }
          return fail('crash', `ONNX Runtime did not start in this tab: ${message(err)}`);
        }
        if (provider === 'webgpu') {
          webgpuFallback = this.refuseWebgpu(job.model, `the model does not load on WebGPU: ${message(err)}`);
          continue;
        }
        // WASM runs every valid model ONNX Runtime supports: when it refuses the model, the model is at fault and the
        // job fails with ONNX Runtime's words.
        return fail('syntax', `ONNX Runtime cannot load the model: ${message(err)}`);
      }
      const attempt = await this.infer(live, job, input);
      if (attempt.ok) {
        const runtimeInfo: OnnxRuntimeInfo = {
          executionProvider: live.reported,
          adapter: live.adapter,
          threads: String(capabilities.wasmThreads),
          ort: capabilities.ort,
          ...(webgpuFallback && live.provider !== 'webgpu' ? { webgpuFallback } : {}),
        };
        const durationMs = performance.now() - started - pausedMs;
        return { ok: true, output: attempt.output, stdout: '', stderr: '', durationMs, pausedMs, runtimeInfo };
      }
      if (provider === 'webgpu' && attempt.failure === 'exception') {
        webgpuFallback = this.refuseWebgpu(job.model, `WebGPU failed to run the model: ${attempt.error}`);
        continue;
      }
      return fail(attempt.failure, attempt.error);
    }
    return fail('crash', `WebGPU cannot run this model in this tab, and the job allows no other provider: ${webgpuFallback}`);
  }

  /** Bytes of the models this worker holds sessions for: a floor on what ONNX Runtime's memory holds. */
  memoryBytes(): number {
    return this.liveBytes;
  }

  dispose(): void {
    for (const pending of this.sessions.values()) pending.then((live) => live.session.release(), () => undefined);
    this.sessions.clear();
    this.options = undefined;
  }

  /** One inference on a live session: inputs decoded, outputs encoded; errors as data. */
  private async infer(
    live: LiveSession,
    job: Extract<JobSpec, { runtime: 'onnx' }>,
    input: unknown,
  ): Promise<{ ok: true; output: OnnxChunkOutput } | { ok: false; failure: FailureKind; error: string }> {
    const names = job.outputs ?? [...live.session.outputNames];
    const unknown = names.filter((name) => !live.session.outputNames.includes(name));
    if (unknown.length) {
      return { ok: false, failure: 'exception', error: `the model has no output ${unknown.map((n) => `"${n}"`).join(', ')}; its outputs are ${live.session.outputNames.join(', ')}` };
    }
    let feeds: Record<string, OrtTensor>;
    try {
      feeds = await this.feeds(live, input);
    } catch (err) {
      return { ok: false, failure: 'exception', error: message(err) };
    }
    let results: Record<string, OrtTensor>;
    try {
      results = (await live.session.run(feeds, names)) as Record<string, OrtTensor>;
    } catch (err) {
      return { ok: false, failure: isOutOfMemory(err) ? 'crash' : 'exception', error: `ONNX Runtime failed: ${message(err)}` };
    } finally {
      for (const tensor of Object.values(feeds)) tensor.dispose();
    }
    try {
      const output: OnnxChunkOutput = {};
      for (const name of names) {
        const tensor = results[name];
        if (!isSupportedType(tensor.type)) throw new Error(`output "${name}" has element type ${tensor.type}, which ONNX jobs cannot return`);
        output[name] = encodeTensor({ type: tensor.type, dims: [...tensor.dims], data: toTensorArray(tensor.type, tensor.data) });
      }
      return { ok: true, output };
    } catch (err) {
      return { ok: false, failure: 'output', error: message(err) };
    } finally {
      for (const tensor of Object.values(results)) tensor.dispose();
    }
  }

  /** Remembers that WebGPU cannot handle `model` here, drops its WebGPU session, and returns the reason. */
  private refuseWebgpu(model: string, reason: string): string {
    this.webgpuRefused.set(model, reason);
    const key = `${model}|webgpu`;
    const pending = this.sessions.get(key);
    if (pending) {
      this.sessions.delete(key);
      this.release(pending);
    }
    return reason;
  }

  /** The onnxruntime-web build for `provider`, loaded and configured once. */
  private build(provider: ExecutionProvider, threads = this.ready().capabilities.wasmThreads): Promise<Ort> {
    let build = this.builds.get(provider);
    if (!build) {
      build = (this.options?.ortBackend === 'node' ? loadNodeOrt() : loadOrt(provider, this.options?.ortURL)).then((ort) => {
        ort.env.wasm.numThreads = threads;
        ort.env.logLevel = 'error';
        return ort;
      });
      this.builds.set(provider, build);
      build.catch(() => this.builds.delete(provider)); // a failed load (network) is tried again by a later chunk
    }
    return build;
  }

  /** The session for `model` on `provider`; cached, the least recently used beyond KEPT_SESSIONS released. */
  private session(model: string, provider: ExecutionProvider): Promise<LiveSession> {
    const key = `${model}|${provider}`;
    const existing = this.sessions.get(key);
    if (existing) {
      this.sessions.delete(key); // re-insert: most recently used last
      this.sessions.set(key, existing);
      return existing;
    }
    const created = this.createSession(model, provider);
    this.sessions.set(key, created);
    created.then(
      (live) => (this.liveBytes += live.bytes),
      () => this.sessions.delete(key), // a later chunk tries again (a failed download is worth retrying)
    );
    while (this.sessions.size > KEPT_SESSIONS) {
      const [oldestKey, oldest] = this.sessions.entries().next().value!;
      this.sessions.delete(oldestKey);
      this.release(oldest);
    }
    return created;
  }

  private release(pending: Promise<LiveSession>): void {
    pending.then(
      (live) => {
        this.liveBytes -= live.bytes;
        return live.session.release();
      },
      () => undefined,
    );
  }

  private async createSession(model: string, provider: ExecutionProvider): Promise<LiveSession> {
    const { models } = this.ready();
    const bytes = await models.load(model); // ModelUnavailableError: the chunk is retried, the job does not fail
    const ort = await this.build(provider);
    const common = {
      graphOptimizationLevel: 'all' as const,
      logSeverityLevel: 3 as const, // errors only: ORT's warnings about benign model quirks are not the contributor's business
    };
    if (this.options?.ortBackend === 'node') {
      const threads = { intraOpNumThreads: this.ready().capabilities.wasmThreads, interOpNumThreads: 1 };
      if (this.options.cuda) {
        try {
          const session = await ort.InferenceSession.create(bytes, { ...common, ...threads, executionProviders: ['cuda'] as never });
          return { session, provider, reported: 'cuda', adapter: 'cuda', bytes: bytes.byteLength };
        } catch {
          // no CUDA provider in this build, or no usable GPU: the CPU computes the same result
        }
      }
      const session = await ort.InferenceSession.create(bytes, { ...common, ...threads, executionProviders: ['cpu'] as never });
      return { session, provider, reported: 'cpu', adapter: 'cpu', bytes: bytes.byteLength };
    }
    const session = await ort.InferenceSession.create(bytes, { ...common, executionProviders: [provider] });
    const adapter = provider === 'webgpu' ? await this.webgpuAdapter(ort) : 'cpu';
    return { session, provider, reported: provider, adapter, bytes: bytes.byteLength };
  }

  /** The adapter ONNX Runtime's WebGPU device came from (it creates the device itself). */
  private async webgpuAdapter(ort: Ort): Promise<string> {
    try {
      const device = (await ort.env.webgpu.device) as { adapterInfo?: Parameters<typeof describeAdapter>[0] } | undefined;
      if (device?.adapterInfo) return describeAdapter(device.adapterInfo);
    } catch {
      // fall through to what detection saw
    }
    return this.ready().capabilities.adapter ?? 'unknown GPU';
  }

  private async feeds(live: LiveSession, input: unknown): Promise<Record<string, OrtTensor>> {
    const ort = await this.build(live.provider);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new Error('the chunk input must be an object of named tensors');
    }
    const feeds: Record<string, OrtTensor> = {};
    for (const [name, wire] of Object.entries(input as OnnxChunkInput)) {
      if (!live.session.inputNames.includes(name)) {
        throw new Error(`the model has no input "${name}"; its inputs are ${live.session.inputNames.join(', ')}`);
      }
      const decoded = decodeTensor(wire);
      feeds[name] = new ort.Tensor(decoded.type, decoded.data as never, decoded.dims);
    }
    return feeds;
  }

  /** Blocks (between chunks only) while the host has paused this thread; returns the milliseconds waited. */
  private waitWhilePaused(): number {
    const control = this.control;
    if (!control || control.length <= Control.paused || Atomics.load(control, Control.paused) === 0) return 0;
    const started = performance.now();
    while (Atomics.load(control, Control.paused) !== 0) Atomics.wait(control, Control.paused, 1, 1000);
    const waited = performance.now() - started;
    if (control.length > Control.pausedMs) Atomics.add(control, Control.pausedMs, Math.round(waited));
    return waited;
  }

  private ready(): { models: ModelLoader; capabilities: OnnxCapabilities } {
    if (!this.models || !this.capabilities) throw new Error('OnnxRuntime is not initialised: call initialize() first');
    return { models: this.models, capabilities: this.capabilities };
  }
}

const SUPPORTED: ReadonlySet<string> = new Set<TensorType>(['float32', 'float16', 'float64', 'int8', 'uint8', 'int32', 'int64', 'bool']);
function isSupportedType(type: string): type is TensorType {
  return SUPPORTED.has(type);
}

/** ORT's output data as our typed array: float16 as bits (ORT hands out Float16Array where the platform has it). */
function toTensorArray(type: TensorType, data: unknown): TensorArray {
  if (type === 'float16' && !(data instanceof Uint16Array)) {
    const view = data as ArrayBufferView;
    return new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  }
  return data as TensorArray;
}

function isOutOfMemory(err: unknown): boolean {
  return /out of memory|failed to allocate|bad_alloc|Aborted\(OOM\)|Array buffer allocation failed/i.test(message(err));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
