// ONNX runtime benchmark: inferences per second of the in-tab runtime (onnxruntime-web in a real Chromium worker:
// WASM with 1 and 2 threads, WebGPU) against onnxruntime-node (native) on the same model and chunks, as ratios to
// native. The model is examples/onnx-digits-batch (a 64-256-128-10 MLP; one chunk = 1,024 images).
// Run alone with `npx tsx bench/onnx.ts`; bench/run.ts can call benchOnnx().
import { chromium } from '@playwright/test';
import { pathToFileURL } from 'node:url';
import type { JobSpec, OnnxChunkInput } from '../protocol/index.js';
import { findChromium } from '../e2e/browser-path.mjs';
import { startCoordinator } from '../e2e/coordinator.js';
import { openHarness, repeatChunk, startRuntime, WEBGPU_ARGS } from '../e2e/onnx-harness.js';
import { loadOnnxExamples } from '../examples/onnx-digits/onnx-examples.js';
import { nativeSession, runNatively } from '../wasm-runtimes/onnx/native.js';

const COMMAND = 'npx tsx bench/onnx.ts';
/** Each configuration runs for about this long after its warm-up. */
const MEASURE_MS = 4_000;
const WARMUP_RUNS = 3;

interface Row {
  name: string;
  detail: string;
  msPerChunk: number;
  inferencesPerSecond: number;
}

export async function benchOnnx(): Promise<{ markdown: string }> {
  const example = loadOnnxExamples().find((e) => e.slug === 'onnx-digits-batch')!;
  const input = example.job.inputs[0] as OnnxChunkInput;
  const batch = input.pixels.dims[0];
  const rows: Row[] = [];
  const row = (name: string, detail: string, runs: number, ms: number) =>
    rows.push({ name, detail, msPerChunk: ms / runs, inferencesPerSecond: (runs * batch) / (ms / 1000) });

  // Native: decode, run and encode in this process, as a chunk would be handled.
  for (const threads of [1, 2]) {
    const session = await nativeSession(example.model, threads);
    try {
      for (let i = 0; i < WARMUP_RUNS; i++) await runNatively(session, input, example.job.outputs);
      let runs = 0;
      const started = performance.now();
      while (performance.now() - started < MEASURE_MS) {
        await runNatively(session, input, example.job.outputs);
        runs++;
      }
      row(`onnxruntime-node (native), ${threads} thread${threads > 1 ? 's' : ''}`, 'CPU', runs, performance.now() - started);
    } finally {
      await session.release();
    }
  }

  const coordinator = await startCoordinator({ store: 'memory' });
  const browser = await chromium.launch({ executablePath: findChromium(), args: ['--headless', '--no-sandbox', ...WEBGPU_ARGS] });
  let browserVersion = browser.version();
  try {
    const upload = await fetch(`${coordinator.url}/api/blobs/${example.job.model}`, { method: 'PUT', body: example.model });
    if (!upload.ok) throw new Error(`model upload failed: ${upload.status}`);
    const context = await browser.newContext();
    const page = await openHarness(context, coordinator.url);
    const configurations = [
      { name: 'onnxruntime-web WASM, 1 thread', options: { allowGpu: false, onnxWasmThreads: 1 }, providers: ['wasm'] as const },
      { name: 'onnxruntime-web WASM, 2 threads', options: { allowGpu: false, onnxWasmThreads: 2 }, providers: ['wasm'] as const },
      { name: 'onnxruntime-web WebGPU', options: { allowGpu: true, onnxWasmThreads: 1 }, providers: ['webgpu'] as const },
    ];
    for (const configuration of configurations) {
      const capabilities = await startRuntime(page, configuration.options);
      const job: JobSpec = { id: 'bench', name: 'bench', timeoutMs: 600_000, runtime: 'onnx', model: example.job.model, outputs: example.job.outputs, executionProviders: [...configuration.providers] };
      const warm = await repeatChunk(page, job, input, WARMUP_RUNS);
      if (!warm.last?.ok) throw new Error(`${configuration.name}: ${warm.last?.failure}: ${warm.last?.error}`);
      const runs = Math.max(3, Math.round(MEASURE_MS / (warm.ms / WARMUP_RUNS)));
      const measured = await repeatChunk(page, job, input, runs);
      const info = measured.last.runtimeInfo;
      const detail = info.executionProvider === 'webgpu' ? `adapter: ${info.adapter}` : `${info.threads} WASM thread(s), cross-origin isolated: ${capabilities.crossOriginIsolated}`;
      row(configuration.name, detail, runs, measured.ms);
    }
    await context.close();
  } finally {
    browserVersion = browser.version();
    await browser.close();
    await coordinator.stop();
  }

  const native1 = rows[0].inferencesPerSecond;
  const native2 = rows[1].inferencesPerSecond;
  const format = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: n < 10 ? 2 : 0 });
  const markdown = [
    '## ONNX runtime',
    '',
    `Model: \`examples/onnx-digits-batch\` (MLP 64-256-128-10 on uint8 pixels, ${(example.model.length / 1024).toFixed(0)} KiB); one chunk = ${batch} images`,
    `(base64 in, labels out). An inference is one image. Every configuration handles whole chunks as a tab does: decode the`,
    'tensors, run, encode the outputs; the browser rows also cross the page↔worker boundary (Comlink) each chunk.',
    `Browser: Chromium ${browserVersion}, headless, \`${WEBGPU_ARGS.join(' ')}\`. Each row: ${WARMUP_RUNS} warm-up chunks, then about ${MEASURE_MS / 1000} s.`,
    '',
    '| configuration | where | ms / chunk | inferences/s | ÷ native 1 thread | ÷ native 2 threads |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${r.detail} | ${r.msPerChunk.toFixed(1)} | ${format(r.inferencesPerSecond)} | ${(r.inferencesPerSecond / native1).toFixed(2)}× | ${(r.inferencesPerSecond / native2).toFixed(2)}× |`),
    '',
    'WebGPU here is SwiftShader: Chromium\'s CPU implementation of the GPU, so its row measures a GPU emulated on two shared',
    'cores, not what a contributor with a graphics card gets. The machine\'s two cores are shared with other work, so the',
    '2-thread rows gain less than 2×.',
    '',
    `Reproduce: \`${COMMAND}\`.`,
    '',
  ].join('\n');
  return { markdown };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await benchOnnx()).markdown);
}
