// API tests for known-answer jobs (POST /api/jobs/:id/canaries): admin only, answers taken from chunks that agreeing
// replicas verified, invisible to contributors, and a contributor who answers one wrongly is caught.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChunkDetail, JobSummary, Lease, LeaseResponse, RegisterResponse } from '../../../protocol/index.js';
import { createApp } from '../app.js';
import { sharedPythonSyntaxChecker } from '../python/syntax-check.js';
import { MemoryStore } from '../store/memory.js';

beforeAll(() => sharedPythonSyntaxChecker().start());

const SOURCE = 'def main(x):\n    return x * 2\n';

function setup() {
  const store = new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 0 });
  const { app } = createApp({ store, config: { auth: 'keys' } });
  const call = async (method: string, path: string, { body, key, token, from = '10.0.0.1' }: { body?: unknown; key?: string; token?: string; from?: string } = {}) => {
    const secret = key ?? token;
    const res = await app.request(
      path,
      {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      { incoming: { socket: { remoteAddress: from } } },
    );
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const key = async (name: string, admin = false) => (await store.createApiKey({ name, admin }, 0)).secret;
  const contributor = async (from: string) => {
    const me = (await call('POST', '/api/contributors', { body: { agent: 'vitest' }, from })).json as RegisterResponse;
    const path = `/api/contributors/${me.contributorId}`;
    return {
      lease: async (max = 1) => (await call('POST', `${path}/leases`, { body: { max, threads: max }, token: me.token, from })).json as LeaseResponse,
      report: async (lease: Lease, output: unknown) =>
        call('POST', `${path}/results`, { body: { results: [{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output }] }, token: me.token, from }),
    };
  };
  type Contributor = Awaited<ReturnType<typeof contributor>>;
  /** Leases and reports until nothing is left; `answer` decides each output. */
  const work = async (who: Contributor[], answer: (lease: Lease) => unknown) => {
    for (let round = 0; round < 100; round++) {
      let any = false;
      for (const c of who) {
        for (const lease of (await c.lease(4)).leases) {
          any = true;
          await c.report(lease, answer(lease));
        }
      }
      if (!any) return;
    }
  };
  return { call, key, contributor, work, store };
}

/** A public job with two replicas per chunk, computed honestly by two contributors on distinct networks. */
async function verifiedJob(t: ReturnType<typeof setup>, owner: string, inputs = [1, 2, 3, 4, 5, 6]) {
  const job = (await t.call('POST', '/api/jobs', { key: owner, body: { runtime: 'python', source: SOURCE, inputs, replicas: 2 } })).json as JobSummary;
  const a = await t.contributor('10.0.1.1');
  const b = await t.contributor('10.0.2.1');
  await t.work([a, b], (lease) => (lease.input as number) * 2);
  expect((await t.call('GET', `/api/jobs/${job.id}`)).json.status).toBe('completed');
  return job;
}

describe('POST /api/jobs/:id/canaries', () => {
  it('is for admin keys only: 401 without a key, 403 ADMIN_REQUIRED with a submitter key, even the owner', async () => {
    const t = setup();
    const owner = await t.key('alice');
    const job = await verifiedJob(t, owner);
    const anonymous = await t.call('POST', `/api/jobs/${job.id}/canaries`, { body: {} });
    expect([anonymous.status, anonymous.json.error.code]).toEqual([401, 'API_KEY_REQUIRED']);
    const submitter = await t.call('POST', `/api/jobs/${job.id}/canaries`, { key: owner, body: {} });
    expect([submitter.status, submitter.json.error.code]).toEqual([403, 'ADMIN_REQUIRED']);
    expect((await t.call('GET', '/api/jobs', { key: owner })).json).toHaveLength(1);
  });

  it('makes a private job of verified chunks whose answers it holds, owned by the admin', async () => {
    const t = setup();
    const owner = await t.key('alice');
    const admin = await t.key('root', true);
    const job = await verifiedJob(t, owner);
    const res = await t.call('POST', `/api/jobs/${job.id}/canaries`, { key: admin, body: { chunks: 3 } });
    expect(res.status).toBe(201);
    const { job: canary, canaryOf, sourceChunks } = res.json;
    expect(canaryOf).toBe(job.id);
    expect(canary).toMatchObject({ name: job.name, total: 3, private: true, status: 'queued', runtime: 'python' });
    expect(sourceChunks).toHaveLength(3);
    expect(new Set(sourceChunks).size).toBe(3);
    // Its chunks carry the source chunks' inputs; the answers stay with the coordinator.
    for (const [i, source] of sourceChunks.entries()) {
      const detail = (await t.call('GET', `/api/jobs/${canary.id}/chunks/${i}`, { key: admin })).json as ChunkDetail;
      expect(detail).toEqual({ index: i, input: source + 1, state: 'open', results: [] });
    }
    // Private: the source job's owner does not see it.
    expect((await t.call('GET', `/api/jobs/${canary.id}`, { key: owner })).status).toBe(403);
    expect((await t.call('GET', '/api/jobs', { key: owner })).json.map((j: JobSummary) => j.id)).toEqual([job.id]);
    // More chunks than were verified: all of them.
    const all = (await t.call('POST', `/api/jobs/${job.id}/canaries`, { key: admin, body: { chunks: 50, name: 'squares again' } })).json;
    expect(all.job).toMatchObject({ total: 6, name: 'squares again' });
    expect(all.sourceChunks).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('catches a contributor who answers a canary chunk wrongly; one result settles each chunk', async () => {
    const t = setup();
    const owner = await t.key('alice');
    const admin = await t.key('root', true);
    const job = await verifiedJob(t, owner);
    const { job: canary } = (await t.call('POST', `/api/jobs/${job.id}/canaries`, { key: admin, body: { chunks: 6 } })).json;
    const cheat = await t.contributor('10.0.3.1');
    const honest = await t.contributor('10.0.4.1');
    // The canary's leases and spec look like those of any job: nothing says the answer is known.
    const first = await cheat.lease(1);
    const other = await honest.lease(1);
    expect(Object.keys(first.leases[0]).sort()).toEqual(Object.keys(other.leases[0]).sort());
    await honest.report(other.leases[0], (other.leases[0].input as number) * 2);
    expect(first.jobs[canary.id]).toEqual({ id: canary.id, name: canary.name, timeoutMs: canary.timeoutMs, runtime: 'python', source: SOURCE });
    await cheat.report(first.leases[0], 'forged');
    await t.work([cheat, honest], (lease) => (lease.input as number) * 2);
    const done = (await t.call('GET', `/api/jobs/${canary.id}`, { key: admin })).json as JobSummary;
    expect(done).toMatchObject({ status: 'completed', completed: 6 });
    const detail = (await t.call('GET', `/api/jobs/${canary.id}/chunks/${first.leases[0].chunkIndex}`, { key: admin })).json as ChunkDetail;
    // The forged answer is marked invalid and the published output is the verified one.
    expect(detail.result).toMatchObject({ status: 'ok', output: (first.leases[0].input as number) * 2, verified: true });
    expect(detail.results.map((r) => [r.output, r.validation])).toEqual([['forged', 'invalid']]);
  });

  it('refuses a job without chunks agreeing replicas verified (409), an unknown job (404) and bad bodies (400)', async () => {
    const t = setup();
    const owner = await t.key('alice');
    const admin = await t.key('root', true);
    const lone = (await t.call('POST', '/api/jobs', { key: owner, body: { runtime: 'python', source: SOURCE, inputs: [1, 2] } })).json as JobSummary;
    const c = await t.contributor('10.0.1.1');
    await t.work([c], (lease) => (lease.input as number) * 2);
    const none = await t.call('POST', `/api/jobs/${lone.id}/canaries`, { key: admin, body: {} });
    expect([none.status, none.json.error.code]).toEqual([409, 'NO_VERIFIED_CHUNKS']);
    expect((await t.call('POST', '/api/jobs/j-nope/canaries', { key: admin, body: {} })).status).toBe(404);
    const bad = await t.call('POST', `/api/jobs/${lone.id}/canaries`, { key: admin, body: { chunks: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/chunks/);
    expect((await t.call('POST', `/api/jobs/${lone.id}/canaries`, { key: admin, body: { known: [] } })).status).toBe(400);
  });
});
