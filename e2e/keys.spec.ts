// The key flow on the pages with --auth keys: /submit asks for the key once (in-page form) and keeps it, the owner
// reads its job page, a private job is refused to another key and to no key, and cancelling is refused to a
// non-owner; a private job's page follows its chunks live over the keyed stream, downloads its CSV with the key, and
// is refused again once the key is forgotten.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { startCoordinator, type RunningCoordinator } from './coordinator.js';
import { contribute, submitOnPage } from './helpers.js';

let coordinator: RunningCoordinator;
let alice: string;
let bob: string;

const createKey = (name: string) =>
  /(isk_\S+)/.exec(execFileSync('npx', ['tsx', 'coordinator/src/keys.ts', 'create', name, '--data-dir', coordinator.dataDir], { encoding: 'utf8' }))![1];

test.beforeAll(async () => {
  coordinator = await startCoordinator({ args: ['--auth', 'keys'] });
  alice = createKey('alice');
  bob = createKey('bob');
});
test.afterAll(async () => coordinator?.stop());

const keyForm = (page: Page) => page.getByRole('dialog', { name: 'API key' });

/** Types `key` into the page's key form (which must be open) and presses Use key. */
async function enterKey(page: Page, key: string): Promise<void> {
  const form = keyForm(page);
  await expect(form).toBeVisible();
  await form.getByLabel('API key').fill(key);
  await form.getByRole('button', { name: 'Use key' }).click();
}

test('submit asks for the key once, the owner reads the job, others are refused a private job and its cancel', async ({ page }) => {
  // window.prompt is gone: a dialog would fail the test rather than wait for an answer nobody gives.
  page.on('dialog', (dialog) => {
    throw new Error(`unexpected browser dialog: ${dialog.message()}`);
  });
  await page.goto(`${coordinator.url}/submit`);
  await expect(page.getByTestId('forget-key')).toBeHidden();
  await page.getByTestId('source-input').fill('def main(x):\n    return x + 1\n');
  await page.getByTestId('inputs-input').fill('[1, 2, 3]');
  await page.getByTestId('submit-button').click();
  await expect(keyForm(page).getByTestId('api-key-message')).toHaveText(/needs an API key/);
  await expect(keyForm(page).getByLabel('API key')).toHaveAttribute('type', 'password');
  await expect(keyForm(page).getByLabel('API key')).toBeFocused();
  const jobId = await (async () => {
    await enterKey(page, alice);
    await page.waitForURL(/\/jobs\/[^/?#]+$/);
    return new URL(page.url()).pathname.split('/').pop()!;
  })();
  await expect(page.getByTestId('job-status')).toHaveText(/queued|running/i);
  expect(await page.evaluate(() => localStorage.getItem('idle-sense:api-key'))).toBe(alice);
  await expect(page.getByTestId('api-key-status')).toHaveText('Using a saved API key');

  // A second submission from the same browser asks nothing: the key is kept.
  await page.goto(`${coordinator.url}/submit`);
  await page.getByTestId('source-input').fill('def main(x):\n    return x\n');
  await page.getByTestId('inputs-input').fill('[1]');
  await submitOnPage(page);
  await expect(keyForm(page)).toBeHidden();

  const api = (path: string, init: RequestInit = {}) => fetch(`${coordinator.url}${path}`, init);
  const submitted = await api('/api/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
    body: JSON.stringify({ runtime: 'python', source: 'def main(x):\n    return x\n', inputs: [1], private: true }),
  });
  const secret = (await submitted.json()) as { id: string };
  expect((await api(`/api/jobs/${secret.id}/source`)).status).toBe(401);
  expect((await api(`/api/jobs/${secret.id}/source`, { headers: { authorization: `Bearer ${bob}` } })).status).toBe(403);
  expect((await api(`/api/jobs/${secret.id}/source`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(200);
  expect((await api(`/api/jobs/${jobId}`, { method: 'DELETE', headers: { authorization: `Bearer ${bob}` } })).status).toBe(403);

  // The owner's page shows the private job; a browser holding bob's key is refused it.
  await page.goto(`${coordinator.url}/jobs/${secret.id}`);
  await expect(page.getByTestId('job-status')).toHaveText(/queued|running/i);
  const other = await page.context().browser()!.newContext();
  const bobPage = await other.newPage();
  await bobPage.goto(`${coordinator.url}/submit`);
  await bobPage.evaluate((key) => localStorage.setItem('idle-sense:api-key', key), bob);
  const refused = bobPage.waitForResponse((r) => r.url().endsWith(`/api/jobs/${secret.id}`));
  await bobPage.goto(`${coordinator.url}/jobs/${secret.id}`);
  expect((await refused).status()).toBe(403);
  await expect(keyForm(bobPage).getByTestId('api-key-message')).toHaveText(/does not own the job/);
  await keyForm(bobPage).getByRole('button', { name: 'Cancel' }).click();
  await expect(bobPage.locator('#page-error')).toContainText(/owner/);
  // Cancelling keeps bob's key: it is live, it just does not own this job.
  expect(await bobPage.evaluate(() => localStorage.getItem('idle-sense:api-key'))).toBe(bob);
  await other.close();
});

// Long enough per chunk that the page sees progress between the first and the last chunk.
const SLOW = 'import time\n\ndef main(x):\n    end = time.time() + 0.5\n    while time.time() < end:\n        pass\n    return {"x": x, "square": x * x}\n';

test("a private job's page takes the owner's key, follows it live, downloads its CSV, and is refused once the key is forgotten", async ({ browser }) => {
  // The first test's jobs are alice's and still queued: cancel them, so the contributor below works on this job only.
  const auth = { authorization: `Bearer ${alice}` };
  const left = (await (await fetch(`${coordinator.url}/api/jobs`, { headers: auth })).json()) as { id: string; status: string }[];
  for (const old of left.filter((j) => j.status === 'queued' || j.status === 'running')) {
    expect((await fetch(`${coordinator.url}/api/jobs/${old.id}`, { method: 'DELETE', headers: auth })).status).toBe(200);
  }

  const submitted = await fetch(`${coordinator.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
    body: JSON.stringify({ runtime: 'python', name: 'private squares', source: SLOW, inputs: [1, 2, 3, 4, 5, 6, 7, 8], private: true }),
  });
  expect(submitted.status).toBe(201);
  const job = (await submitted.json()) as { id: string };

  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const streams: { status: number; authorized: boolean }[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname === `/api/jobs/${job.id}/events`) {
      streams.push({ status: response.status(), authorized: response.request().headers()['authorization'] === `Bearer ${alice}` });
    }
  });
  await page.goto(`${coordinator.url}/jobs/${job.id}`);

  // No key yet: the form says why; a made-up key is refused as unknown, bob's as not the owner's.
  await expect(keyForm(page).getByTestId('api-key-message')).toHaveText(/needs an API key/);
  await keyForm(page).getByRole('button', { name: 'Use key' }).click();
  await expect(keyForm(page).getByTestId('api-key-empty')).toBeVisible();
  await enterKey(page, 'isk_not-a-key');
  await expect(keyForm(page).getByTestId('api-key-message')).toHaveText(/refused that key: it is unknown or was revoked/);
  await enterKey(page, bob);
  await expect(keyForm(page).getByTestId('api-key-message')).toHaveText(/does not own the job/);
  await enterKey(page, alice);
  await expect(keyForm(page)).toBeHidden();
  await expect(page.getByRole('heading', { name: 'private squares' })).toBeVisible();
  await expect(page.getByTestId('job-progress')).toHaveText('0 / 8');
  expect(await page.evaluate(() => localStorage.getItem('idle-sense:api-key'))).toBe(alice);

  // A contributor works through the chunks; the page shows them as they finish, without reloading.
  const seen = new Set<string>();
  const watch = setInterval(() => {
    void page.getByTestId('job-progress').textContent().then((text) => text && seen.add(text), () => {});
  }, 100);
  const worker = await contribute(browser, coordinator.url);
  await expect(page.getByTestId('job-status')).toHaveText(/completed/i, { timeout: 180_000 });
  clearInterval(watch);
  await expect(page.getByTestId('job-progress')).toHaveText('8 / 8');
  await expect(page.getByTestId('result-row')).toHaveCount(8);
  const between = [...seen].filter((text) => text !== '0 / 8' && text !== '8 / 8');
  expect(between.length, `progress seen: ${[...seen].join(', ')}`).toBeGreaterThan(0);
  expect(streams.length).toBeGreaterThan(0);
  expect(streams.every((s) => s.status === 200 && s.authorized)).toBe(true);
  await worker.context.close();

  // The CSV link fetches with the key and saves from a Blob: it holds every chunk's output.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
  expect(download.suggestedFilename()).toBe(`job-${job.id}-results.csv`);
  const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
  expect(csv[0]).toBe('index,status,output,stdout,error');
  expect(csv.slice(1).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((x, i) => `${i},ok,"{""x"":${x},""square"":${x * x}}",,`).sort());

  // Forget key: it leaves the browser, the page reloads, and the private job is refused again.
  await page.getByTestId('forget-key').click();
  await expect(keyForm(page).getByTestId('api-key-message')).toHaveText(/needs an API key/);
  expect(await page.evaluate(() => localStorage.getItem('idle-sense:api-key'))).toBeNull();
  await keyForm(page).getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('#page-error')).toContainText(/API key/);
  await expect(page.getByTestId('job-progress')).toHaveText('0 / 0');
  await expect(page.getByTestId('forget-key')).toBeHidden();
  await context.close();
});
