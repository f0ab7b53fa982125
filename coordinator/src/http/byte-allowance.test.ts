// Blob bytes per client address: an hourly allowance, spent only by blobs that were new, refused with 429.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { BlobStore } from '../blobs/blob-store.js';
import { MemoryStore } from '../store/memory.js';
import { ByteAllowance } from './byte-allowance.js';

const nameOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('ByteAllowance', () => {
  it('reserves everything left, takes back what was not used and refills over the hour', () => {
    const allowance = new ByteAllowance(3600);
    expect(allowance.reserve('a', 0)).toBe(3600);
    expect(allowance.reserve('a', 0)).toBe(0);
    allowance.settle('a', 3600, 1000, 0);
    expect(allowance.waitMs('a', 2600, 0)).toBe(0);
    expect(allowance.waitMs('a', 3600, 0)).toBe(1_000_000);
    expect(allowance.reserve('b', 0)).toBe(3600);
  });
});

describe('blob bytes per client address', () => {
  function setup(blobBytesPerHour: number) {
    let now = Date.UTC(2026, 5, 1);
    const blobs = new BlobStore(mkdtempSync(join(tmpdir(), 'idle-sense-allowance-')), 1024 * 1024);
    const { app } = createApp({ store: new MemoryStore(), blobs, clock: { now: () => now }, config: { blobBytesPerHour, rateLimitPerS: 0 } });
    const put = (address: string, bytes: Uint8Array, chunked = false) =>
      app.request(
        `/api/blobs/${nameOf(bytes)}`,
        {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream', ...(chunked ? {} : { 'content-length': String(bytes.length) }) },
          body: chunked ? new Blob([bytes]).stream() : bytes,
          ...(chunked ? { duplex: 'half' } : {}),
        } as RequestInit,
        { incoming: { socket: { remoteAddress: address } } },
      );
    return { put, advance: (ms: number) => (now += ms) };
  }

  it('refuses an upload past the hourly allowance with 429 BLOB_ALLOWANCE_SPENT and Retry-After; others may still upload', async () => {
    const { put, advance } = setup(10_000);
    expect((await put('192.0.2.1', randomBytes(6000))).status).toBe(201);
    const refused = await put('192.0.2.1', randomBytes(6000));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.code).toBe('BLOB_ALLOWANCE_SPENT');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await put('192.0.2.2', randomBytes(6000))).status).toBe(201);
    advance(Number(refused.headers.get('retry-after')) * 1000);
    expect((await put('192.0.2.1', randomBytes(6000))).status).toBe(201);
  });

  it('stops a chunked upload (no Content-Length) at the allowance', async () => {
    const { put } = setup(10_000);
    expect((await put('192.0.2.1', randomBytes(6000), true)).status).toBe(201);
    expect((await put('192.0.2.1', randomBytes(6000), true)).status).toBe(429);
    expect((await put('192.0.2.1', randomBytes(3000), true)).status).toBe(201);
  });

  it('does not charge for a blob that was already stored', async () => {
    const { put } = setup(10_000);
    const bytes = randomBytes(6000);
    expect((await put('192.0.2.1', bytes)).status).toBe(201);
    expect((await put('192.0.2.3', bytes)).status).toBe(200);
    expect((await put('192.0.2.3', randomBytes(9000))).status).toBe(201);
  });
});
