// The contributor's controls, each proven in real Chromium: pausing (with the reason shown) and resuming for
// only-when-idle (page input, and the Idle Detection API via DevTools), battery (a stubbed Battery Status API: the
// browser has no battery emulation), heat (Compute Pressure via DevTools); the CPU limit's duty cycle; the memory
// ceiling; "finish current chunks, then stop". While paused, a running chunk is suspended: no progress at all.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { getJob, startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { results, submitJob } from './helpers.js';

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
});
test.afterAll(async () => {
  await coordinator?.stop();
});

/** Chunks that each compute for about `seconds` (busy: pausing must stop real CPU work). */
const busy = (seconds: number) => `import time\ndef main(x):\n    end = time.process_time() + ${seconds}\n    n = 0\n    while time.process_time() < end:\n        n += 1\n    return x\n`;
/** A fixed amount of work, for timing the CPU limit. */
const COUNT = 'def main(x):\n    s = 0\n    for i in range(3_000_000):\n        s += i\n    return s\n';

async function openTab(browser: import('@playwright/test').Browser, setup?: (context: BrowserContext) => Promise<void>): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  await setup?.(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[contributor page error] ${err.message}`));
  await page.goto(`${coordinator.url}/`);
  await page.getByTestId('threads-input').fill('1');
  await page.getByTestId('settings').locator('summary').click();
  await setField(page, 'battery-input', false);
  await setField(page, 'heat-input', false); // this busy test machine reports real CPU pressure
  return { context, page };
}

async function setField(page: Page, testId: string, value: string | boolean): Promise<void> {
  const input = page.getByTestId(testId);
  if (typeof value === 'boolean') await input.setChecked(value);
  else {
    await input.fill(value);
    await input.dispatchEvent('change');
  }
}

/** A setting as the page stored it in IndexedDB (idb-keyval's default store). */
async function storedSetting(page: Page, name: string): Promise<unknown> {
  return page.evaluate(
    (name) =>
      new Promise((resolve) => {
        const open = indexedDB.open('keyval-store');
        open.onsuccess = () => {
          const read = open.result.transaction('keyval').objectStore('keyval').get('idle-sense.settings');
          read.onsuccess = () => resolve((read.result as Record<string, unknown> | undefined)?.[name]);
          read.onerror = () => resolve(undefined);
        };
        open.onerror = () => resolve(undefined);
      }),
    name,
  );
}

const start = (page: Page) => page.getByRole('button', { name: 'Start contributing' }).click();

async function expectPaused(page: Page, reason: RegExp): Promise<void> {
  await expect(page.getByTestId('session-state')).toHaveText('Paused');
  await expect(page.getByTestId('pause-reasons')).toContainText(reason);
}

/** While paused, nothing moves: neither finished chunks nor the job's progress. */
async function expectNoProgress(page: Page, jobId: string, ms = 2500): Promise<void> {
  const done = await page.getByTestId('total-done').textContent();
  // A chunk that finished just as the pause began is reported ~100 ms later: take the baseline once it is in.
  await expect.poll(async () => (await getJob(coordinator.url, jobId)).completed).toBe(Number(done));
  const completed = (await getJob(coordinator.url, jobId)).completed;
  await page.waitForTimeout(ms);
  expect(await page.getByTestId('total-done').textContent()).toBe(done);
  expect((await getJob(coordinator.url, jobId)).completed).toBe(completed);
}

async function expectProgress(page: Page): Promise<void> {
  await expect(page.getByTestId('session-state')).toHaveText('Contributing');
  const done = Number(await page.getByTestId('total-done').textContent());
  await expect.poll(async () => Number(await page.getByTestId('total-done').textContent()), { timeout: 30_000 }).toBeGreaterThan(done);
}

test('pause on battery: paused while discharging, resumed when charging', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'battery', source: busy(0.7), inputs: Array.from({ length: 40 }, (_, i) => i) });
  const tab = await openTab(browser, async (context) => {
    await context.addInitScript(() => {
      const battery = Object.assign(new EventTarget(), { charging: true, level: 0.8 });
      Object.defineProperty(navigator, 'getBattery', { value: () => Promise.resolve(battery) });
      (window as unknown as { setCharging: (charging: boolean) => void }).setCharging = (charging) => {
        battery.charging = charging;
        battery.dispatchEvent(new Event('chargingchange'));
      };
    });
  });
  await setField(tab.page, 'battery-input', true);
  await start(tab.page);
  await expectProgress(tab.page);
  await tab.page.evaluate(() => (window as unknown as { setCharging: (c: boolean) => void }).setCharging(false));
  await expectPaused(tab.page, /Paused: the computer is running on battery/);
  await expectNoProgress(tab.page, job.id);
  await tab.page.evaluate(() => (window as unknown as { setCharging: (c: boolean) => void }).setCharging(true));
  await expectProgress(tab.page);
  await tab.context.close();
  await fetch(`${coordinator.url}/api/jobs/${job.id}`, { method: 'DELETE' });
});

test('pause under heat: paused at serious/critical CPU pressure, resumed at fair', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'heat', source: busy(0.7), inputs: Array.from({ length: 40 }, (_, i) => i) });
  const tab = await openTab(browser);
  const cdp = await tab.context.newCDPSession(tab.page);
  await cdp.send('Emulation.setPressureSourceOverrideEnabled', { enabled: true, source: 'cpu' });
  await cdp.send('Emulation.setPressureStateOverride', { source: 'cpu', state: 'nominal' });
  await setField(tab.page, 'heat-input', true); // saved with the other settings
  // The save is asynchronous (IndexedDB): reload only once it is stored.
  await expect.poll(() => storedSetting(tab.page, 'pauseUnderHeat')).toBe(true);
  await tab.page.reload(); // the page's pressure observer now starts on the overridden source only
  await expect(tab.page.getByTestId('heat-input')).toBeChecked();
  await start(tab.page);
  await expectProgress(tab.page);
  await cdp.send('Emulation.setPressureStateOverride', { source: 'cpu', state: 'critical' });
  await expectPaused(tab.page, /Paused: the CPU is under critical pressure/);
  await expectNoProgress(tab.page, job.id);
  await cdp.send('Emulation.setPressureStateOverride', { source: 'cpu', state: 'serious' });
  await expectPaused(tab.page, /Paused: the CPU is under serious pressure/);
  await cdp.send('Emulation.setPressureStateOverride', { source: 'cpu', state: 'fair' });
  await expectProgress(tab.page);
  await tab.context.close();
  await fetch(`${coordinator.url}/api/jobs/${job.id}`, { method: 'DELETE' });
});

test('only when idle: input on the page pauses, a few quiet seconds resume; system idle detection via DevTools', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'idle', source: busy(0.5), inputs: Array.from({ length: 60 }, (_, i) => i) });
  // Playwright does not know the idle-detection permission: grant it through the browser's DevTools session.
  const browserCdp = await browser.newBrowserCDPSession();
  const contextIds = async () => (await browserCdp.send('Target.getBrowserContexts')).browserContextIds;
  const before = new Set(await contextIds());
  const tab = await openTab(browser, async () => {
    for (const browserContextId of await contextIds()) {
      if (!before.has(browserContextId)) {
        await browserCdp.send('Browser.grantPermissions', { permissions: ['idleDetection'], origin: coordinator.url, browserContextId });
      }
    }
  });
  const cdp = await tab.context.newCDPSession(tab.page);
  await cdp.send('Emulation.setIdleOverride', { isUserActive: false, isScreenUnlocked: true });
  await setField(tab.page, 'idle-input', true);
  await setField(tab.page, 'idle-minutes-input', '0.05'); // 3 s without input
  await start(tab.page);
  // The click itself is input: paused until the page has been quiet for 3 s.
  await expectPaused(tab.page, /Paused: you are using this page \(only when idle: resumes after \d s without input\)/);
  await expectProgress(tab.page);
  await tab.page.mouse.move(10, 10);
  await tab.page.mouse.move(200, 150);
  await expectPaused(tab.page, /you are using this page/);
  await expectProgress(tab.page);

  // System-wide: the Idle Detection API (granted, overridden through DevTools) says the user is active.
  await cdp.send('Emulation.setIdleOverride', { isUserActive: true, isScreenUnlocked: true });
  await expectPaused(tab.page, /Paused: the computer is in use/);
  await expectNoProgress(tab.page, job.id);
  await cdp.send('Emulation.setIdleOverride', { isUserActive: false, isScreenUnlocked: true });
  await expectProgress(tab.page);
  await tab.context.close();
  await fetch(`${coordinator.url}/api/jobs/${job.id}`, { method: 'DELETE' });
});

test('the CPU limit stretches chunks by a run/pause duty cycle (25% ≈ 4× the wall time)', async ({ browser }) => {
  const tab = await openTab(browser);
  await setField(tab.page, 'cpu-limit-input', '25');
  await start(tab.page);
  await expect(tab.page.getByTestId('thread-status')).toHaveText('idle', { timeout: 60_000 });
  // Enough work per chunk (about 0.3 s each here) that the duty cycle, not start-up noise, decides the wall time.
  const job = await submitJob(coordinator.url, { name: 'limited', source: COUNT.replace('3_000_000', '10_000_000'), inputs: [1, 2] });
  const started = Date.now();
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 120_000);
  const wall = Date.now() - started;
  const compute = (await results(coordinator.url, job.id)).reduce((sum, r) => sum + (r.durationMs ?? 0), 0);
  expect(compute).toBeGreaterThan(200);
  expect(wall / compute).toBeGreaterThan(2.5);
  await tab.context.close();
});

test('the memory ceiling restarts a thread whose WebAssembly memory outgrew it, after its chunk', async ({ browser }) => {
  const tab = await openTab(browser);
  await setField(tab.page, 'memory-input', '320');
  await start(tab.page);
  const job = await submitJob(coordinator.url, {
    name: 'grows',
    source: 'def main(x):\n    if x == 1:\n        block = bytearray(400 * 1024 * 1024)\n        del block\n    return x\n',
    inputs: [0, 1, 2],
  });
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 120_000);
  expect((await results(coordinator.url, job.id)).map((r) => r.output)).toEqual([0, 1, 2]);
  await expect(tab.page.getByTestId('thread-detail')).toContainText('restarted 1 time');
  await tab.context.close();
});

test('"finish current chunks, then stop" lets the running chunk end, reports it and leases nothing more', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'finish', source: busy(2), inputs: [0, 1, 2, 3] });
  const tab = await openTab(browser);
  await start(tab.page);
  await expect(tab.page.getByTestId('thread-status')).toContainText('running finish chunk 0', { timeout: 60_000 });
  await tab.page.getByRole('button', { name: 'Finish current chunks, then stop' }).click();
  await expect(tab.page.getByTestId('session-state')).toHaveText('Finishing, then stopping');
  await expect(tab.page.getByTestId('session-state')).toHaveText('Stopped', { timeout: 30_000 });
  await tab.page.waitForTimeout(1500);
  expect(await results(coordinator.url, job.id)).toMatchObject([{ index: 0, status: 'ok', output: 0 }]);
  expect(await getJob(coordinator.url, job.id)).toMatchObject({ completed: 1, running: 0 });
  await tab.context.close();
  await fetch(`${coordinator.url}/api/jobs/${job.id}`, { method: 'DELETE' });
});
