// ONNX jobs end to end: submitted on /submit (a dropped model, .npy inputs) or by API, computed by real contributor
// tabs (ONNX Runtime inside the locked-down runtime workers), checked against scikit-learn's predictions; replicas
// computed on WebGPU and on WASM verify against each other; a model ONNX Runtime refuses fails the job with its words.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import type { ChunkDetail, JobSummary, OnnxJobSubmission } from '../protocol/index.js';
import { loadOnnxExamples } from '../examples/onnx-digits/onnx-examples.js';
import { blobName } from '../wasm-runtimes/onnx/models.js';
import { findChromium } from './browser-path.mjs';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { writeNpy } from '../site/submit/npy.js';
import { results } from './helpers.js';
import { WEBGPU_ARGS } from './onnx-harness.js';

test.use({
  launchOptions: {
    executablePath: findChromium(),
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', ...WEBGPU_ARGS],
  },
});

const digits = loadOnnxExamples().find((example) => example.slug === 'onnx-digits')!;

let coordinator: RunningCoordinator;
test.beforeEach(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
});
test.afterEach(async () => {
  await coordinator?.stop();
});

async function upload(bytes: Uint8Array): Promise<string> {
  const name = await blobName(bytes);
  const res = await fetch(`${coordinator.url}/api/blobs/${name}`, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer> });
  expect(res.status).toBeLessThan(300);
  return name;
}

async function post(body: OnnxJobSubmission): Promise<JobSummary> {
  const res = await fetch(`${coordinator.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as JobSummary;
}

/** A contributor tab in its own profile, with the "Use GPU" setting as given, contributing with one thread. */
async function contributeWith(browser: Browser, useGpu: boolean): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[contributor page error] ${err.message}`));
  await page.goto(`${coordinator.url}/`);
  await page.getByTestId('settings').locator('summary').click();
  await expect(page.getByTestId('gpu-input')).toBeChecked(); // the default
  await page.getByTestId('gpu-input').setChecked(useGpu);
  await page.getByTestId('threads-input').fill('1');
  await page.getByRole('button', { name: 'Start contributing' }).click();
  return page;
}

test('an ONNX job submitted on /submit (dropped model, .npy inputs) is computed by a contributor tab and matches scikit-learn', async ({ browser, page }) => {
  // The example's 30 chunks of 20 images, as one float32 .npy of 600 rows that the page splits into batches of 20.
  const rows = digits.job.inputs.flatMap((chunk) => (chunk.pixels as { data: number[] }).data);
  const npyPath = join(mkdtempSync(join(tmpdir(), 'idle-sense-npy-')), 'pixels.npy');
  writeFileSync(npyPath, writeNpy({ type: 'float32', shape: [rows.length / 64, 64], bytes: new Uint8Array(new Float32Array(rows).buffer) }));

  await page.goto(`${coordinator.url}/submit`);
  await page.getByTestId('runtime-onnx').check();
  await page.getByTestId('name-input').fill('digits from the submit page');
  // A real drop event carrying the file, as a drag from the desktop delivers it.
  const modelBase64 = Buffer.from(digits.model).toString('base64');
  const dataTransfer = await page.evaluateHandle((base64) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], 'digits.onnx'));
    return transfer;
  }, modelBase64);
  await page.getByTestId('model-drop').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('model-inputs')).toHaveText(/pixels: float32 \[.*, 64\]/);
  await expect(page.getByTestId('model-outputs')).toContainText('label: int64');
  await expect(page.getByTestId('model-outputs')).toContainText('probabilities: float32');
  await expect(page.getByTestId('model-status')).toContainText('uploaded as sha256:');

  // A submission the coordinator refuses shows its message inline.
  await page.getByTestId('onnx-inputs-input').fill('[{"pixel": {"type": "float32", "dims": [1, 64], "base64": "' + 'A'.repeat(342) + '=="}}]');
  await page.getByTestId('submit-button').click();
  await expect(page.getByTestId('submit-error')).toContainText('"pixel" is not an input of the model');

  await page.getByTestId('onnx-inputs-npy').check();
  await page.getByTestId('npy-input').setInputFiles(npyPath);
  await page.getByTestId('batch-size-input').fill('20');
  await expect(page.getByTestId('onnx-inputs-count')).toHaveText('30 chunks');
  await page.getByTestId('submit-button').click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  const jobId = new URL(page.url()).pathname.split('/').pop()!;

  const contributor = await contributeWith(browser, true);
  const done = await waitForJob(coordinator.url, jobId, (j) => j.status !== 'queued' && j.status !== 'running', 50_000);
  expect(done).toMatchObject({ status: 'completed', completed: 30 });
  digits.check(await results(coordinator.url, jobId));
  // The job page writes tensors readably: type, dims, values.
  await expect(page.getByTestId('result-row').first()).toContainText('label: int64 [20] = [');
  await contributor.context().close();
});

test('replicas computed on WebGPU and on WASM verify against each other', async ({ browser }) => {
  const CHUNKS = 6;
  await upload(digits.model);
  const job = await post({ ...digits.job, inputs: digits.job.inputs.slice(0, CHUNKS), replicas: 2 });
  const gpu = await contributeWith(browser, true);
  const cpu = await contributeWith(browser, false);
  const done = await waitForJob(coordinator.url, job.id, (j) => j.status !== 'queued' && j.status !== 'running', 50_000);
  expect(done).toMatchObject({ status: 'completed', completed: CHUNKS, verified: CHUNKS, invalid: 0 });

  for (let index = 0; index < CHUNKS; index++) {
    const detail = (await (await fetch(`${coordinator.url}/api/jobs/${job.id}/chunks/${index}`)).json()) as ChunkDetail;
    const ok = detail.results.filter((r) => r.state === 'ok');
    expect(ok.map((r) => r.runtimeInfo?.executionProvider).sort(), `chunk ${index}`).toEqual(['wasm', 'webgpu']);
    expect(ok.every((r) => r.validation === 'valid')).toBe(true);
    expect(ok.find((r) => r.runtimeInfo?.executionProvider === 'webgpu')!.runtimeInfo!.adapter).toMatch(/swiftshader/);
    expect(ok.find((r) => r.runtimeInfo?.executionProvider === 'wasm')!.runtimeInfo).toMatchObject({ adapter: 'cpu', threads: '1' });
  }
  // Each tab says where its chunks ran.
  await expect(gpu.getByTestId('thread-detail')).toContainText(/last model on webgpu \(.*swiftshader/);
  await expect(cpu.getByTestId('thread-detail')).toContainText('last model on wasm');
  await gpu.context().close();
  await cpu.context().close();
});

test('a model ONNX Runtime refuses fails the job with its message, shown on the job page', async ({ browser }) => {
  const model = await upload(new Uint8Array(readFileSync(new URL('../wasm-runtimes/onnx/fixtures/unknown-op.onnx', import.meta.url))));
  const input = { x: { type: 'float32' as const, dims: [1, 3], data: [1, 2, 3] } };
  const job = await post({ runtime: 'onnx', name: 'refused model', model, inputs: [input, input, input] });
  const contributor = await contributeWith(browser, true);
  const done = await waitForJob(coordinator.url, job.id, (j) => j.status !== 'queued' && j.status !== 'running', 50_000);
  expect(done.status).toBe('failed');
  expect(done.error).toMatch(/ONNX Runtime cannot load the model: .*NoSuchOperator/);
  const page = await contributor.context().newPage();
  await page.goto(`${coordinator.url}/jobs/${job.id}`);
  await expect(page.getByTestId('job-error')).toContainText('NoSuchOperator');
  await contributor.context().close();
});
