// The key flow on the pages with --auth keys: /submit asks for the key once and keeps it, the owner reads its job
// page, a private job is refused to another key and to no key, and cancelling is refused to a non-owner.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { startCoordinator, type RunningCoordinator } from './coordinator.js';
import { submitOnPage } from './helpers.js';

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

test('submit asks for the key once, the owner reads the job, others are refused a private job and its cancel', async ({ page }) => {
  const prompts: string[] = [];
  page.on('dialog', (dialog) => {
    prompts.push(dialog.message());
    void dialog.accept(alice);
  });
  await page.goto(`${coordinator.url}/submit`);
  await page.getByTestId('source-input').fill('def main(x):\n    return x + 1\n');
  await page.getByTestId('inputs-input').fill('[1, 2, 3]');
  const jobId = await submitOnPage(page);
  expect(prompts).toHaveLength(1);
  expect(prompts[0]).toMatch(/API key/);
  await expect(page.getByTestId('job-status')).toHaveText(/queued|running/i);
  expect(await page.evaluate(() => localStorage.getItem('idle-sense:api-key'))).toBe(alice);

  // A second submission from the same browser asks nothing: the key is kept.
  await page.goto(`${coordinator.url}/submit`);
  await page.getByTestId('source-input').fill('def main(x):\n    return x\n');
  await page.getByTestId('inputs-input').fill('[1]');
  await submitOnPage(page);
  expect(prompts).toHaveLength(1);

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
  await other.close();
});
