// API tests for submitters owning their jobs (--auth open|keys), through app.request() with a simulated socket.
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { sharedPythonSyntaxChecker } from '../python/syntax-check.js';
import { MemoryStore } from '../store/memory.js';

beforeAll(() => sharedPythonSyntaxChecker().start());

const SOURCE = 'def main(x):\n    return x * 2\n';

function setup(auth: 'open' | 'keys') {
  const store = new MemoryStore();
  const { app } = createApp({ store, config: { auth } });
  /** One request as a client at `from` (an IPv4 address) holding `key`, if any. */
  const call = async (method: string, path: string, { body, key, from = '10.0.0.1', headers = {} }: { body?: unknown; key?: string; from?: string; headers?: Record<string, string> } = {}) => {
    const res = await app.request(
      path,
      {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      { incoming: { socket: { remoteAddress: from } } },
    );
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const submit = (options: { key?: string; from?: string; private?: boolean } = {}) =>
    call('POST', '/api/jobs', { ...options, body: { runtime: 'python', source: SOURCE, inputs: [1, 2], ...(options.private ? { private: true } : {}) } });
  const key = async (name: string, admin = false) => (await store.createApiKey({ name, admin }, 0)).secret;
  return { call, submit, key, store };
}

const reads = (id: string) => [`/api/jobs/${id}`, `/api/jobs/${id}/source`, `/api/jobs/${id}/chunks/0`, `/api/jobs/${id}/results`, `/api/jobs/${id}/results?format=csv`, `/api/jobs/${id}/events`];

describe('--auth open', () => {
  it('owns a job by its submitter network: only that /24 cancels it', async () => {
    const { submit, call, store } = setup('open');
    const job = (await submit({ from: '10.0.0.1' })).json;
    expect(await store.jobAccess(job.id)).toEqual({ owner: 'net:10.0.0.0/24', private: false });
    const foreign = await call('DELETE', `/api/jobs/${job.id}`, { from: '10.0.9.1' });
    expect(foreign.status).toBe(403);
    expect(foreign.json.error.code).toBe('NOT_JOB_OWNER');
    expect((await call('DELETE', `/api/jobs/${job.id}`, { from: '10.0.0.77' })).json.status).toBe('cancelled');
  });

  it('keeps a private job from other networks, list included, and shows it to its own', async () => {
    const { submit, call } = setup('open');
    const job = (await submit({ from: '10.0.0.1', private: true })).json;
    expect(job.private).toBe(true);
    for (const path of reads(job.id)) {
      const res = await call('GET', path, { from: '10.0.9.1' });
      expect([path, res.status, res.json?.error?.code]).toEqual([path, 403, 'NOT_JOB_OWNER']);
    }
    expect((await call('GET', '/api/jobs', { from: '10.0.9.1' })).json).toEqual([]);
    expect((await call('GET', `/api/jobs/${job.id}/source`, { from: '10.0.0.2' })).json.source).toBe(SOURCE);
    expect((await call('GET', '/api/jobs', { from: '10.0.0.2' })).json.map((j: { id: string }) => j.id)).toEqual([job.id]);
  });

  it('leaves a public job readable by anyone', async () => {
    const { submit, call } = setup('open');
    const job = (await submit({ from: '10.0.0.1' })).json;
    for (const path of reads(job.id).slice(0, 5)) expect([path, (await call('GET', path, { from: '10.0.9.1' })).status]).toEqual([path, 200]);
  });
});

describe('--auth keys', () => {
  it('refuses submitting, cancelling and uploading without a key with 401 API_KEY_REQUIRED', async () => {
    const { submit, call } = setup('keys');
    const res = await submit();
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('API_KEY_REQUIRED');
    expect((await call('POST', '/api/blobs', { headers: { 'content-type': 'application/octet-stream' } })).status).toBe(401);
    expect((await call('DELETE', '/api/jobs/j-nope')).status).toBe(404);
  });

  it('refuses an unknown or revoked key', async () => {
    const { submit, key, store } = setup('keys');
    expect((await submit({ key: 'isk_made-up' })).status).toBe(401);
    const alice = await key('alice');
    expect((await submit({ key: alice })).status).toBe(201);
    await store.revokeApiKey('alice', 1);
    expect((await submit({ key: alice })).json.error.code).toBe('API_KEY_REQUIRED');
  });

  it('lets only the owning key or an admin key cancel a job', async () => {
    const { submit, call, key, store } = setup('keys');
    const [alice, bob, admin] = [await key('alice'), await key('bob'), await key('root', true)];
    const job = (await submit({ key: alice })).json;
    expect((await store.jobAccess(job.id))?.owner).toBe((await store.listApiKeys())[0].id);
    expect((await call('DELETE', `/api/jobs/${job.id}`)).status).toBe(401);
    expect((await call('DELETE', `/api/jobs/${job.id}`, { key: bob })).json.error.code).toBe('NOT_JOB_OWNER');
    expect((await call('DELETE', `/api/jobs/${job.id}`, { key: alice })).json.status).toBe('cancelled');
    const other = (await submit({ key: alice })).json;
    expect((await call('DELETE', `/api/jobs/${other.id}`, { key: admin })).json.status).toBe('cancelled');
  });

  it('shows a private job only to its key and admin keys: 401 without a key, 403 with another', async () => {
    const { submit, call, key } = setup('keys');
    const [alice, bob, admin] = [await key('alice'), await key('bob'), await key('root', true)];
    const job = (await submit({ key: alice, private: true })).json;
    for (const path of reads(job.id)) {
      expect([path, (await call('GET', path)).status]).toEqual([path, 401]);
      expect([path, (await call('GET', path, { key: bob })).json?.error?.code]).toEqual([path, 'NOT_JOB_OWNER']);
    }
    for (const path of reads(job.id).slice(0, 5)) {
      expect([path, (await call('GET', path, { key: alice })).status]).toEqual([path, 200]);
      expect([path, (await call('GET', path, { key: admin })).status]).toEqual([path, 200]);
    }
    expect((await call('GET', '/api/jobs', { key: bob })).json).toEqual([]);
    expect((await call('GET', '/api/jobs', { key: alice })).json).toHaveLength(1);
  });

  it("streams a private job's events and exports its results to its key and admin keys only", async () => {
    const { submit, call, key } = setup('keys');
    const [alice, bob, admin] = [await key('alice'), await key('bob'), await key('root', true)];
    const job = (await submit({ key: alice, private: true })).json;
    // A cancelled job's stream ends at once (progress, end), so the whole answer can be read.
    await call('DELETE', `/api/jobs/${job.id}`, { key: alice });
    for (const [who, holder] of [['alice', alice], ['admin', admin]] as const) {
      const events = await call('GET', `/api/jobs/${job.id}/events`, { key: holder });
      expect([who, events.status, events.text]).toEqual([who, 200, expect.stringContaining('event: end')]);
      const csv = await call('GET', `/api/jobs/${job.id}/results?format=csv&download`, { key: holder });
      expect([who, csv.status, csv.text]).toEqual([who, 200, 'index,status,output,stdout,error\n']);
    }
    for (const [who, holder, status] of [['nobody', undefined, 401], ['bob', bob, 403]] as const) {
      for (const path of [`/api/jobs/${job.id}/events`, `/api/jobs/${job.id}/results?format=csv&download`, `/api/jobs/${job.id}/results`]) {
        const res = await call('GET', path, { key: holder });
        expect([who, path, res.status, res.text]).toEqual([who, path, status, expect.not.stringContaining('index,status')]);
      }
    }
  });

  it('keeps public jobs readable without a key', async () => {
    const { submit, call, key } = setup('keys');
    const job = (await submit({ key: await key('alice') })).json;
    for (const path of reads(job.id).slice(0, 5)) expect([path, (await call('GET', path)).status]).toEqual([path, 200]);
  });
});
