// Serves the Python package source to contributor workers: `/python-packages/pyodide-lock.json` (only the packages
// really present) and the wheels it names. Nothing else in the directory is reachable.
import { Hono } from 'hono';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ErrorCode } from '../../../protocol/index.js';
import { ApiError } from '../http/errors.js';
import type { PythonPackages } from '../packages/python-packages.js';

export function packageRoutes(packages: PythonPackages): Hono {
  const app = new Hono();
  const lock = JSON.stringify(packages.lock);

  app.get('/pyodide-lock.json', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.body(lock, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });

  app.get('/:file', (c) => {
    const path = packages.filePath(c.req.param('file'));
    if (!path) throw new ApiError(ErrorCode.NotFound, `no package file ${c.req.param('file')}`);
    return c.body(Readable.toWeb(createReadStream(path)) as ReadableStream, 200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(statSync(path).size),
      'Cache-Control': 'public, max-age=3600',
    });
  });
  return app;
}
