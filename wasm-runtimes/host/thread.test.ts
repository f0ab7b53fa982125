// RuntimeThread against in-process fake workers (a MessageChannel with Comlink on the far end): the host's own
// bookkeeping and its watchdog, independent of any real runtime.
import * as Comlink from 'comlink';
import { afterEach, expect, test } from 'vitest';
import type { JobSpec } from '../../protocol/index.js';
import { Control, type ChunkRun, type ChunkRuntime } from '../runtime.js';
import { RuntimeThread, type SpawnedWorker } from './thread.js';

const job: JobSpec = { id: 'j-1', name: 'fake', timeoutMs: 100, runtime: 'python', source: '' };

/** A worker that claims, through the control block, to have spent a very long time paused. */
function inflatingWorker(): SpawnedWorker {
  const { port1, port2 } = new MessageChannel();
  let block: Int32Array | undefined;
  const runtime: ChunkRuntime = {
    async initialize() {},
    setInterruptBuffer(buffer) {
      block = new Int32Array(buffer);
    },
    async run(): Promise<ChunkRun> {
      if (block) Atomics.add(block, Control.pausedMs, 1_000_000);
      await new Promise((resolve) => setTimeout(resolve, 600));
      return { ok: true, output: 'finished', stdout: '', stderr: '', durationMs: 600 };
    },
    memoryBytes: () => 0,
    dispose() {},
  };
  Comlink.expose(runtime, port2 as unknown as Comlink.Endpoint);
  return {
    endpoint: port1 as unknown as Comlink.Endpoint,
    terminate: () => {
      port1.close();
      port2.close();
    },
  };
}

let thread: RuntimeThread | undefined;
afterEach(() => thread?.dispose());

test('a worker that writes a huge pausedMs cannot stretch its timeout: the host credits only pauses it asked for', async () => {
  thread = new RuntimeThread(inflatingWorker, { interruptBuffer: true, graceMs: 100 });
  await thread.start({});
  const run = await thread.run(job, null);
  expect(run).toMatchObject({ ok: false, failure: 'timeout' });
  expect(run.pausedMs ?? 0).toBe(0);
});

/**
 * A fake worker whose chunk runs for `runMs` of unsuspended time, acknowledging through the control block as
 * `behaviour` says: `honest` parks while suspended and sleeps its CPU-limit share; `stubborn` does neither (a chunk
 * that ignores signals, detached the poll or sits in a long C call looks like this to the host).
 */
function fakeWorker(behaviour: 'honest' | 'stubborn', runMs: number, spawned: { count: number } = { count: 0 }): () => SpawnedWorker {
  return () => {
    spawned.count++;
    const { port1, port2 } = new MessageChannel();
    let block: Int32Array | undefined;
    const runtime: ChunkRuntime = {
      async initialize() {},
      setInterruptBuffer(buffer) {
        block = new Int32Array(buffer);
      },
      park() {
        if (behaviour === 'honest' && block) Atomics.store(block, Control.parked, Atomics.load(block, Control.paused));
      },
      run(): Promise<ChunkRun> {
        const b = block!;
        return new Promise((resolve) => {
          let done = 0;
          Atomics.store(b, Control.computing, 1);
          const tick = setInterval(() => {
            const paused = Atomics.load(b, Control.paused) === 1;
            if (behaviour === 'honest') {
              Atomics.store(b, Control.parked, paused ? 1 : 0);
              const limit = Atomics.load(b, Control.cpuLimit);
              if (paused) Atomics.add(b, Control.pausedMs, 20);
              else if (limit < 100) Atomics.add(b, Control.pausedMs, Math.round((20 * (100 - limit)) / 100));
            }
            if (!paused) done += 20;
            if (done >= runMs) {
              clearInterval(tick);
              Atomics.store(b, Control.computing, 0);
              resolve({ ok: true, output: 'finished', stdout: '', stderr: '', durationMs: done });
            }
          }, 20);
        });
      },
      memoryBytes: () => 0,
      dispose() {},
    };
    Comlink.expose(runtime, port2 as unknown as Comlink.Endpoint);
    return {
      endpoint: port1 as unknown as Comlink.Endpoint,
      terminate: () => {
        port1.close();
        port2.close();
      },
    };
  };
}

const long: JobSpec = { ...job, timeoutMs: 60_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a chunk that does not park within 1 s of suspend() is given back (its worker replaced), not failed', async () => {
  const spawned = { count: 0 };
  thread = new RuntimeThread(fakeWorker('stubborn', 30_000, spawned), { interruptBuffer: true, standby: false });
  await thread.start({});
  const running = thread.run(long, null);
  await sleep(200);
  const suspendedAt = performance.now();
  thread.suspend();
  const run = await running;
  const after = performance.now() - suspendedAt;
  thread.resume();
  expect(run).toMatchObject({ ok: false, givenBack: true, error: expect.stringContaining('did not pause within 1000 ms') });
  expect(after).toBeGreaterThan(900);
  expect(after).toBeLessThan(2_000);
  expect(spawned.count).toBe(2); // replaced at once: the next chunk gets a fresh worker
});

test('an honest chunk parks on suspend(), is held, resumes and completes', async () => {
  thread = new RuntimeThread(fakeWorker('honest', 600), { interruptBuffer: true, standby: false });
  await thread.start({});
  const running = thread.run(long, null);
  await sleep(200);
  thread.suspend();
  await sleep(1_500);
  thread.resume();
  const run = await running;
  expect(run).toMatchObject({ ok: true, output: 'finished' });
  expect(run.givenBack).toBeUndefined();
  expect(run.pausedMs).toBeGreaterThan(1_000);
});

test('under a 50% CPU limit a chunk that does not sleep its share is given back within about 2 s; one that does finishes', async () => {
  thread = new RuntimeThread(fakeWorker('stubborn', 30_000), { interruptBuffer: true, standby: false });
  await thread.start({});
  thread.setCpuLimit(50);
  const started = performance.now();
  const run = await thread.run(long, null);
  expect(run).toMatchObject({ ok: false, givenBack: true, error: expect.stringContaining('50% CPU limit') });
  expect(performance.now() - started).toBeLessThan(2_600);
  thread.dispose();

  thread = new RuntimeThread(fakeWorker('honest', 2_500), { interruptBuffer: true, standby: false });
  await thread.start({});
  thread.setCpuLimit(50);
  expect(await thread.run(long, null)).toMatchObject({ ok: true, output: 'finished' });
});

test("a suspended thread's idle worker that does not park (something a chunk left running) is replaced", async () => {
  const spawned = { count: 0 };
  thread = new RuntimeThread(fakeWorker('stubborn', 20, spawned), { interruptBuffer: true, standby: false });
  await thread.start({});
  await thread.run(job, null);
  thread.suspend();
  await sleep(1_300);
  thread.resume();
  expect(thread.loadedJobId).toBeUndefined(); // the worker that ran the job is gone
  await thread.run(job, null);
  expect(spawned.count).toBe(2);
});

test('without the watchdog (runtimes that run no user code) a chunk that does not park is left to finish', async () => {
  thread = new RuntimeThread(fakeWorker('stubborn', 1_500), { interruptBuffer: true, standby: false, watchdog: false });
  await thread.start({});
  const running = thread.run(long, null);
  await sleep(100);
  thread.suspend();
  await sleep(100);
  thread.resume();
  expect(await running).toMatchObject({ ok: true });
});
