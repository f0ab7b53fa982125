// ONNX in real Chromium: OnnxRuntime in a module worker, on WASM and on WebGPU (SwiftShader, on the CPU, where the
// machine has no GPU), against onnxruntime-node on the same model and inputs, for every supported element type,
// within the tolerance ONNX jobs get by default. Models come from a real coordinator's blob store, once per browser.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { JobSpec, OnnxChunkInput, OnnxChunkOutput, TensorType } from '../protocol/index.js';
import { ONNX_DEFAULT_VALIDATION } from '../coordinator/src/domain/policy.js';
import { FIXTURE_TYPES, mixedInput, typesInput } from '../wasm-runtimes/onnx/fixtures/samples.js';
import { blobName } from '../wasm-runtimes/onnx/models.js';
import { nativeSession, runNatively } from '../wasm-runtimes/onnx/native.js';
import { tensorDifference } from '../wasm-runtimes/onnx/tensors.js';
import { findChromium } from './browser-path.mjs';
import { startCoordinator, type RunningCoordinator } from './coordinator.js';
import { HARNESS_PATH, WEBGPU_ARGS, openHarness, runChunk, startRuntime } from './onnx-harness.js';

test.use({
  launchOptions: {
    executablePath: findChromium(),
    args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', ...WEBGPU_ARGS],
  },
});
test.describe.configure({ mode: 'serial' });

const FIXTURES = fileURLToPath(new URL('../wasm-runtimes/onnx/fixtures/', import.meta.url));
const models = new Map<string, { name: string; bytes: Uint8Array }>();
let coordinator: RunningCoordinator;
let context: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser }) => {
  coordinator = await startCoordinator({ store: 'memory' });
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx'))) {
    const bytes = new Uint8Array(readFileSync(FIXTURES + file));
    const name = await blobName(bytes);
    const res = await fetch(`${coordinator.url}/api/blobs/${name}`, { method: 'PUT', body: bytes });
    expect(res.status).toBeLessThan(300);
    models.set(file, { name, bytes });
  }
  context = await browser.newContext();
  page = await openHarness(context, coordinator.url);
});
test.afterAll(async () => {
  await context?.close();
  await coordinator?.stop();
});

function job(file: string, providers: ('webgpu' | 'wasm')[], outputs?: string[]): JobSpec {
  return { id: `onnx-${file}`, name: file, timeoutMs: 120_000, runtime: 'onnx', model: models.get(file)!.name, executionProviders: providers, outputs };
}

async function expected(file: string, input: OnnxChunkInput, outputs?: string[]): Promise<OnnxChunkOutput> {
  const session = await nativeSession(models.get(file)!.bytes);
  try {
    return await runNatively(session, input, outputs);
  } finally {
    await session.release();
  }
}

function expectMatches(run: any, reference: OnnxChunkOutput, provider: string) {
  expect(run.ok, run.error).toBe(true);
  expect(run.runtimeInfo.executionProvider).toBe(provider);
  const output = run.output as OnnxChunkOutput;
  expect(Object.keys(output).sort()).toEqual(Object.keys(reference).sort());
  for (const [name, tensor] of Object.entries(reference)) {
    expect(tensorDifference(output[name], tensor, ONNX_DEFAULT_VALIDATION as { abs: number; rel: number }), `output ${name}`).toBeUndefined();
  }
}

test('the WASM provider matches onnxruntime-node for every element type, multi-threaded, models fetched once', async () => {
  const blobRequests: string[] = [];
  context.on('request', (request) => {
    if (request.url().includes('/api/blobs/')) blobRequests.push(request.url());
  });
  const capabilities = await startRuntime(page, { allowGpu: false, onnxWasmThreads: 2 });
  expect(capabilities).toMatchObject({ providers: ['wasm'], wasmThreads: 2, crossOriginIsolated: true });
  for (const type of FIXTURE_TYPES) {
    const file = `types-${type}.onnx`;
    const run = await runChunk(page, job(file, ['wasm']), typesInput(type as TensorType));
    expectMatches(run, await expected(file, typesInput(type)), 'wasm');
    expect(run.runtimeInfo).toMatchObject({ adapter: 'cpu', threads: '2' });
  }
  const mixed = await runChunk(page, job('mixed.onnx', ['wasm'], ['scores', 'label']), mixedInput());
  expectMatches(mixed, await expected('mixed.onnx', mixedInput(), ['scores', 'label']), 'wasm');

  // A fresh worker (a reloaded tab would be the same) takes the models from Cache Storage, checked, not the network.
  const downloads = blobRequests.length;
  expect(downloads).toBe(FIXTURE_TYPES.length + 1);
  await startRuntime(page, { allowGpu: false, onnxWasmThreads: 1 });
  expectMatches(await runChunk(page, job('types-float32.onnx', ['wasm']), typesInput('float32')), await expected('types-float32.onnx', typesInput('float32')), 'wasm');
  expect(blobRequests.length).toBe(downloads);
});

test('the WebGPU provider (SwiftShader) matches onnxruntime-node for every element type, falling back to WASM where it must', async () => {
  const capabilities = await startRuntime(page, { allowGpu: true, onnxWasmThreads: 1 });
  expect(capabilities.providers).toEqual(['webgpu', 'wasm']);
  expect(capabilities.adapter).toMatch(/swiftshader/);
  const served: Record<string, string> = {};
  for (const type of FIXTURE_TYPES) {
    const file = `types-${type}.onnx`;
    const run = await runChunk(page, job(file, ['webgpu', 'wasm']), typesInput(type as TensorType));
    served[type] = run.runtimeInfo ? `${run.runtimeInfo.executionProvider}${run.runtimeInfo.webgpuFallback ? ` (${run.runtimeInfo.webgpuFallback})` : ''}` : run.error;
    expectMatches(run, await expected(file, typesInput(type)), run.runtimeInfo?.executionProvider ?? 'webgpu');
    if (run.runtimeInfo.executionProvider === 'webgpu') expect(run.runtimeInfo.adapter).toMatch(/swiftshader/);
    else expect(run.runtimeInfo.webgpuFallback).toBeTruthy();
  }
  const f16 = capabilities.gpuFeatures?.includes('shader-f16') ? 'with' : 'without';
  console.log(`providers that served each element type on ${capabilities.adapter} (${f16} shader-f16):`);
  for (const [type, provider] of Object.entries(served)) console.log(`  ${type}: ${provider.slice(0, 160)}`);
  // What WebGPU can do, it does: float32, int32 and bool models run on the GPU, not on the fallback.
  for (const type of ['float32', 'int32', 'bool']) expect(served[type]).toBe('webgpu');
  // float16 needs the adapter's shader-f16 feature; without it the model falls back to WASM rather than failing.
  if (!capabilities.gpuFeatures?.includes('shader-f16')) expect(served.float16).toMatch(/^wasm .*f16/);
  const mixed = await runChunk(page, job('mixed.onnx', ['webgpu']), mixedInput());
  expectMatches(mixed, await expected('mixed.onnx', mixedInput()), 'webgpu');
});

test('a job that prefers WebGPU runs on WASM when the contributor does not allow the GPU', async () => {
  await startRuntime(page, { allowGpu: false });
  const run = await runChunk(page, job('types-float32.onnx', ['webgpu', 'wasm']), typesInput('float32'));
  expectMatches(run, await expected('types-float32.onnx', typesInput('float32')), 'wasm');
});

test('a model ONNX Runtime refuses fails with its message in the browser too', async () => {
  await startRuntime(page, { allowGpu: true });
  const run = await runChunk(page, job('unknown-op.onnx', ['webgpu', 'wasm']), { x: { type: 'float32', dims: [1, 3], data: [1, 2, 3] } });
  expect(run).toMatchObject({ ok: false, failure: 'syntax' });
  expect(run.error).toMatch(/^ONNX Runtime cannot load the model: .*NoSuchOperator/);
});

test('onnxruntime-web is served by the coordinator, not a CDN', async () => {
  const res = await fetch(`${coordinator.url}/onnxruntime/ort.webgpu.min.mjs`, { method: 'HEAD' });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/javascript/);
  expect(HARNESS_PATH).toBe('/__onnx-harness/');
});
