// Redundant computing end to end: a job submitted on /submit with 2 replicas is computed by three contributor
// profiles; every chunk is verified by two different contributors whose results agree, the outputs match a reference
// computed here, and the job page shows the verification and each chunk's results.
import { expect, test } from '@playwright/test';
import type { ChunkDetail, JobSummary } from '../protocol/index.js';
import { startCoordinator, type RunningCoordinator } from './coordinator.js';
import { contribute, results } from './helpers.js';

const CHUNKS = 12;
const SCREENSHOT = new URL('../.tmp/verification-chunk-detail.png', import.meta.url).pathname;

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
});
test.afterAll(async () => {
  await coordinator?.stop();
});

// A small rolling hash: deterministic, cheap, and different for every chunk.
const SOURCE = `
def main(n):
    total = 0
    for k in range(1, 20001):
        total = (total * 31 + k * k * (n + 1)) % 1000003
    return {"n": n, "hash": total}
`;

function reference(n: number) {
  let total = 0;
  for (let k = 1; k <= 20000; k++) total = (total * 31 + k * k * (n + 1)) % 1000003;
  return { n, hash: total };
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${coordinator.url}${path}`);
  expect(res.status, `GET ${path}`).toBe(200);
  return (await res.json()) as T;
}

test('two replicas per chunk are verified by different contributors, on the API and on the job page', async ({ browser, page }) => {
  await page.goto(`${coordinator.url}/submit`);
  await page.getByTestId('name-input').fill('verified hashes');
  await page.getByTestId('source-input').fill(SOURCE);
  await page.getByTestId('inputs-input').fill(`range 0..${CHUNKS - 1}`);
  await expect(page.getByText(`${CHUNKS} chunks`)).toBeVisible();

  // The section starts collapsed; a quorum above the replicas is refused before anything is sent, with the
  // coordinator's own message.
  await expect(page.getByTestId('replicas-input')).toBeHidden();
  await page.getByTestId('verification-section').locator('summary').click();
  await page.getByTestId('replicas-input').fill('2');
  await page.getByTestId('quorum-input').fill('3');
  await page.getByTestId('submit-button').click();
  await expect(page.getByTestId('submit-error')).toHaveText('quorum: must not exceed replicas (2)');
  await expect(page.getByTestId('quorum-input')).toHaveAttribute('aria-invalid', 'true');
  expect(await api<JobSummary[]>('/api/jobs')).toHaveLength(0);

  await page.getByTestId('quorum-input').fill('');
  await page.getByTestId('submit-button').click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  const jobId = new URL(page.url()).pathname.split('/').pop()!;
  const submitted = await api<JobSummary>(`/api/jobs/${jobId}`);
  expect(submitted.verification).toMatchObject({ replicas: 2, quorum: 2, validation: { kind: 'exact' }, adaptive: false });
  await expect(page.getByTestId('verification-policy')).toContainText('Each chunk goes to 2 contributors');

  const contributors = [];
  for (let i = 0; i < 3; i++) contributors.push(await contribute(browser, coordinator.url, 1));

  await expect(page.getByTestId('job-status')).toHaveText(/completed/i, { timeout: 120_000 });

  // The API: every chunk verified by at least two agreeing results from different contributors, and right.
  const got = await results(coordinator.url, jobId);
  expect(got).toHaveLength(CHUNKS);
  for (const result of got) {
    expect(result, `chunk ${result.index}`).toMatchObject({ status: 'ok', verified: true });
    expect(result.agreeing).toBeGreaterThanOrEqual(2);
    expect(result.output).toEqual(reference(result.index));
    const detail = await api<ChunkDetail>(`/api/jobs/${jobId}/chunks/${result.index}`);
    expect(detail.input).toBe(result.index);
    const valid = detail.results.filter((r) => r.state === 'ok' && r.validation === 'valid');
    expect(new Set(valid.map((r) => r.contributor)).size, `contributors of chunk ${result.index}`).toBeGreaterThanOrEqual(2);
    for (const r of valid) expect(r.output).toEqual(reference(result.index));
  }
  const job = await api<JobSummary>(`/api/jobs/${jobId}`);
  expect(job).toMatchObject({ verified: CHUNKS, completed: CHUNKS, invalid: 0 });
  expect(job.valid).toBeGreaterThanOrEqual(2 * CHUNKS);

  // The job page: every chunk verified, and a chunk's details list its results from different contributors.
  await expect(page.getByTestId('job-verified')).toHaveText(`${CHUNKS} / ${CHUNKS} verified`);
  await expect(page.getByTestId('result-verified')).toHaveCount(CHUNKS);
  for (const cell of await page.getByTestId('result-verified').all()) await expect(cell).toHaveText(/^✓ \d+ agree$/);

  await page.getByTestId('result-row').nth(3).locator('td').first().click();
  const dialog = page.getByTestId('chunk-detail');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading', { name: 'Chunk 3' })).toBeVisible();
  const rows = dialog.locator('[data-testid="chunk-result"][data-verdict="valid"]');
  await expect(dialog.locator('[data-testid="chunk-result"][data-canonical="yes"]')).toHaveCount(1);
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThanOrEqual(2);
  const shown = await rows.evaluateAll((items) => items.map((item) => item.getAttribute('data-contributor')));
  expect(new Set(shown).size).toBeGreaterThanOrEqual(2);
  await expect(rows.first()).toContainText(JSON.stringify(reference(3)));
  await page.screenshot({ path: SCREENSHOT, fullPage: false });

  // Keyboard: Escape closes it; a row's Details button opens another chunk.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.getByRole('button', { name: 'Details of chunk 5' }).focus();
  await page.keyboard.press('Enter');
  await expect(dialog.getByRole('heading', { name: 'Chunk 5' })).toBeVisible();
  await expect(page).toHaveURL(/#chunk-5$/);

  await page.goto(`${coordinator.url}/jobs`);
  await expect(page.getByTestId('job-row-verified')).toContainText(`verified ${CHUNKS}/${CHUNKS}`);

  for (const { context } of contributors) await context.close();
});
