// One tab, one thread, many jobs: every job switch discards the worker and takes the standby (one job per worker,
// wasm-runtimes/host/thread.ts). The tab must keep working through switch after switch, whatever the order the
// coordinator hands chunks out in, and every chunk's output must be its own job's.
import { expect, test } from '@playwright/test';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
});
test.afterAll(async () => {
  await coordinator?.stop();
});

test('a one-thread tab works through chunks of four jobs in turn, each job switch on a fresh worker', async ({ browser }) => {
  test.setTimeout(240_000);
  const jobs = [];
  for (let j = 0; j < 4; j++) {
    // Each job leaves a marker behind in its worker; a chunk that sees another job's marker says so.
    const source = [
      'import builtins, time',
      `def main(x):`,
      `    seen = getattr(builtins, "job_marker", None)`,
      `    builtins.job_marker = ${j}`,
      `    end = time.time() + 0.1`,
      `    while time.time() < end: pass`,
      `    return {"job": ${j}, "x": x, "seen": seen}`,
      '',
    ].join('\n');
    jobs.push(await submitJob(coordinator.url, { name: `switch ${j}`, source, inputs: [0, 1] }));
  }
  const { context } = await contribute(browser, coordinator.url, 1);
  for (const [j, job] of jobs.entries()) {
    await waitForJob(coordinator.url, job.id, (s) => s.status === 'completed', 200_000);
    const rows = await results(coordinator.url, job.id);
    expect(rows.map((r) => r.status)).toEqual(['ok', 'ok']);
    for (const row of rows) {
      const out = row.output as { job: number; x: number; seen: number | null };
      expect(out.job).toBe(j);
      expect(out.x).toBe(row.index);
      expect([null, j]).toContain(out.seen);
    }
  }
  await context.close();
});
