// The HTTP edge's guards: cross-site writes refused, per-address rate limits, and a body limit that holds for
// chunked bodies over a real socket.
import { serve } from '@hono/node-server';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import type { CoordinatorConfig } from '../config.js';
import { MemoryStore } from '../store/memory.js';

const JOB = { runtime: 'python', source: 'def main(x):\n    return x\n', inputs: [1] };

function setup(config: Partial<CoordinatorConfig> = {}) {
  const { app } = createApp({ store: new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 1_000 }), config });
  /** A request as @hono/node-server hands it over: from a socket with this remote address. */
  const from = (address: string, path: string, init: RequestInit = {}) =>
    app.request(path, init, { incoming: { socket: { remoteAddress: address } } });
  return { app, from };
}

const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers } };
};

describe('cross-site writes', () => {
  it('refuses a write a foreign page could send: text/plain and form bodies get 415', async () => {
    const { app } = setup();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await app.request('/api/jobs', post(JOB, { 'content-type': type }));
      expect(res.status).toBe(415);
      expect(((await res.json()) as any).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    // Blobs take any type (curl labels --data-binary as a form), but not from a foreign page.
    const blob = (headers: Record<string, string>) =>
      app.request('http://localhost:8080/api/blobs', { method: 'POST', body: 'x', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '1', host: 'localhost:8080', ...headers } });
    expect((await blob({})).status).toBe(201);
    expect((await blob({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await blob({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('refuses writes from another origin or another site, and accepts same-origin and non-browser clients', async () => {
    const { app } = setup();
    const host = { host: 'localhost:8080' };
    const foreign = await app.request('http://localhost:8080/api/jobs', post(JOB, { ...host, origin: 'https://evil.example' }));
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as any).error).toMatchObject({ code: 'CROSS_SITE_REFUSED', message: expect.stringContaining('evil.example') });
    const site = await app.request('http://localhost:8080/api/jobs', post(JOB, { ...host, 'sec-fetch-site': 'cross-site' }));
    expect(site.status).toBe(403);
    // A DELETE carries no body, but the Origin check still applies.
    const created = (await (await app.request('http://localhost:8080/api/jobs', post(JOB, host))).json()) as { id: string };
    const cancel = await app.request(`http://localhost:8080/api/jobs/${created.id}`, { method: 'DELETE', headers: { ...host, origin: 'http://evil.example' } });
    expect(cancel.status).toBe(403);
    const own = await app.request('http://localhost:8080/api/jobs', post(JOB, { ...host, origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' }));
    expect(own.status).toBe(201);
    const cli = await app.request('http://localhost:8080/api/jobs', post(JOB, host));
    expect(cli.status).toBe(201);
    // Reads stay open to anyone (a foreign page cannot read the answer without CORS anyway).
    expect((await app.request('http://localhost:8080/api/jobs', { headers: { origin: 'https://evil.example' } })).status).toBe(200);
  });
});

describe('rate limits per client address', () => {
  it('answers 429 with Retry-After past the burst, per address', async () => {
    const { app } = setup({ rateLimitPerS: 5 });
    const from = (address: string) => app.request('/api/jobs', {}, { incoming: { socket: { remoteAddress: address } } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await from('10.0.0.1')).status);
    // Burst of 2 × 5 = 10, then refused (the few ms this loop takes refill less than one token).
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    const refused = await from('10.0.0.1');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as any).error.code).toBe('RATE_LIMITED');
    // Another address is not affected.
    expect((await from('10.0.0.2')).status).toBe(200);
  });

  it('limits registrations per address separately, and 0 turns a limit off', async () => {
    const { from } = setup({ registerPerMin: 3 });
    const register = (address: string) => from(address, '/api/contributors', post({ agent: 'x' }));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await register('10.0.0.7')).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect((await register('10.0.0.8')).status).toBe(201);
    const open = setup({ registerPerMin: 0, rateLimitPerS: 0 });
    for (let i = 0; i < 50; i++) expect((await open.from('10.0.0.7', '/api/contributors', post({ agent: 'x' }))).status).toBe(201);
  });

  it('trusts X-Forwarded-For only with --trust-proxy', async () => {
    const limited = setup({ registerPerMin: 1 });
    const viaProxy = (s: ReturnType<typeof setup>, client: string) =>
      s.from('127.0.0.1', '/api/contributors', post({ agent: 'x' }, { 'x-forwarded-for': client }));
    expect((await viaProxy(limited, '1.1.1.1')).status).toBe(201);
    // Without the flag the header is ignored: both come from the proxy's address, so the second is refused.
    expect((await viaProxy(limited, '2.2.2.2')).status).toBe(429);
    const trusting = setup({ registerPerMin: 1, trustProxy: true });
    expect((await viaProxy(trusting, '1.1.1.1')).status).toBe(201);
    expect((await viaProxy(trusting, '2.2.2.2')).status).toBe(201);
    expect((await viaProxy(trusting, '2.2.2.2')).status).toBe(429);
  });
});

describe('body limit over a real socket', () => {
  it('refuses an oversized chunked body with 413 before the client has finished sending it', async () => {
    const { app } = setup({ maxBodyBytes: 64 * 1024 });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await new Promise<{ head: string; sentBytes: number }>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let sent = 0;
        let received = '';
        let stop = false;
        socket.on('error', (err) => (received ? undefined : reject(err)));
        socket.on('data', (data) => {
          received += data.toString('latin1');
          if (received.includes('\r\n\r\n')) {
            stop = true;
            resolve({ head: received, sentBytes: sent });
            socket.destroy();
          }
        });
        socket.write('POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        const size = 16 * 1024;
        const piece = Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), Buffer.alloc(size, 0x20), Buffer.from('\r\n')]);
        // Keep sending (up to 64 MiB) until the coordinator answers; a limit that buffered everything would never answer.
        const pump = () => {
          while (!stop && sent < 64 * 1024 * 1024) {
            sent += size;
            if (!socket.write(piece)) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
      expect(answer.head).toMatch(/^HTTP\/1\.1 413/);
      expect(answer.sentBytes).toBeLessThan(8 * 1024 * 1024);
    } finally {
      server.close();
    }
  });
});
