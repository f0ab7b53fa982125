// Request bodies at the HTTP edge: a size limit checked from Content-Length (so the fast request path of
// @hono/node-server is kept), and JSON parsing against a protocol schema with 400s that name the field.
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { ErrorCode, describeIssues } from '../../../protocol/index.js';
import { ApiError } from './errors.js';

const LIMIT = 'bodyLimit';

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

const tooLarge = (max: number) =>
  new ApiError(ErrorCode.PayloadTooLarge, `the limit is ${formatBytes(max)} (coordinator flag --max-body-mb)`);

/** Rejects bodies over `max` bytes with 413. Bodies without Content-Length are measured when read (readJson). */
export function limitBodySize(max: number): MiddlewareHandler {
  return async function bodySizeLimit(c, next) {
    const length = c.req.header('content-length');
    if (length !== undefined && Number(length) > max) throw tooLarge(max);
    c.set(LIMIT as never, max as never);
    await next();
  };
}

/**
 * The body as text, read chunk by chunk: a body without Content-Length (chunked) that passes `max` is refused with
 * 413 as soon as it does, and the rest is never read or buffered.
 */
async function readText(c: Context, max: number | undefined): Promise<string> {
  if (max === undefined || c.req.header('content-length') !== undefined) {
    const text = await c.req.text();
    if (max !== undefined && Buffer.byteLength(text) > max) throw tooLarge(max);
    return text;
  }
  const body = c.req.raw.body;
  if (!body) return '';
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge(max);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await readText(c, c.get(LIMIT as never) as number | undefined);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ApiError(ErrorCode.InvalidJson, (err as Error).message);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, describeIssues(parsed.error));
  return parsed.data;
}
