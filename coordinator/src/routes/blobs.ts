// Content-addressed blobs over HTTP: PUT to a name (verified), POST to let the coordinator name it, GET/HEAD with
// immutable caching. Bodies stream straight to disk under their own size limit (--max-blob-mb), the uploading
// address's hourly allowance (--blob-mb-per-hour) and the owner's blob quota (--key-max-blob-mb, npm run keys).
import { Hono, type Context } from 'hono';
import { Readable } from 'node:stream';
import { ErrorCode } from '../../../protocol/index.js';
import { BLOB_NAME, BlobHashMismatchError, BlobTooLargeError, type BlobStore } from '../blobs/blob-store.js';
import { ByteAllowance } from '../http/byte-allowance.js';
import { clientAddress } from '../http/client-address.js';
import { ApiError } from '../http/errors.js';
import { principalQuota, requirePrincipal, type Principal } from '../http/submitter-auth.js';
import { QuotaExceededError } from '../domain/quota.js';
import type { AppDeps } from '../app.js';

export function blobRoutes({ blobs, config, clock, store: quotas }: AppDeps): Hono {
  const app = new Hono();
  const allowance = config.blobBytesPerHour > 0 ? new ByteAllowance(config.blobBytesPerHour) : undefined;

  /** 429 with Retry-After: the address has stored its hourly allowance (the bytes it asked for, when it said). */
  const spent = (c: Context, address: string, bytes: number): never => {
    c.header('Retry-After', String(Math.max(1, Math.ceil(allowance!.waitMs(address, bytes, clock.now()) / 1000))));
    throw new ApiError(ErrorCode.BlobAllowanceSpent, `at most ${config.blobBytesPerHour} new bytes per address per hour (flag --blob-mb-per-hour)`);
  };

  const store = async (c: Context, principal: Principal, expected?: string) => {
    const address = clientAddress(c, config.trustProxy);
    const length = c.req.header('content-length');
    const declared = length === undefined ? 1 : Math.min(Number(length), blobs.maxBytes);
    if (allowance && allowance.waitMs(address, declared, clock.now()) > 0) spent(c, address, declared);
    // A PUT of a blob already stored costs nothing, so the owner's quota is not consulted for it.
    const quota = expected && (await blobs.stat(expected)) ? {} : principalQuota(principal, config.keyQuota);
    // The owner's blob quota: the declared size is held (or, without one, all that is left), so two uploads at once
    // cannot both take the last bytes. Throws QUOTA_EXCEEDED before a byte is read when it cannot fit.
    const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    const hold = await quotas.holdBlobBytes(principal.id, quota, size, clock.now());
    // The whole remaining allowance is reserved for this upload; what it did not store is given back after, so two
    // uploads at once from one address cannot each spend the same bytes.
    const reserved = allowance?.reserve(address, clock.now()) ?? blobs.maxBytes;
    let used = 0;
    let stored: { name: string; size: number } | undefined;
    try {
      const blob = await blobs.put(c.req.raw.body, expected, Math.min(reserved, hold.bytes));
      // A blob that was already stored costs nothing: the bytes on disk did not grow.
      if (blob.created) {
        used = blob.size;
        stored = blob;
      }
      return blob;
    } catch (err) {
      if (err instanceof BlobTooLargeError && err.limit === hold.bytes && hold.bytes < reserved) {
        const usage = await quotas.quotaUsage(principal.id, clock.now());
        throw new QuotaExceededError({ quota: 'blobBytes', limit: quota.blobBytes!, usage: usage.blobBytes - hold.bytes, requested: err.limit + 1 });
      }
      if (err instanceof BlobTooLargeError && err.limit < blobs.maxBytes) {
        allowance!.settle(address, reserved, 0, clock.now());
        used = reserved; // settled already
        spent(c, address, err.limit + 1);
      }
      if (err instanceof BlobTooLargeError) {
        throw new ApiError(ErrorCode.PayloadTooLarge, `blobs are limited to ${err.limit} bytes (coordinator flag --max-blob-mb)`);
      }
      if (err instanceof BlobHashMismatchError) throw new ApiError(ErrorCode.BlobHashMismatch, err.message);
      throw err;
    } finally {
      allowance?.settle(address, reserved, used, clock.now());
      await quotas.settleBlobHold(hold, stored, clock.now());
    }
  };

  const checkLength = (header: string | undefined) => {
    if (header !== undefined && Number(header) > blobs.maxBytes) {
      throw new ApiError(ErrorCode.PayloadTooLarge, `blobs are limited to ${blobs.maxBytes} bytes (coordinator flag --max-blob-mb)`);
    }
  };

  app.put('/:name', async (c) => {
    const principal = requirePrincipal(c);
    const name = c.req.param('name');
    if (!BLOB_NAME.test(name)) throw new ApiError(ErrorCode.InvalidRequest, 'name: must be sha256:<64 lowercase hex>');
    checkLength(c.req.header('content-length'));
    const blob = await store(c, principal, name);
    if (blob.created) config.log(`blob ${name} stored (${blob.size} bytes)`);
    return c.json({ name: blob.name, size: blob.size }, blob.created ? 201 : 200);
  });

  app.post('/', async (c) => {
    const principal = requirePrincipal(c);
    checkLength(c.req.header('content-length'));
    const blob = await store(c, principal);
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
