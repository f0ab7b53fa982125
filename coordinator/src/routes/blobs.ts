// Content-addressed blobs over HTTP: PUT to a name (verified), POST to let the coordinator name it, GET/HEAD with
// immutable caching. Bodies stream straight to disk under their own size limit (--max-blob-mb).
import { Hono } from 'hono';
import { Readable } from 'node:stream';
import { ErrorCode } from '../../../protocol/index.js';
import { BLOB_NAME, BlobHashMismatchError, BlobTooLargeError, type BlobStore } from '../blobs/blob-store.js';
import { ApiError } from '../http/errors.js';
import type { AppDeps } from '../app.js';

export function blobRoutes({ blobs, config }: AppDeps): Hono {
  const app = new Hono();

  const store = async (body: ReadableStream<Uint8Array> | null, expected?: string) => {
    try {
      return await blobs.put(body, expected);
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        throw new ApiError(ErrorCode.PayloadTooLarge, `blobs are limited to ${err.limit} bytes (coordinator flag --max-blob-mb)`);
      }
      if (err instanceof BlobHashMismatchError) throw new ApiError(ErrorCode.BlobHashMismatch, err.message);
      throw err;
    }
  };

  const checkLength = (header: string | undefined) => {
    if (header !== undefined && Number(header) > blobs.maxBytes) {
      throw new ApiError(ErrorCode.PayloadTooLarge, `blobs are limited to ${blobs.maxBytes} bytes (coordinator flag --max-blob-mb)`);
    }
  };

  app.put('/:name', async (c) => {
    const name = c.req.param('name');
    if (!BLOB_NAME.test(name)) throw new ApiError(ErrorCode.InvalidRequest, 'name: must be sha256:<64 lowercase hex>');
    checkLength(c.req.header('content-length'));
    const blob = await store(c.req.raw.body, name);
    if (blob.created) config.log(`blob ${name} stored (${blob.size} bytes)`);
    return c.json({ name: blob.name, size: blob.size }, blob.created ? 201 : 200);
  });

  app.post('/', async (c) => {
    checkLength(c.req.header('content-length'));
    const blob = await store(c.req.raw.body);
    if (blob.created) config.log(`blob ${blob.name} stored (${blob.size} bytes)`);
    return c.json({ name: blob.name, size: blob.size }, blob.created ? 201 : 200);
  });

  const serve = (withBody: boolean) => async (c: import('hono').Context) => {
    const name = c.req.param('name') ?? '';
    const info = await blobs.stat(name);
    if (!info) throw new ApiError(ErrorCode.BlobNotFound, name);
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(info.size),
      ETag: `"${name}"`,
      'Cache-Control': 'public, max-age=31536000, immutable',
    };
    if (c.req.header('if-none-match')?.includes(name)) return c.body(null, 304, headers);
    if (!withBody) return c.body(null, 200, headers);
    return c.body(Readable.toWeb(blobs.open(name)) as ReadableStream, 200, headers);
  };
  app.on('HEAD', '/:name', serve(false));
  app.get('/:name', serve(true));
  return app;
}

export type { BlobStore };
