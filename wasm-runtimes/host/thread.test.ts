// RuntimeThread against an in-process fake worker (a MessageChannel with Comlink on the far end): the host's own
// bookkeeping, independent of any real runtime.
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
