// The core loop in real Chromium: a user pastes a script on /submit, two contributor profiles compute it, the job
// page reaches 100% and the results match a reference computed here, independently of Python.
import { expect, test } from '@playwright/test';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { chunksDone, contribute, results, submitJob, submitOnPage } from './helpers.js';

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator();
});
test.afterAll(async () => {
  await coordinator?.stop();
});

// Collatz stopping times over a block of starting values: enough work per chunk that both tabs get some.
const COLLATZ = `
def steps(n):
    count = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        count += 1
    return count

def main(block):
    start = block * 2000 + 1
    best = max(range(start, start + 2000), key=steps)
    return {"block": block, "longest": best, "steps": steps(best)}
`;

function collatzReference(block: number) {
  const steps = (n: number) => {
    let count = 0;
    while (n !== 1) {
      n = n % 2 === 0 ? n / 2 : 3 * n + 1;
      count++;
    }
    return count;
  };
  let best = 0;
  let bestSteps = -1;
  for (let n = block * 2000 + 1; n <= block * 2000 + 2000; n++) {
    const s = steps(n);
    if (s > bestSteps) [best, bestSteps] = [n, s];
  }
  return { block, longest: best, steps: bestSteps };
}

test('a pasted script is computed by two contributor tabs and the results match', async ({ browser, page }) => {
  await page.goto(`${coordinator.url}/submit`);
  await page.getByTestId('name-input').fill('collatz e2e');
  await page.getByTestId('source-input').fill(COLLATZ);
  await page.getByTestId('inputs-input').fill('range 0..59');
  await expect(page.getByText('60 chunks')).toBeVisible();
  const jobId = await submitOnPage(page);

  const a = await contribute(browser, coordinator.url);
  const b = await contribute(browser, coordinator.url);

  await expect(page.getByTestId('job-status')).toHaveText(/completed/i, { timeout: 180_000 });
  await expect(page.getByTestId('job-progress')).toContainText('60 / 60');

  const got = await results(coordinator.url, jobId);
  expect(got).toHaveLength(60);
  for (const result of got) {
    expect(result.status).toBe('ok');
    expect(result.output).toEqual(collatzReference(result.index));
  }
  expect(await chunksDone(a.page)).toBeGreaterThan(0);
  expect(await chunksDone(b.page)).toBeGreaterThan(0);
  expect((await chunksDone(a.page)) + (await chunksDone(b.page))).toBe(60);
  await page.getByTestId('results-table').waitFor();
  await a.context.close();
  await b.context.close();
});

test('a script that does not compile is refused on /submit with its line, before any contributor sees it', async ({ page }) => {
  await page.goto(`${coordinator.url}/submit`);
  await page.getByTestId('source-input').fill('def main(x)\n    return x\n');
  await page.getByTestId('inputs-input').fill('[1, 2, 3, 4, 5, 6, 7, 8]');
  await page.getByTestId('submit-button').click();
  await expect(page.getByTestId('submit-error')).toContainText("source: line 1: SyntaxError: expected ':'", { timeout: 60_000 });
  await expect(page).toHaveURL(/\/submit/);
});

test('an infinite loop times out while the other chunks finish', async ({ browser, page }) => {
  const job = await submitJob(coordinator.url, {
    name: 'runaway',
    source: 'def main(x):\n    if x == 3:\n        while True:\n            pass\n    return x * x\n',
    inputs: [0, 1, 2, 3, 4, 5],
    timeoutMs: 2000,
    maxAttempts: 2,
  });
  const a = await contribute(browser, coordinator.url);
  const b = await contribute(browser, coordinator.url);
  const done = await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 150_000);
  expect(done).toMatchObject({ completed: 5, failed: 1 });
  const got = await results(coordinator.url, job.id);
  expect(got.filter((r) => r.status === 'ok').map((r) => r.output)).toEqual([0, 1, 4, 16, 25]);
  expect(got[3]).toMatchObject({ status: 'error', attempts: 2 });
  expect(got[3].error).toContain('timed out after 2000 ms');
  await page.goto(`${coordinator.url}/jobs/${job.id}`);
  await expect(page.getByText('timed out after 2000 ms').first()).toBeVisible();
  // The tabs keep working after the runaway chunk.
  const after = await submitJob(coordinator.url, { source: 'def main(x):\n    return x + 1\n', inputs: [1, 2] });
  await waitForJob(coordinator.url, after.id, (j) => j.status === 'completed', 60_000);
  await a.context.close();
  await b.context.close();
});
