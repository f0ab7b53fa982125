// Soak: one tab computes 5,000 trivial chunks (every chunk with its OPFS workspace, outbox write and report) and its
// memory stays bounded: the page's JS heap (after GC) and each worker's WebAssembly memory are sampled as it goes.
// The numbers are printed and written to test-results/soak.json; docs/contributors.md records a run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { getJob, startCoordinator, waitForJob } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

const CHUNKS = Number(process.env.SOAK_CHUNKS ?? 5000);
const THREADS = 2;
const MIB = 1024 * 1024;

interface Sample {
  completed: number;
  seconds: number;
  pageHeapMiB: number;
  wasmMiB: number[];
  restarts: number;
}

test('5,000 chunks in one tab with bounded JS heap and WebAssembly memory', async ({ browser }) => {
  test.setTimeout(30 * 60_000);
  const coordinator = await startCoordinator({ store: 'memory', args: ['--quiet'] });
  const job = await submitJob(coordinator.url, {
    name: 'soak',
    source: 'def main(x):\n    return x * 2\n',
    inputs: Array.from({ length: CHUNKS }, (_, i) => i),
  });
  const tab = await contribute(browser, coordinator.url, THREADS);
  const cdp = await tab.context.newCDPSession(tab.page);
  const started = Date.now();
  const samples: Sample[] = [];
  const sample = async (completed: number) => {
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = await cdp.send('Runtime.getHeapUsage');
    const snapshot = await tab.page.evaluate(() =>
      (globalThis as unknown as { idleSense: { snapshot(): { threads: { memoryBytes?: number; recycled: number }[] } } }).idleSense.snapshot(),
    );
    samples.push({
      completed,
      seconds: Math.round((Date.now() - started) / 1000),
      pageHeapMiB: +(heap.usedSize / MIB).toFixed(1),
      wasmMiB: snapshot.threads.map((t) => +((t.memoryBytes ?? 0) / MIB).toFixed(1)),
      restarts: snapshot.threads.reduce((sum, t) => sum + t.recycled, 0),
    });
    console.log(`soak: ${JSON.stringify(samples[samples.length - 1])}`);
  };

  const step = Math.max(100, Math.floor(CHUNKS / 10));
  for (let next = step; next <= CHUNKS; next += step) {
    const at = await waitForJob(coordinator.url, job.id, (j) => j.completed >= next, 25 * 60_000);
    await sample(at.completed);
  }
  const done = await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 5 * 60_000);
  expect(done).toMatchObject({ completed: CHUNKS, failed: 0 });
  const got = await results(coordinator.url, job.id);
  expect(got.every((r, i) => r.output === i * 2)).toBe(true);
  await expect.poll(async () => Number(await tab.page.getByTestId('total-done').textContent())).toBe(CHUNKS);

  // Bounded: after the first tenth, the page heap grows by less than 50% and no worker exceeds its ceiling.
  const early = samples[0];
  const last = samples[samples.length - 1];
  expect(last.pageHeapMiB).toBeLessThan(early.pageHeapMiB * 1.5 + 5);
  for (const s of samples) for (const wasm of s.wasmMiB) expect(wasm).toBeLessThan(1024);
  const seconds = (Date.now() - started) / 1000;
  const summary = { chunks: CHUNKS, threads: THREADS, seconds: Math.round(seconds), chunksPerSecond: +(CHUNKS / seconds).toFixed(1), samples };
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/soak.json', JSON.stringify(summary, null, 2));
  console.log(`soak summary: ${JSON.stringify({ ...summary, samples: undefined })}`);
  expect((await getJob(coordinator.url, job.id)).failed).toBe(0);
  await tab.context.close();
  await coordinator.stop();
});
