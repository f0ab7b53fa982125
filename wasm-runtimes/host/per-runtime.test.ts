// PerRuntimeThread against fake RuntimeThreads: chunks go to their runtime's thread, settings made before a runtime
// started reach it when it does, and a runtime that failed to start is tried again on its next chunk.
import { expect, test } from 'vitest';
import type { JobSpec, Runtime } from '../../protocol/index.js';
import type { ChunkRun } from '../runtime.js';
import { PerRuntimeThread } from './per-runtime.js';
import type { RuntimeThread } from './thread.js';

const PYTHON: JobSpec = { id: 'j-py', name: 'py', timeoutMs: 1000, runtime: 'python', source: 'def main(x):\n    return x\n' };
const ONNX: JobSpec = { id: 'j-onnx', name: 'onnx', timeoutMs: 1000, runtime: 'onnx', model: `sha256:${'0'.repeat(64)}` };

/** A RuntimeThread stand-in that records what reached it. */
class FakeThread {
  readonly calls: string[] = [];
  suspended = false;
  cpuLimit = 100;
  chunksRun = 0;
  loadedJobId?: string;
  /** While set, run() waits for it: a chunk in progress. */
  gate?: Promise<void>;

  constructor(
    readonly runtime: Runtime,
    private readonly startError?: Error,
  ) {}

  async start(): Promise<void> {
    this.calls.push('start');
    if (this.startError) throw this.startError;
  }

  async run(job: JobSpec, input: unknown): Promise<ChunkRun> {
    this.calls.push(`run ${job.id}`);
    await this.gate;
    this.chunksRun++;
    this.loadedJobId = job.id;
    return { ok: true, output: { runtime: this.runtime, input }, stdout: '', stderr: '', durationMs: 1 };
  }

  interrupt(message?: string): void {
    this.calls.push(`interrupt ${message}`);
  }

  suspend(): boolean {
    this.suspended = true;
    return true;
  }

  resume(): void {
    this.suspended = false;
  }

  setCpuLimit(percent: number): void {
    this.cpuLimit = percent;
  }

  async memoryBytes(): Promise<number> {
    return this.runtime === 'python' ? 1000 : 10;
  }

  async recycle(): Promise<void> {
    this.calls.push('recycle');
    this.chunksRun = 0;
  }

  dispose(): void {
    this.calls.push('dispose');
  }
}

/** Factories that hand out FakeThreads, failing the first `failures[runtime]` starts of a runtime. */
function fakes(failures: Partial<Record<Runtime, number>> = {}) {
  const made: FakeThread[] = [];
  const factory = (runtime: Runtime) => () => {
    const left = failures[runtime] ?? 0;
    failures[runtime] = left - 1;
    const thread = new FakeThread(runtime, left > 0 ? new Error(`${runtime} failed to load`) : undefined);
    made.push(thread);
    return thread as unknown as RuntimeThread;
  };
  const of = (runtime: Runtime) => made.filter((thread) => thread.runtime === runtime);
  return { factories: { python: factory('python'), onnx: factory('onnx') }, made, of };
}

test('each chunk goes to the thread of its job\'s runtime; eager runtimes start with start(), others on their first chunk; between chunks the thread names the job last loaded', async () => {
  const { factories, of } = fakes();
  const thread = new PerRuntimeThread(factories, ['python']);
  await thread.start({});
  expect(of('python').map((t) => t.calls)).toEqual([['start']]);
  expect(of('onnx')).toEqual([]);

  expect(await thread.run(PYTHON, 1)).toMatchObject({ ok: true, output: { runtime: 'python', input: 1 } });
  expect(thread.loadedJobId).toBe('j-py');
  expect(await thread.run(ONNX, 2)).toMatchObject({ ok: true, output: { runtime: 'onnx', input: 2 } });
  expect(thread.loadedJobId).toBe('j-onnx');
  expect(await thread.run(PYTHON, 3)).toMatchObject({ ok: true, output: { runtime: 'python', input: 3 } });

  expect(of('python')).toHaveLength(1);
  expect(of('onnx')).toHaveLength(1);
  expect(of('python')[0].calls).toEqual(['start', 'run j-py', 'run j-py']);
  expect(of('onnx')[0].calls).toEqual(['start', 'run j-onnx']);
  expect(thread.chunksRun).toBe(3);
  expect(await thread.memoryBytes()).toBe(1010);
  thread.dispose();
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(of('python')[0].calls.at(-1)).toBe('dispose');
  expect(of('onnx')[0].calls.at(-1)).toBe('dispose');
  expect(thread.loadedJobId).toBeUndefined();
});

test('suspend, the CPU limit and recycling reach a runtime started after they were set', async () => {
  const { factories, of } = fakes();
  const thread = new PerRuntimeThread(factories, ['python']);
  await thread.start({});
  thread.setCpuLimit(40);
  expect(thread.suspend()).toBe(true);
  expect(of('python')[0]).toMatchObject({ cpuLimit: 40, suspended: true });

  await thread.run(ONNX, 1); // starts ONNX now, under the settings made before
  expect(of('onnx')[0]).toMatchObject({ cpuLimit: 40, suspended: true });

  thread.resume();
  thread.setCpuLimit(75);
  for (const t of [of('python')[0], of('onnx')[0]]) expect(t).toMatchObject({ cpuLimit: 75, suspended: false });

  await thread.recycle();
  expect(of('python')[0].calls).toContain('recycle');
  expect(of('onnx')[0].calls).toContain('recycle');
  expect(thread.chunksRun).toBe(0);
  thread.dispose();
});

test('suspend() before any runtime started says it can suspend, and holds for the first one', async () => {
  const { factories, of } = fakes();
  const thread = new PerRuntimeThread(factories);
  await thread.start({});
  expect(thread.suspend()).toBe(true);
  await thread.run(PYTHON, 1);
  expect(of('python')[0].suspended).toBe(true);
  thread.dispose();
});

test('a runtime that failed to start is reported as a crash for that chunk and tried again on the next', async () => {
  const { factories, of } = fakes({ onnx: 1 });
  const thread = new PerRuntimeThread(factories, ['python']);
  await thread.start({});
  const failed = await thread.run(ONNX, 1);
  expect(failed).toMatchObject({ ok: false, failure: 'crash', error: 'the onnx runtime could not be loaded: onnx failed to load' });
  expect(of('onnx')[0].calls).toEqual(['start', 'dispose']);

  expect(await thread.run(ONNX, 2)).toMatchObject({ ok: true, output: { runtime: 'onnx', input: 2 } });
  expect(of('onnx')).toHaveLength(2);
  // Python was not disturbed by ONNX's failure.
  expect(await thread.run(PYTHON, 3)).toMatchObject({ ok: true });
  expect(of('python')).toHaveLength(1);
  thread.dispose();
});

test('a runtime the contributor has not got is a crash naming it; interrupt() reaches the running chunk\'s thread', async () => {
  const { factories, of } = fakes();
  const thread = new PerRuntimeThread({ python: factories.python }, ['python']);
  await thread.start({});
  expect(await thread.run(ONNX, 1)).toMatchObject({ ok: false, failure: 'crash', error: 'the onnx runtime could not be loaded: this contributor has no onnx runtime' });

  let release!: () => void;
  of('python')[0].gate = new Promise<void>((resolve) => (release = resolve));
  const running = thread.run(PYTHON, 1);
  await new Promise((resolve) => setTimeout(resolve, 0)); // the chunk is on its thread now
  thread.interrupt('job cancelled');
  release();
  await running;
  expect(of('python')[0].calls).toContain('interrupt job cancelled');
  thread.dispose();
});

test('after dispose() no runtime starts and run() rejects', async () => {
  const { factories, made } = fakes();
  const thread = new PerRuntimeThread(factories);
  await thread.start({});
  thread.dispose();
  await expect(thread.run(PYTHON, 1)).rejects.toThrow(/disposed/);
  expect(made).toEqual([]);
});
