// The edge passes the caller's network on: jobs are owned by the submitter's network (while jobs are open to all)
// and lease calls carry the contributor's network, so replicas go to distinct networks. Over a real socket, each
// client bound to its own loopback address (all of 127.0.0.0/8 is loopback on Linux).
import { serve } from '@hono/node-server';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { MemoryStore } from '../store/memory.js';

const store = new MemoryStore();
const { app } = createApp({ store });
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
let port = 0;
beforeAll(async () => {
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function from(localAddress: string) {
  const agent = new Agent({ localAddress } as ConstructorParameters<typeof Agent>[0]);
  return <T>(method: string, path: string, body?: unknown, token?: string) =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          agent,
          localAddress,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        },
        (res) => {
          let text = '';
          res.on('data', (part) => (text += part));
          res.on('end', () => ((res.statusCode ?? 500) < 400 ? resolve(JSON.parse(text) as T) : reject(new Error(text))));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
}

describe('client network at the edge', () => {
  it('owns a job by its submitter’s /24 and sends replicas of a chunk to distinct /24s', async () => {
    const submitted = await from('127.0.9.1')<{ id: string }>('POST', '/api/jobs', {
      runtime: 'python',
      source: 'def main(x):\n    return x\n',
      inputs: [1],
      replicas: 2,
    });
    expect((store as unknown as { repo: { job(id: string): { owner?: string } } }).repo.job(submitted.id).owner).toBe('net:127.0.9.0/24');
    const people = await Promise.all(
      ['127.0.7.1', '127.0.7.2', '127.0.8.1'].map(async (address) => {
        const call = from(address);
        const { contributorId, token } = await call<{ contributorId: string; token: string }>('POST', '/api/contributors', {});
        const lease = (runtimes?: string[]) =>
          call<{ leases: unknown[] }>('POST', `/api/contributors/${contributorId}/leases`, { max: 1, ...(runtimes ? { runtimes } : {}) }, token);
        return lease;
      }),
    );
    const [a1, a2, b] = people;
    await b(['onnx']); // b's network asks for work, so the pool has two networks
    expect((await a1()).leases).toHaveLength(1);
    expect((await a2()).leases).toHaveLength(0);
    expect((await b()).leases).toHaveLength(1);
  });
});
