// Guards at the HTTP edge against requests nobody meant to send: writes from a foreign web page (a coordinator on
// localhost is reachable from every site the contributor visits) and floods from one address.
import type { Context, MiddlewareHandler } from 'hono';
import { ErrorCode, errorMessage } from '../../../protocol/index.js';
import { ApiError, errorBody } from './errors.js';

const WRITES = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * Refuses writes a browser would send on behalf of another site. A cross-site page can only send "simple" requests
 * without a CORS preflight (form posts, `text/plain` fetches): requiring a JSON or octet-stream Content-Type on
 * every body takes those away, and `Sec-Fetch-Site` / `Origin` refuse the rest. Clients that are not browsers (the
 * CLI, curl, the runner) send neither header and pass. `bodyTypes` answers undefined for paths that take any type.
 * @example app.use('/api/*', sameSiteWrites({ bodyTypes: (path) => path.startsWith('/api/blobs') ? ['application/octet-stream'] : ['application/json'] }))
 */
export function sameSiteWrites(options: { bodyTypes: (path: string) => string[] | undefined }): MiddlewareHandler {
  return async function sameSiteWritesGuard(c, next) {
    if (!WRITES.has(c.req.method)) return next();
    const site = c.req.header('sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') {
      throw new ApiError(ErrorCode.CrossSiteRefused, `Sec-Fetch-Site is ${site}`);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== ownOrigin(c)) {
      throw new ApiError(ErrorCode.CrossSiteRefused, `Origin ${origin.slice(0, 200)} is not this coordinator (${ownOrigin(c)})`);
    }
    if (hasBody(c)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const allowed = options.bodyTypes(c.req.path);
      if (allowed && !allowed.includes(type)) {
        throw new ApiError(ErrorCode.UnsupportedMediaType, `Content-Type must be ${allowed.join(' or ')}, got "${type || 'none'}"`);
      }
    }
    await next();
  };
}

function ownOrigin(c: Context): string {
  const url = new URL(c.req.url);
  // Behind the Host the client used, not the address the server bound.
  const host = c.req.header('host') ?? url.host;
  return `${url.protocol}//${host}`;
}

function hasBody(c: Context): boolean {
  const length = c.req.header('content-length');
  if (length !== undefined) return Number(length) > 0;
  return c.req.header('transfer-encoding') !== undefined;
}

export interface RateLimitOptions {
  /** Requests per second each address may sustain. */
  perSecond: number;
  /** Requests an idle address may send at once. */
  burst: number;
  /** The key for a request (normally its client address); undefined = not limited (no socket, e.g. app.request()). */
  key: (c: Context) => string | undefined;
  /** Addresses remembered at most; the least recently seen are forgotten first. */
  maxKeys?: number;
  /** What the limit is, for the error message (e.g. "registrations"). */
  what: string;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key: `burst` requests at once, then `perSecond`. Over the limit the answer is 429 with
 * `Retry-After` (whole seconds) and the usual JSON error body.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const buckets = new Map<string, Bucket>();
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? (() => performance.now());
  return async function rateLimiter(c, next) {
    const key = options.key(c);
    if (key === undefined || options.perSecond <= 0) return next();
    const t = now();
    let bucket = buckets.get(key);
    if (bucket) {
      buckets.delete(key); // re-inserted below: Map order is then least recently seen first
      bucket.tokens = Math.min(options.burst, bucket.tokens + ((t - bucket.at) / 1000) * options.perSecond);
      bucket.at = t;
    } else {
      bucket = { tokens: options.burst, at: t };
    }
    buckets.set(key, bucket);
    if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
    if (bucket.tokens < 1) {
      const waitS = Math.max(1, Math.ceil((1 - bucket.tokens) / options.perSecond));
      c.header('Retry-After', String(waitS));
      const detail = `${options.what} are limited to ${options.perSecond}/s per address (burst ${options.burst}); retry in ${waitS} s`;
      return c.json(errorBody(ErrorCode.RateLimited, errorMessage(ErrorCode.RateLimited, detail)), 429);
    }
    bucket.tokens -= 1;
    await next();
  };
}
