// PerRuntimeThread: one contributor thread made of one RuntimeThread per runtime, so that each runtime lives in its
// own worker. The Python worker runs user code and therefore holds no capability; the ONNX worker runs no user code
// and keeps what ONNX needs (model downloads, the model cache, WebGPU). Chunks go to the worker of their job's runtime;
// pause, CPU limit and recycling reach every worker, including one started after they were set.
import type { JobSpec, Runtime } from '../../protocol/index.js';
import type { ChunkContext, ChunkRun, RuntimeOptions } from '../runtime.js';
import type { RuntimeThread } from './thread.js';

/**
 * What PerRuntimeThread needs of one runtime's thread: a RuntimeThread over that runtime's worker, or another host's
 * thread with the same surface (the headless runner's native sandbox).
 */
export type HostedThread = Pick<
  RuntimeThread,
  'start' | 'interrupt' | 'suspend' | 'resume' | 'setCpuLimit' | 'loadedJobId' | 'chunksRun' | 'memoryBytes' | 'recycle' | 'dispose'
> & {
  /** `services`: the contributor loop's host-side extras for the chunk (checkpoints), passed through untouched. */
  run(job: JobSpec, input: unknown, context?: ChunkContext, services?: unknown): Promise<ChunkRun>;
};

/** How to create the thread of each runtime. */
export type RuntimeThreadFactories = Partial<Record<Runtime, () => HostedThread>>;

/**
 * @example
 * const thread = new PerRuntimeThread({
 *   python: () => new RuntimeThread(spawnBrowserRuntimeWorker),
 *   onnx: () => new RuntimeThread(spawnBrowserOnnxWorker),
 * }, ['python']);
 * await thread.start(options); // starts Python now; ONNX on the first ONNX chunk
 */
export class PerRuntimeThread {
  private options?: RuntimeOptions;
  private readonly threads = new Map<Runtime, Promise<HostedThread>>();
  private readonly started: HostedThread[] = [];
  private current?: HostedThread;
  /** The thread of the last chunk, kept after it ended: an idle thread still names the job it has loaded. */
  private lastUsed?: HostedThread;
  private suspended = false;
  private cpuLimit?: number;
  private disposed = false;

  constructor(
    private readonly factories: RuntimeThreadFactories,
    /** Runtimes started by `start()` rather than on their first chunk. */
    private readonly eager: Runtime[] = [],
  ) {}

  async start(options: RuntimeOptions = {}): Promise<void> {
    this.options = options;
    await Promise.all(this.eager.map((runtime) => this.thread(runtime)));
  }

  async run(job: JobSpec, input: unknown, context?: ChunkContext, services?: unknown): Promise<ChunkRun> {
    let thread: HostedThread;
    try {
      thread = await this.thread(job.runtime);
    } catch (err) {
      if (this.disposed) throw err;
      const error = `the ${job.runtime} runtime could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
      return { ok: false, failure: 'crash', error, stdout: '', stderr: '', durationMs: 0 };
    }
    this.current = thread;
    this.lastUsed = thread;
    try {
      return await thread.run(job, input, context, services);
    } finally {
      if (this.current === thread) this.current = undefined;
    }
  }

  interrupt(message?: string): void {
    this.current?.interrupt(message);
  }

  suspend(): boolean {
    this.suspended = true;
    let able = this.started.length === 0;
    for (const thread of this.started) able = thread.suspend() || able;
    return able;
  }

  resume(): void {
    this.suspended = false;
    for (const thread of this.started) thread.resume();
  }

  setCpuLimit(percent: number): void {
    this.cpuLimit = percent;
    for (const thread of this.started) thread.setCpuLimit(percent);
  }

  /**
   * The job the last-used runtime's worker has loaded (see RuntimeThread.loadedJobId), also between chunks: the
   * tab names the jobs of its idle threads when it leases, for job affinity.
   */
  get loadedJobId(): string | undefined {
    return this.lastUsed?.loadedJobId;
  }

  /** Chunks run by the current workers together, for recycling after a number of chunks. */
  get chunksRun(): number {
    return this.started.reduce((sum, thread) => sum + thread.chunksRun, 0);
  }

  async memoryBytes(): Promise<number> {
    const sizes = await Promise.all(this.started.map((thread) => thread.memoryBytes()));
    return sizes.reduce((sum, bytes) => sum + bytes, 0);
  }

  async recycle(): Promise<void> {
    await Promise.all(this.started.map((thread) => thread.recycle()));
  }

  dispose(): void {
    this.disposed = true;
    for (const pending of this.threads.values()) void pending.then((thread) => thread.dispose(), () => undefined);
    this.threads.clear();
    this.started.length = 0;
    this.lastUsed = undefined;
  }

  private thread(runtime: Runtime): Promise<HostedThread> {
    if (this.disposed) return Promise.reject(new Error('the thread is disposed'));
    if (!this.options) return Promise.reject(new Error('PerRuntimeThread.start() was not called'));
    let pending = this.threads.get(runtime);
    if (!pending) {
      const factory = this.factories[runtime];
      if (!factory) return Promise.reject(new Error(`this contributor has no ${runtime} runtime`));
      const options = this.options;
      pending = (async () => {
        const thread = factory();
        try {
          await thread.start(options);
        } catch (err) {
          thread.dispose();
          throw err;
        }
        if (this.disposed) {
          thread.dispose();
          throw new Error('the thread is disposed');
        }
        // Settings made before this runtime's first chunk hold for it too.
        if (this.cpuLimit !== undefined) thread.setCpuLimit(this.cpuLimit);
        if (this.suspended) thread.suspend();
        this.started.push(thread);
        return thread;
      })();
      // A runtime that failed to start is tried again on its next chunk.
      pending.catch(() => {
        if (this.threads.get(runtime) === pending) this.threads.delete(runtime);
      });
      this.threads.set(runtime, pending);
    }
    return pending;
  }
}
