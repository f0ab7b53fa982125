// Shared steps of the browser specs: open contributor tabs in separate browser profiles, submit jobs, read results.
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { ChunkResult, JobSummary } from '../protocol/index.js';

/** Opens `/` in a fresh browser context (its own profile = its own contributor) and starts contributing. */
export async function contribute(browser: Browser, url: string, threads = 1): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[contributor page error] ${err.message}`));
  await page.goto(`${url}/`);
  await page.getByTestId('threads-input').fill(String(threads));
  await page.getByRole('button', { name: 'Start contributing' }).click();
  return { context, page };
}

export async function submitJob(url: string, body: object): Promise<JobSummary> {
  const res = await fetch(`${url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'python', ...body }),
  });
  if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as JobSummary;
}

export async function results(url: string, jobId: string): Promise<ChunkResult[]> {
  const res = await fetch(`${url}/api/jobs/${jobId}/results?format=json`);
  expect(res.status).toBe(200);
  return (await res.json()) as ChunkResult[];
}

/** Chunks done by one contributor tab, read from its totals line ("N chunks ..."). */
export async function chunksDone(page: Page): Promise<number> {
  const text = (await page.getByTestId('totals').textContent()) ?? '';
  const match = /(\d+)\s+chunks?/.exec(text);
  return match ? Number(match[1]) : 0;
}

/**
 * Presses "Submit job" on /submit and returns the new job's id once its page opened. If the page shows an error
 * instead, fails with that error's text rather than a bare navigation timeout.
 */
export async function submitOnPage(page: Page): Promise<string> {
  await page.getByTestId('submit-button').click();
  const error = page.getByTestId('submit-error');
  await Promise.race([
    page.waitForURL(/\/jobs\/[^/?#]+$/, { timeout: 60_000 }),
    error.waitFor({ state: 'visible', timeout: 60_000 }).then(async () => {
      throw new Error(`the submit page refused the job: ${await error.textContent()}`);
    }),
  ]);
  return new URL(page.url()).pathname.split('/').pop()!;
}
