// A coordinator killed with SIGKILL mid-job and started again on the same database loses no accepted result,
// and the job completes: the contributor tab rides out the outage and reports to the new process.
import { expect, test } from '@playwright/test';
import { startCoordinator, waitForJob } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

test('the job completes after the coordinator is killed and restarted', async ({ browser }) => {
  const first = await startCoordinator({ store: 'sqlite', args: ['--lease-grace-s', '5'] });
  const source = 'import time\n\ndef main(x):\n    time.sleep(0.15)\n    return x * 3\n';
  const job = await submitJob(first.url, { name: 'survives restart', source, inputs: Array.from({ length: 60 }, (_, i) => i) });
  const tab = await contribute(browser, first.url, 2);

  const before = await waitForJob(first.url, job.id, (j) => j.completed >= 10, 120_000);
  expect(before.status).toBe('running');
  const acceptedBefore = await results(first.url, job.id);
  await first.kill();

  await new Promise((r) => setTimeout(r, 1500));
  const second = await startCoordinator({ store: 'sqlite', dataDir: first.dataDir, port: first.port, args: ['--lease-grace-s', '5'] });
  const done = await waitForJob(second.url, job.id, (j) => j.status === 'completed', 150_000);
  expect(done).toMatchObject({ total: 60, completed: 60, failed: 0 });

  const after = await results(second.url, job.id);
  expect(after.map((r) => r.output)).toEqual(Array.from({ length: 60 }, (_, i) => i * 3));
  for (const result of acceptedBefore) expect(after[result.index]).toMatchObject({ status: 'ok', output: result.output });
  await tab.context.close();
  await second.stop();
});
