// API tests for quotas per submitter (jobs, chunks per day, blob bytes), through app.request(): each quota refuses
// with 429 QUOTA_EXCEEDED naming it, its limit and the usage, and keeps nothing of the refused request.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { BlobStore } from '../blobs/blob-store.js';
import type { CoordinatorConfig } from '../config.js';
import type { Quota } from '../domain/quota.js';
import { MemoryStore } from '../store/memory.js';

const T0 = Date.UTC(2026, 0, 1);
// `entry` given: the job is in function mode without waiting for the Python syntax check.
const pythonJob = (inputs: number) => ({ runtime: 'python', source: 'def main(x):\n    return x\n', entry: 'main', inputs: Array.from({ length: inputs }, (_, i) => i) });
const nameOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function setup(config: Partial<CoordinatorConfig> = {}) {
  const store = new MemoryStore();
  const clock = { t: T0, now: () => clock.t };
  const blobDir = mkdtempSync(join(tmpdir(), 'idle-sense-quota-'));
  const { app } = createApp({ store, clock, config: { auth: 'keys', ...config }, blobs: new BlobStore(blobDir, 1024 * 1024) });
  const call = async (method: string, path: string, options: { key?: string; json?: unknown; bytes?: Uint8Array | ReadableStream; from?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...options.headers };
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    if (options.bytes !== undefined) headers['content-type'] = 'application/octet-stream';
    // As a real client sends it for a body of known size; a stream goes without (chunked).
    if (options.bytes instanceof Uint8Array) headers['content-length'] = String(options.bytes.length);
    const body = options.json !== undefined ? JSON.stringify(options.json) : options.bytes;
    const res = await app.request(path, { method, headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit, {
      incoming: { socket: { remoteAddress: options.from ?? '10.0.0.1' } },
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const submit = (key: string | undefined, inputs: number, from?: string) => call('POST', '/api/jobs', { key, json: pythonJob(inputs), from });
  const key = async (name: string, quota?: Quota, admin = false) => (await store.createApiKey({ name, admin, quota }, T0)).secret;
  const storedBlobs = () => readdirSync(blobDir).filter((f) => f !== 'tmp').flatMap((d) => readdirSync(join(blobDir, d)));
  return { store, clock, call, submit, key, storedBlobs };
}

describe('quotas per key', () => {
  it('jobs: a key holds at most N unfinished jobs; a cancelled one frees its slot', async () => {
    const { submit, key, call } = setup();
    const alice = await key('alice', { jobs: 2 });
    const first = await submit(alice, 1);
    expect(first.status).toBe(201);
    expect((await submit(alice, 1)).status).toBe(201);
    const over = await submit(alice, 1);
    expect(over.status).toBe(429);
    expect(over.json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'jobs', limit: 2, usage: 2, requested: 1 } });
    expect(over.json.error.message).toMatch(/jobs: at most 2 unfinished jobs; 2 in use/);
    expect((await call('GET', '/api/jobs')).json).toHaveLength(2);
    // Another key is not affected.
    expect((await submit(await key('bob', { jobs: 2 }), 1)).status).toBe(201);
    await call('DELETE', `/api/jobs/${first.json.id}`, { key: alice });
    expect((await submit(alice, 1)).status).toBe(201);
  });

  it('chunksPerDay: a job that would pass the chunk quota is refused whole; the window rolls over 24 hours', async () => {
    const { submit, key, call, clock } = setup();
    const alice = await key('alice', { chunksPerDay: 5 });
    expect((await submit(alice, 3)).status).toBe(201);
    const over = await submit(alice, 3);
    expect(over.status).toBe(429);
    expect(over.json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'chunksPerDay', limit: 5, usage: 3, requested: 3 } });
    expect((await call('GET', '/api/jobs')).json.map((j: { total: number }) => j.total)).toEqual([3]);
    expect((await submit(alice, 2)).status).toBe(201);
    expect((await submit(alice, 1)).status).toBe(429);
    clock.t = T0 + 24 * 3600_000;
    expect((await submit(alice, 5)).status).toBe(201);
  });

  it('blobBytes: uploads past the bytes a key may store are refused and kept nowhere; a blob already stored costs nothing', async () => {
    const { call, key, storedBlobs } = setup();
    const alice = await key('alice', { blobBytes: 100 });
    const sixty = new Uint8Array(60).fill(1);
    const other = new Uint8Array(60).fill(2);
    expect((await call('PUT', `/api/blobs/${nameOf(sixty)}`, { key: alice, bytes: sixty })).status).toBe(201);
    // Declared too big: refused before a byte is read.
    const over = await call('PUT', `/api/blobs/${nameOf(other)}`, { key: alice, bytes: other });
    expect(over.status).toBe(429);
    expect(over.json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'blobBytes', limit: 100, usage: 60, requested: 60 } });
    expect((await call('POST', '/api/blobs', { key: alice, bytes: other })).status).toBe(429);
    // The same blob again is free, and so is its size.
    expect((await call('PUT', `/api/blobs/${nameOf(sixty)}`, { key: alice, bytes: sixty })).status).toBe(200);
    // A body without Content-Length is cut off where the quota ends.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(other.subarray(0, 30));
        controller.enqueue(other.subarray(30));
        controller.close();
      },
    });
    const streamed = await call('POST', '/api/blobs', { key: alice, bytes: chunked });
    expect(streamed.status).toBe(429);
    expect(streamed.json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'blobBytes', limit: 100, usage: 60 } });
    expect(storedBlobs()).toHaveLength(1);
    expect((await call('PUT', `/api/blobs/${nameOf(other.subarray(0, 40))}`, { key: alice, bytes: other.subarray(0, 40) })).status).toBe(201);
    expect((await call('PUT', `/api/blobs/${nameOf(new Uint8Array(1))}`, { key: alice, bytes: new Uint8Array(1) })).status).toBe(429);
  });

  it('submissions at once cannot both take the last slot', async () => {
    const { submit, key, call } = setup();
    const alice = await key('alice', { jobs: 1 });
    const results = await Promise.all(Array.from({ length: 6 }, () => submit(alice, 1)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 429, 429, 429, 429, 429]);
    expect((await call('GET', '/api/jobs')).json).toHaveLength(1);
  });

  it('uploads at once cannot both take the last bytes', async () => {
    const { call, key, storedBlobs } = setup();
    const alice = await key('alice', { blobBytes: 100 });
    const bodies = [1, 2, 3].map((n) => new Uint8Array(60).fill(n));
    // From three addresses: each has its own hourly allowance (--blob-mb-per-hour), the key one quota.
    const codes = (results: { status: number; json: any }[]) => results.map((r) => r.json.error?.code ?? r.status).sort();
    const results = await Promise.all(bodies.map((bytes, i) => call('PUT', `/api/blobs/${nameOf(bytes)}`, { key: alice, bytes, from: `10.0.${i}.1` })));
    expect(codes(results)).toEqual([201, 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED']);
    expect(storedBlobs()).toHaveLength(1);
    // Without Content-Length an upload holds all that is left until it ends.
    const bob = await key('bob', { blobBytes: 100 });
    const streams = [4, 5].map((n) => new Blob([new Uint8Array(30).fill(n)]).stream());
    const streamed = await Promise.all(streams.map((bytes, i) => call('POST', '/api/blobs', { key: bob, bytes, from: `10.0.${i}.1` })));
    expect(codes(streamed)).toEqual([201, 'QUOTA_EXCEEDED']);
    expect(storedBlobs()).toHaveLength(2);
  });
});

describe('coordinator-wide quotas (--key-max-*)', () => {
  it('apply to keys without their own; a key\'s own quota wins (0 = none); admin keys have none unless set', async () => {
    const { submit, key } = setup({ keyQuota: { jobs: 1 } });
    const plain = await key('plain');
    expect((await submit(plain, 1)).status).toBe(201);
    expect((await submit(plain, 1)).json.error).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'jobs', limit: 1 } });
    const own = await key('own', { jobs: 3 });
    for (let i = 0; i < 3; i++) expect((await submit(own, 1)).status).toBe(201);
    expect((await submit(own, 1)).status).toBe(429);
    const unlimited = await key('unlimited', { jobs: 0 });
    const admin = await key('root', undefined, true);
    for (let i = 0; i < 4; i++) {
      expect((await submit(unlimited, 1)).status).toBe(201);
      expect((await submit(admin, 1)).status).toBe(201);
    }
    const limitedAdmin = await key('small-root', { jobs: 1 }, true);
    expect((await submit(limitedAdmin, 1)).status).toBe(201);
    expect((await submit(limitedAdmin, 1)).status).toBe(429);
  });

  it('in open mode apply to each submitter network, the owner of its jobs', async () => {
    const { submit, call } = setup({ auth: 'open', keyQuota: { chunksPerDay: 4, blobBytes: 10 } });
    expect((await submit(undefined, 4, '10.0.0.1')).status).toBe(201);
    const over = await submit(undefined, 1, '10.0.0.200');
    expect(over.status).toBe(429);
    expect(over.json.error.quota).toEqual({ name: 'chunksPerDay', limit: 4, usage: 4, requested: 1 });
    expect((await submit(undefined, 4, '10.0.1.1')).status).toBe(201);
    const blob = new Uint8Array(11);
    expect((await call('PUT', `/api/blobs/${nameOf(blob)}`, { bytes: blob, from: '10.0.0.1' })).json.error.quota).toMatchObject({ name: 'blobBytes', limit: 10 });
  });
});
