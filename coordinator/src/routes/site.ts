// Serves the built pages (dist/) and the Pyodide runtime files, with the cross-origin isolation headers that
// SharedArrayBuffer (interrupting Python, threaded WebAssembly) needs.
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDeps } from '../app.js';
import { pageCsp, workerCsp } from '../http/worker-csp.js';

const ONNX_RUNTIME_DIR = fileURLToPath(new URL('../../../node_modules/onnxruntime-web/dist', import.meta.url));

export function siteRoutes({ config }: AppDeps): Hono {
  const app = new Hono();
  const root = (dir: string) => relative(process.cwd(), dir) || '.';

  app.use('/pyodide/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'public, max-age=86400');
  });
  app.use(
    '/pyodide/*',
    serveStatic({ root: root(config.pyodideDir), rewriteRequestPath: (path) => path.replace(/^\/pyodide/, '') }),
  );
  // onnxruntime-web's module and WASM for ONNX jobs (wasm-runtimes/onnx), likewise from node_modules: no CDN.
  app.use('/onnxruntime/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'public, max-age=86400');
  });
  app.use(
    '/onnxruntime/*',
    serveStatic({ root: root(ONNX_RUNTIME_DIR), rewriteRequestPath: (path) => path.replace(/^\/onnxruntime/, '') }),
  );

  app.use('/assets/*', workerCsp());
  app.use('*', pageCsp());
  const page = (file: string) => serveStatic({ root: root(config.siteDir), path: file });
  app.get('/', page('index.html'));
  app.get('/submit', page('submit.html'));
  app.get('/jobs', page('jobs.html'));
  app.get('/jobs/:id', page('job.html'));
  app.use('/*', serveStatic({ root: root(config.siteDir) }));
  app.get('/', (c) =>
    c.text(
      existsSync(config.siteDir)
        ? 'page not found'
        : `The site is not built: run "npm run build" (expected pages in ${config.siteDir}).`,
      404,
    ),
  );
  return app;
}
