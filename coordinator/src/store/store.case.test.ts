// The Store contract: one suite every implementation must pass (memory, SQLite, and later Redis).
// Each implementation's test file calls runStoreContract with a factory; a skipped case must carry its reason.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobSubmission, ResultReport } from '../../../protocol/index.js';
import { newJobFrom } from '../domain/policy.js';
import { runAdaptiveContract } from './adaptive.case.test.js';
import { runCapabilitiesContract } from './capabilities.case.test.js';
import { runLimitsContract } from './limits.case.test.js';
import { runQuotaContract } from './quota.case.test.js';
import { runReleaseContract } from './release.case.test.js';
import type { NewJob, SchedulingPolicy, Store } from './store.js';

export interface StoreContractOptions {
  name: string;
  newStore: (policy: SchedulingPolicy, random?: () => number) => Promise<Store> | Store;
  /** Case names to skip, each with the reason. */
  skip?: Record<string, string>;
}

const policy: SchedulingPolicy = { leaseGraceMs: 1_000, retryCooldownMs: 5_000 };
const T0 = Date.UTC(2026, 0, 1);

type Extra = Partial<Omit<Extract<JobSubmission, { runtime: 'python' }>, 'runtime' | 'inputs'>>;

function job(inputs: unknown[], extra: Extra = {}): NewJob {
  return newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x', inputs, timeoutMs: 10_000, maxAttempts: 3, ...extra });
}

const ok = (lease: { leaseId: string; leaseToken: string }, output: unknown): ResultReport => ({
  leaseId: lease.leaseId,
  leaseToken: lease.leaseToken,
  status: 'ok',
  output,
});

export function runStoreContract({ name, newStore, skip = {} }: StoreContractOptions): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    afterEach(async () => {
      await store?.close();
    });
    const open = async () => (store = await newStore(policy));
    const contributor = async () => (await store.registerContributor({}, T0)).contributorId;
    const py = ['python' as const];
    const test = (title: string, fn: () => Promise<void>) =>
      skip[title] ? it.skip(`${title} (skipped: ${skip[title]})`, fn) : it(title, fn);

    test('a new job is queued with one chunk per input', async () => {
      await open();
      const created = await store.createJob(job([1, 2, 3], { name: 'three' }), T0);
      expect(created).toMatchObject({ name: 'three', status: 'queued', total: 3, queued: 3, running: 0, completed: 0, failed: 0 });
      expect(await store.getJob(created.id)).toEqual(created);
      expect(await store.getJob('nope')).toBeUndefined();
      expect(await store.getJobSource(created.id)).toMatchObject({ runtime: 'python', source: expect.stringContaining('def main') });
    });

    test('every job keeps its owner and private flag; only a private job says so on the wire', async () => {
      await open();
      const plain = await store.createJob({ ...job([1]), owner: 'net:10.0.0.0/24' }, T0);
      const secret = await store.createJob({ ...job([1], { private: true }), owner: 'k-alice' }, T0);
      expect(await store.jobAccess(plain.id)).toEqual({ owner: 'net:10.0.0.0/24', private: false });
      expect(await store.jobAccess(secret.id)).toEqual({ owner: 'k-alice', private: true });
      expect(await store.jobAccess('nope')).toBeUndefined();
      expect(plain).not.toHaveProperty('private');
      expect(JSON.stringify(await store.getJob(secret.id))).not.toContain('k-alice');
      expect(await store.getJob(secret.id)).toMatchObject({ private: true });
      expect(await store.getJobSource(secret.id)).not.toHaveProperty('private');
    });

    test('API keys are found by their secret until revoked; the secret itself is not kept', async () => {
      await open();
      const { key, secret } = await store.createApiKey({ name: 'alice', admin: false }, T0);
      const root = await store.createApiKey({ name: 'root', admin: true }, T0 + 1);
      expect(secret).toMatch(/^isk_/);
      expect(await store.findApiKey(secret)).toEqual(key);
      expect(await store.findApiKey(root.secret)).toMatchObject({ name: 'root', admin: true });
      expect(await store.findApiKey(secret + 'x')).toBeUndefined();
      expect(JSON.stringify(await store.listApiKeys())).not.toContain(secret);
      expect(await store.revokeApiKey('alice', T0 + 2)).toMatchObject({ id: key.id, revokedAt: T0 + 2 });
      expect(await store.findApiKey(secret)).toBeUndefined();
      expect(await store.revokeApiKey(key.id, T0 + 3)).toBeUndefined();
      expect((await store.listApiKeys()).map((k) => [k.name, k.revokedAt])).toEqual([['alice', T0 + 2], ['root', undefined]]);
    });

    test('jobs are listed newest first', async () => {
      await open();
      const a = await store.createJob(job([1]), T0);
      const b = await store.createJob(job([1]), T0 + 1);
      expect((await store.listJobs()).map((j) => j.id)).toEqual([b.id, a.id]);
    });

    test('contributors authenticate only with their own token', async () => {
      await open();
      const a = await store.registerContributor({ agent: 'test' }, T0);
      const b = await store.registerContributor({}, T0);
      expect(await store.authenticateContributor(a.contributorId, a.token)).toBe(true);
      expect(await store.authenticateContributor(a.contributorId, b.token)).toBe(false);
      expect(await store.authenticateContributor('c-unknown', a.token)).toBe(false);
    });

    test('leasing hands out chunks in index order with inputs, secrets and a deadline', async () => {
      await open();
      const j = await store.createJob(job([{ n: 1 }, { n: 2 }, { n: 3 }]), T0);
      const c = await contributor();
      const batch = await store.leaseChunks(c, { max: 2, runtimes: py }, T0);
      expect(batch.leases.map((l) => [l.chunkIndex, l.input])).toEqual([
        [0, { n: 1 }],
        [1, { n: 2 }],
      ]);
      expect(batch.jobs[j.id]).toMatchObject({ id: j.id, runtime: 'python', timeoutMs: 10_000 });
      expect(new Date(batch.leases[0].deadline).getTime()).toBe(T0 + 10_000 + policy.leaseGraceMs);
      expect(new Set(batch.leases.map((l) => l.leaseToken)).size).toBe(2);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'running', running: 2, queued: 1 });
    });

    test('leasing prefers the job an idle thread has loaded (job affinity)', async () => {
      await open();
      const a = await store.createJob(job([1, 2, 3, 4]), T0);
      const b = await store.createJob(job([1, 2, 3, 4]), T0 + 1);
      const c = await contributor();
      // Round-robin alone would serve a (created first, never served); the thread that has b loaded gets b.
      const first = await store.leaseChunks(c, { max: 1, runtimes: py, loadedJobs: [b.id] }, T0);
      expect(first.leases.map((l) => l.jobId)).toEqual([b.id]);
      const second = await store.leaseChunks(c, { max: 1, runtimes: py, loadedJobs: [b.id] }, T0);
      expect(second.leases.map((l) => l.jobId)).toEqual([a.id]); // b holds its fair share already: a gets the thread
    });

    test('a chunk the caller has finished (result on its way) does not count towards its job’s share: the thread keeps the job', async () => {
      await open();
      const a = await store.createJob(job([1, 2, 3, 4]), T0);
      const b = await store.createJob(job([1, 2, 3, 4]), T0 + 1);
      const c = await contributor();
      const [first] = (await store.leaseChunks(c, { max: 1, runtimes: py, loadedJobs: [b.id] }, T0)).leases;
      expect(first.jobId).toBe(b.id);
      // The thread finished chunk 0 of b; its result is batched, so the lease still runs on the coordinator.
      const again = await store.leaseChunks(c, { max: 1, runtimes: py, loadedJobs: [b.id], finishedLeases: [first.leaseId] }, T0);
      expect(again.leases.map((l) => l.jobId)).toEqual([b.id]);
      // Lease ids that are not the caller's, or not running, discount nothing: another contributor naming c's leases
      // is treated as if it named none (b holds 2 running, over its share, so a gets the thread).
      const other = await contributor();
      const third = await store.leaseChunks(other, { max: 1, runtimes: py, loadedJobs: [b.id], finishedLeases: [first.leaseId, again.leases[0].leaseId, 'l-unknown'] }, T0);
      expect(third.leases.map((l) => l.jobId)).toEqual([a.id]);
    });

    test('job affinity stays fair: threads beyond a job’s fair share go to the other jobs', async () => {
      await open();
      const a = await store.createJob(job(Array.from({ length: 10 }, (_, i) => i)), T0);
      const b = await store.createJob(job(Array.from({ length: 10 }, (_, i) => i)), T0 + 1);
      const c = await contributor();
      const batch = await store.leaseChunks(c, { max: 4, runtimes: py, loadedJobs: [a.id, a.id, a.id, a.id] }, T0);
      const count = (id: string) => batch.leases.filter((l) => l.jobId === id).length;
      expect([count(a.id), count(b.id)]).toEqual([2, 2]);
      // Loaded jobs that have no work left are simply not preferred.
      const other = await contributor();
      const rest = await store.leaseChunks(other, { max: 20, runtimes: py, loadedJobs: ['j-unknown'] }, T0);
      expect(rest.leases).toHaveLength(16);
    });

    test("a job's spec is sent once: leases of a job the contributor lists in haveSpecs carry no spec", async () => {
      await open();
      const j = await store.createJob(job([1, 2, 3, 4], { entry: 'main', description: 'd' }), T0);
      const c = await contributor();
      const first = await store.leaseChunks(c, { max: 1, runtimes: py }, T0);
      expect(Object.keys(first.jobs)).toEqual([j.id]);
      const spec = first.jobs[j.id];
      expect(spec).toMatchObject({ id: j.id, name: j.name, description: 'd', runtime: 'python', entry: 'main', timeoutMs: 10_000 });
      const again = await store.leaseChunks(c, { max: 2, runtimes: py, haveSpecs: [j.id] }, T0);
      expect(again.leases).toHaveLength(2);
      expect(again.jobs).toEqual({});
      // A contributor that lost the spec fetches it on its own; the same spec the lease carried.
      expect(await store.getJobSpec(j.id)).toEqual(spec);
      expect(await store.getJobSpec('j-unknown')).toBeUndefined();
      // Listing the job does not need its fields, but still names its entry.
      expect((await store.listJobs())[0]).toMatchObject({ id: j.id, entry: 'main' });
    });

    test('leasing and listing never parse a job\'s source; only a spec the contributor lacks does', async () => {
      await open();
      const source = `def main(x):\n    return x\n# ${'x'.repeat(1 << 20)}\n`;
      const j = await store.createJob(job(Array.from({ length: 20 }, (_, i) => i), { source }), T0);
      const c = await contributor();
      const parse = vi.spyOn(JSON, 'parse');
      try {
        const big = () => parse.mock.calls.filter(([text]) => typeof text === 'string' && text.length > 1 << 20).length;
        const first = await store.leaseChunks(c, { max: 1, runtimes: py }, T0);
        expect((first.jobs[j.id] as { source: string }).source).toBe(source);
        const parsedForSpec = big();
        expect(parsedForSpec).toBeLessThanOrEqual(1);
        for (let i = 0; i < 10; i++) {
          expect((await store.leaseChunks(c, { max: 1, runtimes: py, haveSpecs: [j.id] }, T0)).leases).toHaveLength(1);
        }
        await store.listJobs();
        await store.getJob(j.id);
        expect(big()).toBe(parsedForSpec);
      } finally {
        parse.mockRestore();
      }
    });

    test("leasing reads a job's settings once, not on every lease: its policy is not parsed again", async () => {
      await open();
      const jobs = [];
      for (let i = 0; i < 3; i++) jobs.push(await store.createJob(job(Array.from({ length: 40 }, (_, k) => k), { replicas: 1 }), T0 + i));
      const c = await contributor();
      const parse = vi.spyOn(JSON, 'parse');
      try {
        const policies = () => parse.mock.calls.filter(([text]) => typeof text === 'string' && text.includes('"quorum"')).length;
        for (let i = 0; i < 10; i++) {
          const { leases } = await store.leaseChunks(c, { max: 3, runtimes: py, haveSpecs: jobs.map((j) => j.id) }, T0);
          expect(leases).toHaveLength(3);
          await store.reportResults(c, leases.map((l) => ok(l, 1)), T0);
        }
        await store.listJobs();
        expect(policies()).toBeLessThanOrEqual(jobs.length);
      } finally {
        parse.mockRestore();
      }
    });

    test('a lease does not say whether its chunk has other replicas', async () => {
      await open();
      await store.createJob(job([1], { replicas: 2 }), T0);
      const [first] = (await store.leaseChunks(await contributor(), { max: 1, runtimes: py }, T0)).leases;
      const [second] = (await store.leaseChunks(await contributor(), { max: 1, runtimes: py }, T0)).leases;
      expect(second.chunkIndex).toBe(first.chunkIndex);
      expect({ ...second, leaseId: '', leaseToken: '' }).toEqual({ ...first, leaseId: '', leaseToken: '' });
    });

    test('leasing filters by runtime and returns nothing when no work exists', async () => {
      await open();
      await store.createJob(job([1]), T0);
      const c = await contributor();
      expect((await store.leaseChunks(c, { max: 4, runtimes: [] }, T0)).leases).toEqual([]);
      expect((await store.leaseChunks(c, { max: 4, runtimes: py }, T0)).leases).toHaveLength(1);
      expect((await store.leaseChunks(c, { max: 4, runtimes: py }, T0)).leases).toEqual([]);
    });

    test('jobs share contributors round-robin: a small job is not stuck behind a big one', async () => {
      await open();
      const big = await store.createJob(job(Array.from({ length: 1000 }, (_, i) => i)), T0);
      const small = await store.createJob(job([1, 2]), T0 + 1);
      const c = await contributor();
      const first = await store.leaseChunks(c, { max: 1, runtimes: py }, T0);
      const second = await store.leaseChunks(c, { max: 1, runtimes: py }, T0);
      expect(new Set([first.leases[0].jobId, second.leases[0].jobId])).toEqual(new Set([big.id, small.id]));
      const batch = await store.leaseChunks(c, { max: 10, runtimes: py }, T0);
      expect(batch.leases.filter((l) => l.jobId === small.id)).toHaveLength(1);
      expect(batch.leases.filter((l) => l.jobId === big.id)).toHaveLength(9);
    });

    test('an accepted result completes the chunk; the last one completes the job', async () => {
      await open();
      const j = await store.createJob(job([10, 20]), T0);
      const c = await contributor();
      const { leases } = await store.leaseChunks(c, { max: 2, runtimes: py }, T0);
      const outcomes = await store.reportResults(
        c,
        [ok(leases[1], { doubled: 40 }), { ...ok(leases[0], null), stdout: 'hi\n', durationMs: 3 }],
        T0 + 5,
      );
      expect(outcomes.map((o) => o.outcome)).toEqual(['accepted', 'accepted']);
      const done = await store.getJob(j.id);
      expect(done).toMatchObject({ status: 'completed', completed: 2, running: 0, queued: 0 });
      expect(done?.finishedAt).toBe(new Date(T0 + 5).toISOString());
      const results = await store.listResults(j.id, { offset: 0, limit: 10 });
      expect(results).toMatchObject([
        { index: 0, status: 'ok', output: null, stdout: 'hi\n', durationMs: 3, attempts: 1 },
        { index: 1, status: 'ok', output: { doubled: 40 } },
      ]);
    });

    test('reporting the same result twice is idempotent', async () => {
      await open();
      const j = await store.createJob(job([1, 2]), T0);
      const c = await contributor();
      const { leases } = await store.leaseChunks(c, { max: 1, runtimes: py }, T0);
      await store.reportResults(c, [ok(leases[0], 1)], T0);
      const again = await store.reportResults(c, [ok(leases[0], 'different')], T0 + 1);
      expect(again[0].outcome).toBe('duplicate');
      expect(await store.getJob(j.id)).toMatchObject({ completed: 1, queued: 1 });
      expect((await store.listResults(j.id, { offset: 0, limit: 5 }))[0].output).toBe(1);
    });

    test('a result with a wrong token, from another contributor, or for an unknown lease is rejected', async () => {
      await open();
      const j = await store.createJob(job([1]), T0);
      const c = await contributor();
      const other = await contributor();
      const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0)).leases;
      const [wrongToken] = await store.reportResults(c, [{ ...ok(lease, 1), leaseToken: 'guess' }], T0);
      expect(wrongToken).toMatchObject({ outcome: 'rejected', error: { code: 'LEASE_TOKEN_INVALID' } });
      const [stranger] = await store.reportResults(other, [ok(lease, 1)], T0);
      expect(stranger).toMatchObject({ outcome: 'rejected', error: { code: 'LEASE_NOT_FOUND' } });
      const [unknown] = await store.reportResults(c, [{ ...ok(lease, 1), leaseId: 'l-none' }], T0);
      expect(unknown).toMatchObject({ outcome: 'rejected', error: { code: 'LEASE_NOT_FOUND' } });
      expect(await store.getJob(j.id)).toMatchObject({ completed: 0, running: 1 });
    });

    test('an expired lease goes back to the queue, counts an attempt, and its late result is rejected', async () => {
      await open();
      const j = await store.createJob(job([1], { timeoutMs: 1_000 }), T0);
      const a = await contributor();
      const b = await contributor();
      const [lease] = (await store.leaseChunks(a, { max: 1, runtimes: py }, T0)).leases;
      const deadline = new Date(lease.deadline).getTime();
      expect(await store.expireLeases(deadline)).toBe(0);
      expect(await store.expireLeases(deadline + 1)).toBe(1);
      // Started and not settled: it counts as running while it waits for its next replica.
      expect(await store.getJob(j.id)).toMatchObject({ queued: 0, running: 1 });
      const [late] = await store.reportResults(a, [ok(lease, 1)], deadline + 2);
      expect(late).toMatchObject({ outcome: 'rejected', error: { code: 'LEASE_EXPIRED' } });
      const [retry] = (await store.leaseChunks(b, { max: 1, runtimes: py }, deadline + 2)).leases;
      expect(retry).toMatchObject({ chunkIndex: 0 });
    });

    test('a result arriving after the deadline is rejected even before the sweep runs', async () => {
      await open();
      const j = await store.createJob(job([1], { timeoutMs: 1_000 }), T0);
      const c = await contributor();
      const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0)).leases;
      const [late] = await store.reportResults(c, [ok(lease, 1)], new Date(lease.deadline).getTime() + 1);
      expect(late.error?.code).toBe('LEASE_EXPIRED');
      expect(await store.getJob(j.id)).toMatchObject({ running: 1, completed: 0 });
    });

    test('a chunk whose leases keep expiring fails after maxAttempts', async () => {
      await open();
      const j = await store.createJob(job([1], { timeoutMs: 1_000, maxAttempts: 2 }), T0);
      let now = T0;
      for (let attempt = 1; attempt <= 2; attempt++) {
        const c = await contributor();
        const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, now)).leases;
        expect(lease.chunkIndex).toBe(0);
        now = new Date(lease.deadline).getTime() + 1;
        await store.expireLeases(now);
      }
      const summary = await store.getJob(j.id);
      expect(summary).toMatchObject({ status: 'failed', failed: 1, queued: 0 });
      const [result] = await store.listResults(j.id, { offset: 0, limit: 1 });
      expect(result.error).toMatch(/lease expired/);
      expect(result.attempts).toBe(2);
    });

    test('heartbeats extend active leases and report the state of others', async () => {
      await open();
      await store.createJob(job([1, 2], { timeoutMs: 1_000 }), T0);
      const c = await contributor();
      const [a, b] = (await store.leaseChunks(c, { max: 2, runtimes: py }, T0)).leases;
      await store.reportResults(c, [ok(b, 2)], T0 + 10);
      const deadline = new Date(a.deadline).getTime();
      const beat = await store.heartbeat(
        c,
        [a, b, { leaseId: 'l-x', leaseToken: 'x' }].map(({ leaseId, leaseToken }) => ({ leaseId, leaseToken })),
        deadline - 10,
      );
      expect(beat.map((x) => x.state)).toEqual(['active', 'finished', 'unknown']);
      expect(new Date(beat[0].deadline!).getTime()).toBe(deadline - 10 + policy.leaseGraceMs);
      expect(await store.expireLeases(deadline + 1)).toBe(0);
    });

    test('a timed-out chunk is retried, preferably by another contributor, then fails with "timed out after N ms"', async () => {
      await open();
      const j = await store.createJob(job([1], { timeoutMs: 2_000, maxAttempts: 2 }), T0);
      const a = await contributor();
      const b = await contributor();
      const timeout = (lease: { leaseId: string; leaseToken: string }): ResultReport => ({
        leaseId: lease.leaseId,
        leaseToken: lease.leaseToken,
        status: 'error',
        failure: 'timeout',
        error: 'KeyboardInterrupt',
      });
      const [first] = (await store.leaseChunks(a, { max: 1, runtimes: py }, T0)).leases;
      await store.reportResults(a, [timeout(first)], T0 + 2_000);
      expect((await store.leaseChunks(a, { max: 1, runtimes: py }, T0 + 2_001)).leases).toEqual([]);
      const [second] = (await store.leaseChunks(b, { max: 1, runtimes: py }, T0 + 2_001)).leases;
      expect(second).toMatchObject({ chunkIndex: 0 });
      await store.reportResults(b, [timeout(second)], T0 + 4_000);
      const [result] = await store.listResults(j.id, { offset: 0, limit: 1 });
      expect(result).toMatchObject({ status: 'error', error: 'timed out after 2000 ms (after 2 attempts)' });
    });

    test('the contributor that failed a chunk gets it again after the cooldown when nobody else took it', async () => {
      await open();
      await store.createJob(job([1], { timeoutMs: 2_000 }), T0);
      const a = await contributor();
      const [first] = (await store.leaseChunks(a, { max: 1, runtimes: py }, T0)).leases;
      await store.reportResults(a, [{ ...ok(first, null), status: 'error', failure: 'crash', error: 'worker died' }], T0);
      expect((await store.leaseChunks(a, { max: 1, runtimes: py }, T0 + policy.retryCooldownMs - 1)).leases).toEqual([]);
      expect((await store.leaseChunks(a, { max: 1, runtimes: py }, T0 + policy.retryCooldownMs)).leases).toHaveLength(1);
    });

    test('a Python exception is final for its chunk and keeps the traceback', async () => {
      await open();
      const j = await store.createJob(job([1, 2]), T0);
      const c = await contributor();
      const [a, b] = (await store.leaseChunks(c, { max: 2, runtimes: py }, T0)).leases;
      const traceback = 'Traceback (most recent call last):\n  File "main.py", line 2\nZeroDivisionError: division by zero';
      await store.reportResults(c, [{ ...ok(a, null), status: 'error', failure: 'exception', error: traceback, stderr: 'warn' }], T0);
      await store.reportResults(c, [ok(b, 2)], T0);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'completed', completed: 1, failed: 1 });
      const [first] = await store.listResults(j.id, { offset: 0, limit: 1 });
      expect(first).toMatchObject({ index: 0, status: 'error', error: traceback, stderr: 'warn', attempts: 1 });
    });

    test('a reported syntax error fails only its chunk, never the job', async () => {
      await open();
      const j = await store.createJob(job([1, 2, 3]), T0);
      const c = await contributor();
      const [a, b] = (await store.leaseChunks(c, { max: 2, runtimes: py }, T0)).leases;
      await store.reportResults(c, [{ ...ok(a, null), status: 'error', failure: 'syntax', error: 'SyntaxError: invalid syntax (line 1)' }], T0);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'running', failed: 1, running: 1, queued: 1 });
      expect(await store.getJob(j.id)).not.toHaveProperty('error');
      const [accepted] = await store.reportResults(c, [ok(b, 2)], T0);
      expect(accepted.outcome).toBe('accepted');
      expect((await store.leaseChunks(c, { max: 5, runtimes: py }, T0)).leases).toHaveLength(1);
    });

    test('in a replicated job one contributor cannot fail a chunk by failing it again and again', async () => {
      await open();
      const j = await store.createJob(job([1], { replicas: 2, maxErrors: 2, maxResults: 3 }), T0);
      const x = await contributor();
      const [first] = (await store.leaseChunks(x, { max: 1, runtimes: py }, T0)).leases;
      await store.reportResults(x, [{ ...ok(first, null), status: 'error', failure: 'syntax', error: 'SyntaxError' }], T0);
      // Long after any retry cooldown, the same identity still never gets the chunk again.
      expect((await store.leaseChunks(x, { max: 1, runtimes: py }, T0 + 3_600_000)).leases).toEqual([]);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'running', failed: 0, completed: 0 });
      const y = await contributor();
      const [second] = (await store.leaseChunks(y, { max: 1, runtimes: py }, T0 + 3_600_000)).leases;
      await store.reportResults(y, [{ ...ok(second, null), status: 'error', failure: 'exception', error: 'boom' }], T0 + 3_600_000);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'failed', failed: 1 });
    });

    test('cancelling stops leasing, voids running leases and tells heartbeats', async () => {
      await open();
      const j = await store.createJob(job([1, 2, 3]), T0);
      const c = await contributor();
      const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0)).leases;
      const cancelled = await store.cancelJob(j.id, T0 + 1);
      expect(cancelled).toMatchObject({ status: 'cancelled', running: 0 });
      expect(cancelled?.finishedAt).toBeDefined();
      expect((await store.leaseChunks(c, { max: 5, runtimes: py }, T0 + 2)).leases).toEqual([]);
      const [beat] = await store.heartbeat(c, [{ leaseId: lease.leaseId, leaseToken: lease.leaseToken }], T0 + 2);
      expect(beat.state).toBe('cancelled');
      const [late] = await store.reportResults(c, [ok(lease, 1)], T0 + 3);
      expect(late.error?.code).toBe('JOB_CANCELLED');
      expect(await store.cancelJob('missing', T0)).toBeUndefined();
    });

    test('a job whose every chunk errored is failed, and says why', async () => {
      await open();
      const j = await store.createJob(job([1]), T0);
      const c = await contributor();
      const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0)).leases;
      await store.reportResults(c, [{ ...ok(lease, null), status: 'error', failure: 'exception', error: 'boom' }], T0);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'failed', failed: 1, error: expect.stringContaining('boom') });
    });

    test('results page by index and stream in finishing order', async () => {
      await open();
      const j = await store.createJob(job([0, 1, 2, 3, 4]), T0);
      const c = await contributor();
      const { leases } = await store.leaseChunks(c, { max: 5, runtimes: py }, T0);
      for (const i of [3, 1, 4]) await store.reportResults(c, [ok(leases[i], i * 10)], T0 + i);
      expect((await store.listResults(j.id, { offset: 0, limit: 10 })).map((r) => r.index)).toEqual([1, 3, 4]);
      expect((await store.listResults(j.id, { offset: 2, limit: 1 })).map((r) => r.index)).toEqual([3]);
      const first = await store.finishedSince(j.id, 0, 2);
      expect(first.results.map((r) => r.index)).toEqual([3, 1]);
      const rest = await store.finishedSince(j.id, first.cursor, 10);
      expect(rest.results.map((r) => r.output)).toEqual([40]);
      expect((await store.finishedSince(j.id, rest.cursor, 10)).results).toEqual([]);
    });

    test('replicas of one chunk go to distinct contributors and verify when they agree', async () => {
      await open();
      const j = await store.createJob(job([10, 20], { replicas: 2 }), T0);
      const a = await contributor();
      const b = await contributor();
      const first = (await store.leaseChunks(a, { max: 10, runtimes: py }, T0)).leases;
      expect(first.map((l) => l.chunkIndex)).toEqual([0, 1]);
      expect((await store.leaseChunks(a, { max: 10, runtimes: py }, T0)).leases).toEqual([]);
      const second = (await store.leaseChunks(b, { max: 10, runtimes: py }, T0)).leases;
      expect(second.map((l) => l.chunkIndex)).toEqual([0, 1]);
      await store.reportResults(a, first.map((l) => ok(l, (l.input as number) * 2)), T0 + 1);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'running', completed: 0, running: 2 });
      await store.reportResults(b, second.map((l) => ok(l, (l.input as number) * 2)), T0 + 2);
      const done = await store.getJob(j.id);
      expect(done).toMatchObject({ status: 'completed', completed: 2, verified: 2, resultsIssued: 4, valid: 4, invalid: 0 });
      expect(done?.verification).toMatchObject({ replicas: 2, quorum: 2, maxResults: 5, maxErrors: 3 });
      const results = await store.listResults(j.id, { offset: 0, limit: 5 });
      expect(results.map((r) => [r.output, r.verified, r.agreeing])).toEqual([
        [20, true, 2],
        [40, true, 2],
      ]);
    });

    test('a disagreement issues another replica; the chunk detail shows every result and who sent it', async () => {
      await open();
      const j = await store.createJob(job([1], { replicas: 2 }), T0);
      const [a, b, c] = [await contributor(), await contributor(), await contributor()];
      const [la] = (await store.leaseChunks(a, { max: 1, runtimes: py }, T0)).leases;
      const [lb] = (await store.leaseChunks(b, { max: 1, runtimes: py }, T0)).leases;
      await store.reportResults(a, [ok(la, 'right')], T0 + 1);
      await store.reportResults(b, [ok(lb, 'wrong')], T0 + 2);
      // An open chunk shows nothing: no replica, no verdict, no count that moved with them.
      expect(await store.getJob(j.id)).toMatchObject({ inconclusive: 0, resultsIssued: 0, valid: 0, completed: 0, running: 1 });
      expect(await store.getChunk(j.id, 0)).toEqual({ index: 0, input: 1, state: 'open', results: [] });
      const [lc] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0 + 3)).leases;
      await store.reportResults(c, [ok(lc, 'right')], T0 + 4);
      expect(await store.getJob(j.id)).toMatchObject({ completed: 1, verified: 1, valid: 2, invalid: 1, inconclusive: 0, resultsIssued: 3 });
      const detail = await store.getChunk(j.id, 0);
      expect(detail).toMatchObject({ index: 0, input: 1, state: 'ok', result: { output: 'right', verified: true, agreeing: 2 } });
      expect(detail!.results.map((r) => [r.attempt, r.output, r.validation])).toEqual([
        [1, 'right', 'valid'],
        [2, 'wrong', 'invalid'],
        [3, 'right', 'valid'],
      ]);
      expect(detail!.canonical).toBe(la.leaseId);
      const anonymous = detail!.results.map((r) => r.contributor);
      expect(new Set(anonymous).size).toBe(3);
      expect(anonymous).not.toContain(a);
      expect(await store.getChunk(j.id, 5)).toBeUndefined();
    });

    test('replicas agree only when output, stdout, stderr and attachment hashes all match', async () => {
      await open();
      const replicated = await store.createJob(job([1, 2], { replicas: 2 }), T0);
      expect(replicated.verification.compared).toEqual(['output', 'stdout', 'stderr', 'attachments']);
      const file = { name: 'out.bin', size: 4, sha256: `sha256:${'a'.repeat(64)}` };
      const [a, b, c] = [await contributor(), await contributor(), await contributor()];
      const la = (await store.leaseChunks(a, { max: 2, runtimes: py }, T0)).leases;
      const lb = (await store.leaseChunks(b, { max: 2, runtimes: py }, T0)).leases;
      const byIndex = (leases: typeof la, i: number) => leases.find((l) => l.chunkIndex === i)!;
      await store.reportResults(a, [{ ...ok(byIndex(la, 0), 7), stderr: 'honest' }, { ...ok(byIndex(la, 1), 7), attachments: [file] }], T0 + 1);
      await store.reportResults(b, [{ ...ok(byIndex(lb, 0), 7), stderr: 'forged' }, { ...ok(byIndex(lb, 1), 7), attachments: [{ ...file, sha256: `sha256:${'b'.repeat(64)}` }] }], T0 + 2);
      // Same output, different stderr / attachment: neither chunk is verified, each asks a third opinion.
      expect(await store.getJob(replicated.id)).toMatchObject({ completed: 0, verified: 0 });
      const lc = (await store.leaseChunks(c, { max: 2, runtimes: py }, T0 + 3)).leases;
      expect(lc).toHaveLength(2);
      await store.reportResults(c, [{ ...ok(byIndex(lc, 0), 7), stderr: 'honest' }, { ...ok(byIndex(lc, 1), 7), attachments: [file] }], T0 + 4);
      const results = await store.listResults(replicated.id, { offset: 0, limit: 5 });
      expect(results.map((r) => [r.verified, r.stderr, r.attachments?.[0].sha256, r.unverified])).toEqual([
        [true, 'honest', undefined, undefined],
        [true, undefined, file.sha256, undefined],
      ]);
    });

    test('in function mode stdout is not compared, and a verified chunk labels it unverified', async () => {
      await open();
      const j = await store.createJob(newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x', inputs: [1], replicas: 2 }, { functionMode: true }), T0);
      expect(j.verification.compared).toEqual(['output', 'attachments']);
      const [a, b] = [await contributor(), await contributor()];
      const [la] = (await store.leaseChunks(a, { max: 1, runtimes: py }, T0)).leases;
      const [lb] = (await store.leaseChunks(b, { max: 1, runtimes: py }, T0)).leases;
      await store.reportResults(a, [{ ...ok(la, 1), stdout: 'top level printed here' }], T0 + 1);
      await store.reportResults(b, [ok(lb, 1)], T0 + 2);
      const [result] = await store.listResults(j.id, { offset: 0, limit: 1 });
      expect(result).toMatchObject({ verified: true, stdout: 'top level printed here', unverified: ['stdout'] });
      expect((await store.getChunk(j.id, 0))!.result).toMatchObject({ unverified: ['stdout'] });
    });

    test('anonymised contributor ids are keyed with a secret of this store, not a plain hash of the id', async () => {
      await open();
      const a = await contributor();
      const shown = async (s: Store) => {
        const j = await s.createJob(job([1]), T0);
        const [lease] = (await s.leaseChunks(a, { max: 1, runtimes: py }, T0)).leases;
        await s.reportResults(a, [ok(lease, 1)], T0);
        return (await s.getChunk(j.id, 0))!.results[0].contributor;
      };
      const first = await shown(store);
      expect(await shown(store)).toBe(first);
      const { createHash } = await import('node:crypto');
      expect(first).not.toContain(createHash('sha256').update(`idle-sense:${a}`).digest('hex').slice(0, 10));
      // Another coordinator (another secret) shows the same contributor under another id.
      const other = await newStore(policy);
      await other.registerContributor({}, T0);
      const b = await other.registerContributor({}, T0);
      const j = await other.createJob(job([1]), T0);
      const [lease] = (await other.leaseChunks(b.contributorId, { max: 1, runtimes: py }, T0)).leases;
      await other.reportResults(b.contributorId, [ok(lease, 1)], T0);
      const theirs = (await other.getChunk(j.id, 0))!.results[0].contributor;
      await other.close();
      expect(theirs).toMatch(/^c-[0-9a-f]{12}$/);
      expect(theirs).not.toBe(first);
    });

    test('with adaptive replication a contributor earns trust and then computes chunks alone', async () => {
      await open();
      const n = 40;
      const j = await store.createJob(job(Array.from({ length: n }, (_, i) => i), { replicas: 2, adaptive: true }), T0);
      const a = await contributor();
      const b = await contributor();
      let now = T0;
      for (let round = 0; round < 200; round++) {
        const job = await store.getJob(j.id);
        if (job?.status === 'completed') break;
        for (const c of [a, b]) {
          const { leases } = await store.leaseChunks(c, { max: 4, runtimes: py }, now);
          if (leases.length) await store.reportResults(c, leases.map((l) => ok(l, (l.input as number) + 1)), ++now);
        }
        await store.expireLeases(now + 3_600_000); // publishes the lone decisions held back (none is running now)
      }
      const done = await store.getJob(j.id);
      expect(done).toMatchObject({ status: 'completed', completed: n, verified: n, invalid: 0 });
      // The first chunks need two results each; once both contributors are trusted most chunks need one.
      expect(done!.resultsIssued).toBeGreaterThan(n);
      expect(done!.resultsIssued).toBeLessThan(2 * n);
      const results = await store.listResults(j.id, { offset: 0, limit: n });
      expect(results.map((r) => r.output)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(results.some((r) => r.agreeing === 1)).toBe(true);
    });

    test('a contributor caught twice with wrong results is quarantined: its results need a second opinion', async () => {
      await open();
      const [bad, h1, h2] = [await contributor(), await contributor(), await contributor()];
      // Two replicated chunks where `bad` disagrees with two honest contributors.
      const replicated = await store.createJob(job([1, 2], { replicas: 2 }), T0);
      for (const c of [bad, h1, h2]) {
        const { leases } = await store.leaseChunks(c, { max: 2, runtimes: py }, T0);
        await store.reportResults(c, leases.map((l) => ok(l, c === bad ? 'lie' : 'truth')), T0 + 1);
      }
      expect(await store.getJob(replicated.id)).toMatchObject({ completed: 2, invalid: 2 });
      // An unreplicated job: the quarantined contributor's answer alone does not settle a chunk.
      const single = await store.createJob(job([7]), T0 + 2);
      const [mine] = (await store.leaseChunks(bad, { max: 1, runtimes: py }, T0 + 2)).leases;
      await store.reportResults(bad, [ok(mine, 'lie')], T0 + 3);
      expect(await store.getJob(single.id)).toMatchObject({ completed: 0, running: 1 });
      const [theirs] = (await store.leaseChunks(h1, { max: 1, runtimes: py }, T0 + 4)).leases;
      expect(theirs.chunkIndex).toBe(0);
      await store.reportResults(h1, [ok(theirs, 'truth')], T0 + 5);
      const [result] = await store.listResults(single.id, { offset: 0, limit: 1 });
      expect(result).toMatchObject({ output: 'truth', agreeing: 1 });
    });

    test('JSON values survive the round trip exactly', async () => {
      await open();
      const input = { nested: [1, 2.5, 'x', null, true, { deep: [] }], unicode: 'π ≈ 3.14 ✓' };
      const j = await store.createJob(job([input]), T0);
      const c = await contributor();
      const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0)).leases;
      expect(lease.input).toEqual(input);
      await store.reportResults(c, [ok(lease, input)], T0);
      expect((await store.listResults(j.id, { offset: 0, limit: 1 }))[0].output).toEqual(input);
    });
  });
  runAdaptiveContract(name, newStore);
  runLimitsContract(name, newStore);
  runQuotaContract(name, newStore);
  runReleaseContract(name, newStore);
  runCapabilitiesContract(name, newStore);
}
