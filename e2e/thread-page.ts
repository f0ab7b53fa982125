// Browser side of the thread harness (e2e/thread-harness.ts builds it with Vite): RuntimeThreads over the tab's real
// Python worker (spawnBrowserRuntimeWorker), exposed as `window.threadHarness` for page.evaluate in the job-switch
// bench. It uses only RuntimeThread's public API, so the same file builds against older trees (the bench's baseline).
import type { JobSpec } from '../protocol/index.js';
import { spawnBrowserRuntimeWorker } from '../wasm-runtimes/host/browser.js';
import { RuntimeThread, type SpawnedWorker } from '../wasm-runtimes/host/thread.js';

/** What the contribute page hands its threads (site/contribute/threads.ts, browserRuntimeOptions). */
const RUNTIME_OPTIONS = { indexURL: '/pyodide/', packageIndexURL: '/python-packages/', preload: ['python'] };

interface Spawn {
  /** performance.now() when the thread spawned the worker (its first worker, a standby, a replacement). */
  at: number;
  /** performance.now() of each message the host received from it. */
  replies: number[];
}

interface Entry {
  thread: RuntimeThread;
  spawns: Spawn[];
}

/** Replies a worker sends while booting: initialize, then setInterruptBuffer (RuntimeThread's staged start). */
const BOOT_REPLIES = crossOriginIsolated ? 2 : 1;

type Listener = (event: MessageEvent) => void;

/**
 * Wraps a worker's endpoint to timestamp the messages it delivers, so the bench can tell when a standby has finished
 * booting without reaching into RuntimeThread. Works on whatever endpoint the spawn factory returns (Worker or port).
 */
function watch(worker: SpawnedWorker, record: Spawn): SpawnedWorker {
  const endpoint = worker.endpoint;
  const wrapped = new Map<unknown, Listener>();
  const proxy = {
    postMessage: (message: unknown, transfer?: Transferable[]) => endpoint.postMessage(message, transfer ?? []),
    addEventListener(type: string, listener: Listener, options?: object) {
      const inner: Listener = (event) => {
        record.replies.push(performance.now());
        listener(event);
      };
      wrapped.set(listener, inner);
      endpoint.addEventListener(type, inner as never, options as never);
    },
    removeEventListener(type: string, listener: Listener, options?: object) {
      endpoint.removeEventListener(type, (wrapped.get(listener) ?? listener) as never, options as never);
      wrapped.delete(listener);
    },
    start: () => (endpoint as { start?: () => void }).start?.(),
  };
  return { ...worker, endpoint: proxy as unknown as SpawnedWorker['endpoint'] };
}

const threads = new Map<string, Entry>();

/** One chunk as the bench reads it: host round trip, the runtime's own time inside the worker, and the outcome. */
interface Timed {
  /** From run() called to run() resolved, on the page. */
  ms: number;
  /** The worker's own measure of the chunk (ChunkRun.durationMs). */
  runMs: number;
  ok: boolean;
  error?: string;
}

async function timed(thread: RuntimeThread, job: JobSpec, input: unknown): Promise<Timed> {
  const started = performance.now();
  const run = await thread.run(job, input);
  const ms = performance.now() - started;
  return { ms, runMs: run.durationMs, ok: run.ok, ...(run.ok ? {} : { error: `${run.failure}: ${run.error}` }) };
}

function entry(name: string): Entry {
  const found = threads.get(name);
  if (!found) throw new Error(`no thread named ${name}`);
  return found;
}

const harness = {
  /** Creates and starts a thread; resolves with how long its first worker took to boot. */
  async create(name: string, options: { standby?: boolean }): Promise<{ bootMs: number; crossOriginIsolated: boolean }> {
    threads.get(name)?.thread.dispose();
    const spawns: Spawn[] = [];
    const spawn = () => {
      const record: Spawn = { at: performance.now(), replies: [] };
      spawns.push(record);
      return watch(spawnBrowserRuntimeWorker(), record);
    };
    // Older trees take no options: the extra argument is ignored there.
    const thread = new (RuntimeThread as unknown as new (s: typeof spawn, o: object) => RuntimeThread)(spawn, options);
    threads.set(name, { thread, spawns });
    const started = performance.now();
    await thread.start(RUNTIME_OPTIONS);
    return { bootMs: performance.now() - started, crossOriginIsolated };
  },
  /** Runs `jobs[i % jobs.length]` for i in 0..count, each with `input`, back to back. */
  async sequence(name: string, jobs: JobSpec[], input: unknown, count: number): Promise<{ wallMs: number; chunks: Timed[] }> {
    const { thread } = entry(name);
    const chunks: Timed[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i++) chunks.push(await timed(thread, jobs[i % jobs.length], input));
    return { wallMs: performance.now() - started, chunks };
  },
  /**
   * Job switches with time between them: before each switch, `warm` chunks of the current job, then (with `ready`)
   * a wait until every worker spawned so far has booted, plus `settleMs`. Returns each switch's first chunk.
   */
  async switches(name: string, jobs: [JobSpec, JobSpec], input: unknown, times: number, ready: boolean, warm = 3): Promise<Timed[]> {
    const { thread } = entry(name);
    const firsts: Timed[] = [];
    for (let i = 0; i < times; i++) {
      const job = jobs[(i + 1) % 2];
      for (let w = 0; w < warm; w++) await thread.run(jobs[i % 2], input);
      if (ready) await harness.ready(name);
      firsts.push(await timed(thread, job, input));
    }
    return firsts;
  },
  /** Resolves once every worker the thread spawned has booted (or `timeoutMs` passed), then `settleMs` more. */
  async ready(name: string, settleMs = 100, timeoutMs = 60_000): Promise<boolean> {
    const { spawns } = entry(name);
    const started = performance.now();
    while (spawns.some((s) => s.replies.length < BOOT_REPLIES)) {
      if (performance.now() - started > timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, settleMs));
    return true;
  },
  /** Boot time (spawn → last boot reply) of each worker the thread spawned that has booted. */
  bootTimes(name: string): number[] {
    return entry(name).spawns.filter((s) => s.replies.length >= BOOT_REPLIES).map((s) => s.replies[BOOT_REPLIES - 1] - s.at);
  },
  spawnCount(name: string): number {
    return entry(name).spawns.length;
  },
  /** RuntimeThread.jobSwitches where the tree has it. */
  jobSwitches(name: string): { warm: number; cold: number } | undefined {
    return (entry(name).thread as { jobSwitches?: { warm: number; cold: number } }).jobSwitches;
  },
  /** WebAssembly memory of the thread's current worker. */
  memoryBytes(name: string): Promise<number> {
    return entry(name).thread.memoryBytes();
  },
  /** performance.measureUserAgentSpecificMemory(), summed by kind (undefined where the browser has none). */
  async measureMemory(): Promise<{ bytes: number; byType: Record<string, number>; workers: number } | undefined> {
    const measure = (performance as { measureUserAgentSpecificMemory?: () => Promise<any> }).measureUserAgentSpecificMemory;
    if (!measure || !crossOriginIsolated) return undefined;
    const result = await measure.call(performance);
    const byType: Record<string, number> = {};
    let workers = 0;
    for (const item of result.breakdown as { bytes: number; types: string[]; attribution: { scope?: string }[] }[]) {
      const type = item.types.join('+') || 'other';
      byType[type] = (byType[type] ?? 0) + item.bytes;
      workers += item.attribution.filter((a) => a.scope === 'DedicatedWorkerGlobalScope').length;
    }
    return { bytes: result.bytes, byType, workers };
  },
  dispose(name: string): void {
    threads.get(name)?.thread.dispose();
    threads.delete(name);
  },
};

(globalThis as unknown as { threadHarness: typeof harness }).threadHarness = harness;
document.title = 'thread harness ready';
