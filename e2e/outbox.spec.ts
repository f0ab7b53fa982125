// Nothing computed is lost: a result finished while the network is down waits in the outbox (IndexedDB) and is sent
// when the network returns, or by the next page load if the tab was closed meanwhile. The contributor identity
// survives reloads, so the coordinator sees the same contributor throughout.
import { expect, test, type Page } from '@playwright/test';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'sqlite' });
});
test.afterAll(async () => {
  await coordinator?.stop();
});

/** A chunk that computes for about `seconds` (a busy loop: it is the CPU we are testing, not sleep). */
const busy = (seconds: number) => `import time\ndef main(x):\n    end = time.time() + ${seconds}\n    while time.time() < end:\n        pass\n    return x * 10\n`;

const registrations = () => coordinator.log().split('\n').filter((line) => / contributor \S+ registered/.test(line)).length;

async function contributorId(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('keyval-store');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('keyval').objectStore('keyval').get('idle-sense.contributor');
          get.onsuccess = () => resolve(get.result?.contributorId);
        };
      }),
  );
}

test('a result finished offline is sent when the network returns', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'offline', source: busy(2), inputs: [1] });
  const tab = await contribute(browser, coordinator.url, 1);
  await expect(tab.page.getByTestId('thread-status')).toContainText('running offline chunk 0');
  await tab.context.setOffline(true);
  await expect(tab.page.getByTestId('totals-note')).toContainText('1 result waiting to be sent', { timeout: 30_000 });
  await expect(tab.page.getByTestId('coordinator-status')).toContainText(/unreachable|no work|connected/);
  await tab.page.waitForTimeout(3000);
  expect((await results(coordinator.url, job.id))).toEqual([]);

  await tab.context.setOffline(false);
  const done = await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 60_000);
  expect(done.completed).toBe(1);
  expect(await results(coordinator.url, job.id)).toMatchObject([{ index: 0, status: 'ok', output: 10, attempts: 1 }]);
  await expect(tab.page.getByTestId('totals-note')).toHaveText('');
  await tab.context.close();
});

test('a result finished offline survives closing the tab and is sent by the next page load, as the same contributor', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'closed tab', source: busy(2), inputs: [7] });
  const before = registrations();
  const tab = await contribute(browser, coordinator.url, 1);
  await expect(tab.page.getByTestId('thread-status')).toContainText('running closed tab chunk 0');
  const id = await contributorId(tab.page);
  await tab.context.setOffline(true);
  await expect(tab.page.getByTestId('totals-note')).toContainText('1 result waiting to be sent', { timeout: 30_000 });
  await tab.page.close(); // the tab goes away with the result still unsent

  await tab.context.setOffline(false);
  const page = await tab.context.newPage();
  await page.goto(`${coordinator.url}/`); // not even started: the outbox is sent on load
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 60_000);
  expect(await results(coordinator.url, job.id)).toMatchObject([{ index: 0, status: 'ok', output: 70, attempts: 1 }]);
  expect(await contributorId(page)).toBe(id);
  expect(registrations() - before).toBe(1);
  await tab.context.close();
});

test('a reload mid-chunk keeps the identity; the interrupted chunk is recomputed and the job completes', async ({ browser }) => {
  // Short lease grace and retry cooldown: the interrupted chunk's lease lapses soon and the same tab may retry it.
  await coordinator.stop();
  coordinator = await startCoordinator({ store: 'sqlite', dataDir: coordinator.dataDir, args: ['--lease-grace-s', '2', '--retry-cooldown-s', '1'] });
  const job = await submitJob(coordinator.url, { name: 'reloaded', source: busy(1.5), inputs: [1, 2], timeoutMs: 3_000 });
  const before = registrations();
  const tab = await contribute(browser, coordinator.url, 1);
  await expect(tab.page.getByTestId('thread-status')).toContainText('running reloaded chunk');
  const id = await contributorId(tab.page);
  await tab.page.reload();
  await tab.page.getByRole('button', { name: 'Start contributing' }).click();
  expect(await contributorId(tab.page)).toBe(id);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 150_000);
  expect((await results(coordinator.url, job.id)).map((r) => r.output)).toEqual([10, 20]);
  expect(registrations() - before).toBe(1);
  await tab.context.close();
});
