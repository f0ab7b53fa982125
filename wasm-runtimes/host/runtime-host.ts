// RuntimeHost: the one ChunkRuntime a worker exposes. It hosts every in-tab runtime (Python now, ONNX next), each
// created lazily the first time a job needs it, and hands each chunk to the runtime its job names. It knows nothing
// of transports; runtimes.worker.ts serves it with Comlink over its private channel after locking the worker down.
import type { JobSpec, Runtime } from '../../protocol/index.js';
import { RuntimeControl } from '../control.js';
import type { ChunkContext, ChunkRun, ChunkRuntime, RuntimeOptions } from '../runtime.js';

/** How to create each runtime; a new runtime adds one line here (loaded with `import()` so it costs nothing unused). */
export type RuntimeFactories = Partial<Record<Runtime, () => Promise<ChunkRuntime>>>;

export interface RuntimeHostOptions extends RuntimeOptions {
  /** Runtimes to load in `initialize` rather than on their first chunk (the contribute page preloads Python). */
  preload?: Runtime[];
}

/**
 * @example
 * const host = new RuntimeHost({ python: async () => new (await import('../python/python-runtime.js')).PythonRuntime() });
 * await host.initialize({ preload: ['python'] });
 * await host.run(job, input);
 */
export class RuntimeHost implements ChunkRuntime {
  private options?: RuntimeHostOptions;
  /** A true private field: a chunk that gets hold of this object (user code shares its realm) cannot read it. */
  #control?: SharedArrayBuffer;
  /** Parks the whole worker on suspend, whichever runtime (if any) is loaded. */
  #parker?: RuntimeControl;
  private readonly runtimes = new Map<Runtime, Promise<ChunkRuntime>>();

  constructor(private readonly factories: RuntimeFactories) {}

  async initialize(options: RuntimeHostOptions = {}): Promise<void> {
    if (this.options) throw new Error('RuntimeHost.initialize() was already called');
    this.options = options;
    await Promise.all((options.preload ?? []).map((runtime) => this.runtime(runtime)));
  }

  setInterruptBuffer(buffer: SharedArrayBuffer): void {
    this.#control = buffer;
    this.#parker = new RuntimeControl(new Int32Array(buffer));
    for (const pending of this.runtimes.values()) void pending.then((runtime) => runtime.setInterruptBuffer(buffer), () => undefined);
  }

  async run(job: JobSpec, input: unknown, context?: ChunkContext): Promise<ChunkRun> {
    let runtime: ChunkRuntime;
    try {
      runtime = await this.runtime(job.runtime);
    } catch (err) {
      const error = `the ${job.runtime} runtime could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
      return { ok: false, failure: 'crash', error, stdout: '', stderr: '', durationMs: 0 };
    }
    return runtime.run(job, input, context);
  }

  park(): void {
    this.#parker?.park();
  }

  /** WebAssembly memory of every loaded runtime together. */
  memoryBytes(): number {
    let total = 0;
    for (const runtime of this.loaded) total += runtime.memoryBytes();
    return total;
  }

  dispose(): void {
    for (const runtime of this.loaded) runtime.dispose();
    this.runtimes.clear();
  }

  private readonly loaded: ChunkRuntime[] = [];

  private runtime(kind: Runtime): Promise<ChunkRuntime> {
    if (!this.options) return Promise.reject(new Error('RuntimeHost is not initialised: call initialize() first'));
    let pending = this.runtimes.get(kind);
    if (!pending) {
      const factory = this.factories[kind];
      if (!factory) return Promise.reject(new Error(`this contributor has no ${kind} runtime`));
      pending = (async () => {
        const runtime = await factory();
        await runtime.initialize(this.options!);
        if (this.#control) runtime.setInterruptBuffer(this.#control);
        this.loaded.push(runtime);
        return runtime;
      })();
      // A failed load is not cached: the next chunk of that runtime tries again.
      pending.catch(() => this.runtimes.delete(kind));
      this.runtimes.set(kind, pending);
    }
    return pending;
  }
}
