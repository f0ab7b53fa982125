// Content-addressed blobs over HTTP, against a real directory.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { BlobStore } from '../blobs/blob-store.js';
import { MemoryStore } from '../store/memory.js';

const nameOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function setup(maxBytes = 1024) {
  const dir = mkdtempSync(join(tmpdir(), 'idle-sense-blob-test-'));
  const blobs = new BlobStore(dir, maxBytes);
  const { app } = createApp({ store: new MemoryStore(), blobs });
  return { app, dir };
}

describe('/api/blobs', () => {
  const bytes = new TextEncoder().encode('model bytes \u2713');

  it('stores a PUT whose body hashes to its name, once, and serves it back with immutable caching', async () => {
    const { app } = setup();
    const name = nameOf(bytes);
    const put = await app.request(`/api/blobs/${name}`, { method: 'PUT', body: bytes });
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({ name, size: bytes.length });
    const again = await app.request(`/api/blobs/${name}`, { method: 'PUT', body: bytes });
    expect(again.status).toBe(200);

    const get = await app.request(`/api/blobs/${name}`);
    expect(get.status).toBe(200);
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(bytes);
    expect(get.headers.get('cache-control')).toContain('immutable');
    expect(get.headers.get('etag')).toBe(`"${name}"`);
    const head = await app.request(`/api/blobs/${name}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    const cached = await app.request(`/api/blobs/${name}`, { headers: { 'If-None-Match': `"${name}"` } });
    expect(cached.status).toBe(304);
  });

  it('rejects a PUT whose body does not hash to the name, and keeps nothing', async () => {
    const { app, dir } = setup();
    const wrong = nameOf(new TextEncoder().encode('something else'));
    const res = await app.request(`/api/blobs/${wrong}`, { method: 'PUT', body: bytes });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BLOB_HASH_MISMATCH');
    expect((await app.request(`/api/blobs/${wrong}`)).status).toBe(404);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('names a POSTed body itself', async () => {
    const { app } = setup();
    const res = await app.request('/api/blobs', { method: 'POST', body: bytes });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { name: string }).name).toBe(nameOf(bytes));
  });

  it('answers 413 past the size limit, with or without Content-Length', async () => {
    const { app } = setup(16);
    const big = new Uint8Array(17);
    const declared = await app.request('/api/blobs', { method: 'POST', body: big, headers: { 'content-length': '17', 'content-type': 'application/octet-stream' } });
    expect(declared.status).toBe(413);
    const streamed = await app.request('/api/blobs', {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(big);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { message: string } }).error.message).toContain('--max-blob-mb');
  });

  it('400s on a malformed name and 404s on an unknown one', async () => {
    const { app } = setup();
    expect((await app.request('/api/blobs/md5:abc', { method: 'PUT', body: bytes })).status).toBe(400);
    expect((await app.request(`/api/blobs/sha256:${'0'.repeat(64)}`)).status).toBe(404);
  });
});
