// Node side of the ONNX browser harness, for e2e/onnx.spec.ts and bench/onnx.ts: builds e2e/onnx-page.ts (and the
// ONNX worker it spawns) with Vite, and serves it inside a real coordinator's origin through Playwright routing, so
// the worker gets the coordinator's /onnxruntime/ files and /api/blobs/ models same-origin, cross-origin isolated.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from '@playwright/test';
import type { JobSpec } from '../protocol/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HARNESS_PATH = '/__onnx-harness/';

/** Chromium flags that give headless Chromium a WebGPU adapter (SwiftShader, on the CPU, where there is no GPU). */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

let built: Promise<string> | undefined;

/** Builds the harness once per process; resolves with the output folder. */
export function buildHarness(): Promise<string> {
  built ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'idle-sense-onnx-harness-'));
    const { build } = await import('vite');
    await build({
      configFile: false,
      root: ROOT,
      base: HARNESS_PATH,
      logLevel: 'warn',
      publicDir: false,
      build: {
        outDir,
        emptyOutDir: true,
        target: 'es2022',
        minify: false,
        rolldownOptions: { input: { page: join(ROOT, 'e2e/onnx-page.ts') }, output: { entryFileNames: '[name].js' } },
      },
      worker: { format: 'es' },
    });
    return outDir;
  })();
  return built;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Serves the harness under `coordinatorUrl` + HARNESS_PATH in `context` and opens it in a new page. */
export async function openHarness(context: BrowserContext, coordinatorUrl: string): Promise<Page> {
  const outDir = await buildHarness();
  await context.route(`${coordinatorUrl}${HARNESS_PATH}**`, async (route) => {
    const path = new URL(route.request().url()).pathname.slice(HARNESS_PATH.length) || 'index.html';
    if (path === 'index.html') {
      const html = `<!doctype html><meta charset="utf-8"><title>onnx harness</title><script type="module" src="${HARNESS_PATH}page.js"></script>`;
      return route.fulfill({ status: 200, headers: { ...ISOLATION, 'Content-Type': 'text/html' }, body: html });
    }
    try {
      const body = readFileSync(join(outDir, path));
      return route.fulfill({ status: 200, headers: { ...ISOLATION, 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' }, body });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[onnx harness page error] ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[onnx harness console] ${message.text()}`);
  });
  await page.goto(`${coordinatorUrl}${HARNESS_PATH}index.html`);
  await page.waitForFunction(() => (globalThis as { document?: { title: string } }).document?.title === 'onnx harness ready');
  return page;
}

/** Options for OnnxRuntime.initialize, as plain data (the page owns the real type). */
export interface HarnessStartOptions {
  allowGpu?: boolean;
  onnxWasmThreads?: number;
}

export interface HarnessCapabilities {
  providers: string[];
  adapter?: string;
  gpuFeatures?: string[];
  wasmThreads: number;
  ort: string;
  crossOriginIsolated: boolean;
}

export function startRuntime(page: Page, options: HarnessStartOptions): Promise<HarnessCapabilities> {
  return page.evaluate((o) => (globalThis as any).onnxHarness.start(o), options) as Promise<HarnessCapabilities>;
}

export function runChunk(page: Page, job: JobSpec, input: unknown): Promise<any> {
  return page.evaluate(([j, i]) => (globalThis as any).onnxHarness.run(j, i), [job, input] as const);
}

export function repeatChunk(page: Page, job: JobSpec, input: unknown, times: number): Promise<{ ms: number; last: any }> {
  return page.evaluate(([j, i, n]) => (globalThis as any).onnxHarness.repeat(j, i, n), [job, input, times] as const);
}
