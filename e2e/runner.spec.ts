// A mixed pool: one browser tab and one headless runner process contribute to the same coordinator. A job with two
// replicas per chunk is verified with one replica from each (there are only these two contributors), so Pyodide in
// a tab and Pyodide in the runner (worker_threads) agree on every chunk.
import { expect, test } from '@playwright/test';
import type { ChunkDetail } from '../protocol/index.js';
import { startRunner, type RunningRunner } from '../runner/src/spawn-runner.js';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { chunksDone, contribute, results, submitJob } from './helpers.js';

const CHUNKS = 8;
const SOURCE = `
def main(n):
    total = 0
    for k in range(1, 30001):
        total = (total * 31 + k * k * (n + 7)) % 1000003
    return {"n": n, "hash": total, "float": (n + 0.5) ** 0.5}
`;

function reference(n: number) {
  let total = 0;
  for (let k = 1; k <= 30000; k++) total = (total * 31 + k * k * (n + 7)) % 1000003;
  return { n, hash: total, float: Math.sqrt(n + 0.5) };
}

let coordinator: RunningCoordinator;
let runner: RunningRunner | undefined;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
});
test.afterAll(async () => {
  await runner?.kill();
  await coordinator?.stop();
});

test('a tab and the headless runner verify each other: every chunk has one agreeing replica from each', async ({ browser }) => {
  test.setTimeout(180_000);
  const job = await submitJob(coordinator.url, { source: SOURCE, inputs: Array.from({ length: CHUNKS }, (_, i) => i), replicas: 2 });
  runner = startRunner(coordinator.url, ['--threads', '1', '--runtimes', 'python']);
  const { page } = await contribute(browser, coordinator.url, 1);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 150_000);

  const got = await results(coordinator.url, job.id);
  expect(got).toHaveLength(CHUNKS);
  for (const result of got) {
    expect(result, `chunk ${result.index}`).toMatchObject({ status: 'ok', verified: true, agreeing: 2 });
    expect(result.output).toEqual(reference(result.index));
    const detail = (await (await fetch(`${coordinator.url}/api/jobs/${job.id}/chunks/${result.index}`)).json()) as ChunkDetail;
    const agreeing = detail.results.filter((r) => r.state === 'ok' && r.validation === 'valid');
    expect(new Set(agreeing.map((r) => r.contributor)).size).toBe(2);
  }
  // Two contributors, two distinct replicas per chunk: each computed every chunk once.
  await runner.waitFor((e) => e.event === 'progress' && e.done === CHUNKS && e.unsent === 0, 20_000, `${CHUNKS} chunks reported by the runner`);
  await expect.poll(() => chunksDone(page), { timeout: 20_000 }).toBe(CHUNKS);
});

test('--only-when-idle: the runner pauses its sandbox while other programs load the machine, and resumes after', async () => {
  test.setTimeout(120_000);
  const { readdirSync, readFileSync } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  const source = `
import time
for i in range(1, 151):
    with open("progress", "w") as f:
        f.write(str(i))
    time.sleep(0.1)
print("done", i)
`;
  const job = await submitJob(coordinator.url, { runtime: 'native', command: ['python3', 'main.py'], source, inputs: [0], timeoutMs: 120_000 });
  const idle = startRunner(coordinator.url, ['--threads', '1', '--runtimes', 'native', '--only-when-idle', '--idle-cpu', '30']);
  try {
    await idle.waitFor((e) => e.event === 'chunk', 60_000, 'the chunk starting');
    const progress = () => {
      const chunk = readdirSync(idle.workspace).find((name) => name.startsWith('idle-sense-chunk-'));
      try {
        return chunk ? Number(readFileSync(`${idle.workspace}/${chunk}/progress`, 'utf8')) || 0 : 0;
      } catch {
        return 0;
      }
    };
    await expect.poll(progress, { timeout: 10_000 }).toBeGreaterThan(0);
    // The owner comes back: two busy processes that are not the runner's (all of this 2-core machine).
    const load = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    try {
      const paused = await idle.waitFor((e) => e.event === 'paused', 30_000, 'a pause');
      expect(String((paused.reasons as string[])[0])).toMatch(/the machine is in use/);
      const atPause = progress();
      await new Promise((r) => setTimeout(r, 2000));
      expect(progress(), 'the chunk is stopped while paused').toBeLessThanOrEqual(atPause + 1);
    } finally {
      for (const child of load) child.kill('SIGKILL');
    }
    await idle.waitFor((e) => e.event === 'resumed', 30_000, 'the resume');
    const atResume = progress();
    await expect.poll(progress, { timeout: 10_000 }).toBeGreaterThan(atResume + 3);
    await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 60_000);
  } finally {
    await idle.kill();
  }
});
