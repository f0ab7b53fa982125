// Node side of the thread harness, for bench/jobswitch.ts: builds e2e/thread-page.ts (and the Python worker it
// spawns) with Vite from a source tree (this one, or an older checkout for a before/after comparison), and serves it
// inside a real coordinator's origin through Playwright routing, so the worker loads the coordinator's /pyodide/
// files same-origin, cross-origin isolated, as on the contribute page.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from '@playwright/test';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGE = fileURLToPath(new URL('./thread-page.ts', import.meta.url));

const builds = new Map<string, Promise<string>>();

/** Builds the harness from `root` (default: this tree) once per process; resolves with the output folder. */
export function buildThreadHarness(root = ROOT, base: string): Promise<string> {
  const key = `${root}\n${base}`;
  let built = builds.get(key);
  if (!built) {
    built = (async () => {
      // The page is this tree's: an older tree gets a copy (it uses only RuntimeThread's public API).
      const page = join(root, 'e2e/thread-page.ts');
      if (root !== ROOT) copyFileSync(PAGE, page);
      const outDir = mkdtempSync(join(tmpdir(), 'idle-sense-thread-harness-'));
      const { build } = await import('vite');
      await build({
        configFile: false,
        root,
        base,
        logLevel: 'error',
        publicDir: false,
        build: {
          outDir,
          emptyOutDir: true,
          target: 'es2022',
          rolldownOptions: { input: { page }, output: { entryFileNames: '[name].js' } },
        },
        worker: { format: 'es' },
        optimizeDeps: { exclude: ['pyodide'] },
      });
      return outDir;
    })();
    builds.set(key, built);
  }
  return built;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Serves the harness built from `root` under `coordinatorUrl` + `base` in `context` and opens it in a new page.
 * `base` must be distinct per tree ("/__thread-harness/", "/__thread-harness-baseline/").
 */
export async function openThreadHarness(context: BrowserContext, coordinatorUrl: string, options: { root?: string; base: string }): Promise<Page> {
  const { base } = options;
  const outDir = await buildThreadHarness(options.root ?? ROOT, base);
  await context.route(`${coordinatorUrl}${base}**`, async (route) => {
    const path = new URL(route.request().url()).pathname.slice(base.length) || 'index.html';
    if (path === 'index.html') {
      const html = `<!doctype html><meta charset="utf-8"><title>thread harness</title><script type="module" src="${base}page.js"></script>`;
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
  page.on('pageerror', (err) => console.log(`[thread harness page error] ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[thread harness console] ${message.text()}`);
  });
  await page.goto(`${coordinatorUrl}${base}index.html`);
  await page.waitForFunction(() => (globalThis as { document?: { title: string } }).document?.title === 'thread harness ready');
  return page;
}
