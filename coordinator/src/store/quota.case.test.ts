// Store contract, part four: quotas per submitter. What counts against them (unfinished jobs, chunks of the last
// 24 hours, blob bytes stored first), a job or an upload that would pass one refused whole, holds that keep
// concurrent submissions from both taking the last slot, and keys' own quotas. Run by runStoreContract.
import { afterEach, describe, expect, it } from 'vitest';
import { newJobFrom } from '../domain/policy.js';
import { QUOTA_DAY_MS, QuotaExceededError } from '../domain/quota.js';
import type { NewJob, SchedulingPolicy, Store } from './store.js';

type NewStore = (policy: SchedulingPolicy, random?: () => number) => Promise<Store> | Store;

const T0 = Date.UTC(2026, 0, 1);
const py = ['python' as const];

function job(owner: string | undefined, inputs: number, quota?: NewJob['quota']): NewJob {
  const spec = newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x', inputs: Array.from({ length: inputs }, (_, i) => i), timeoutMs: 10_000, maxAttempts: 1 });
  return { ...spec, ...(owner ? { owner } : {}), ...(quota ? { quota } : {}) };
}

/** The QuotaExceededError a promise rejects with (fails the test when it resolves). */
async function refusal(promise: Promise<unknown>): Promise<QuotaExceededError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QuotaExceededError);
  return err as QuotaExceededError;
}

export function runQuotaContract(name: string, newStore: NewStore): void {
  describe(`Store contract: ${name}: quotas per submitter`, () => {
    let store: Store;
    afterEach(async () => {
      await store?.close();
    });
    const open = async () => (store = await newStore({ leaseGraceMs: 1_000, retryCooldownMs: 5_000 }));

    it('counts the unfinished jobs and the chunks of the last 24 hours of one owner only', async () => {
      await open();
      expect(await store.quotaUsage('k-alice', T0)).toEqual({ jobs: 0, chunksPerDay: 0, blobBytes: 0 });
      const first = await store.createJob(job('k-alice', 3), T0);
      await store.createJob(job('k-alice', 4), T0 + 3600_000);
      await store.createJob(job('k-bob', 100), T0);
      await store.createJob(job(undefined, 100), T0);
      expect(await store.quotaUsage('k-alice', T0 + 3600_000)).toEqual({ jobs: 2, chunksPerDay: 7, blobBytes: 0 });
      // A cancelled job frees its job slot; its chunks stay counted for the day.
      await store.cancelJob(first.id, T0 + 3600_000);
      expect(await store.quotaUsage('k-alice', T0 + 3600_000)).toMatchObject({ jobs: 1, chunksPerDay: 7 });
      // The day is a rolling window: the first job's chunks leave it 24 hours after it was submitted.
      expect((await store.quotaUsage('k-alice', T0 + QUOTA_DAY_MS - 1)).chunksPerDay).toBe(7);
      expect((await store.quotaUsage('k-alice', T0 + QUOTA_DAY_MS)).chunksPerDay).toBe(4);
      expect((await store.quotaUsage('k-alice', T0 + 3600_000 + QUOTA_DAY_MS)).chunksPerDay).toBe(0);
    });

    it('a job that completes or fails frees its slot', async () => {
      await open();
      const done = await store.createJob(job('k-alice', 1), T0);
      const c = (await store.registerContributor({}, T0)).contributorId;
      const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0)).leases;
      expect(lease.jobId).toBe(done.id);
      await store.reportResults(c, [{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 0 }], T0 + 1);
      expect((await store.getJob(done.id))?.status).toBe('completed');
      expect(await store.quotaUsage('k-alice', T0 + 1)).toMatchObject({ jobs: 0, chunksPerDay: 1 });
    });

    it('refuses a whole job that would pass the job or the chunk quota, naming it, and keeps nothing of it', async () => {
      await open();
      await store.createJob(job('k-alice', 3, { jobs: 2, chunksPerDay: 5 }), T0);
      const chunks = await refusal(store.createJob(job('k-alice', 3, { jobs: 2, chunksPerDay: 5 }), T0 + 1));
      expect(chunks.excess).toEqual({ quota: 'chunksPerDay', limit: 5, usage: 3, requested: 3 });
      expect(chunks.message).toMatch(/chunksPerDay: at most 5 .*3 in use, this request adds 3/);
      expect(await store.listJobs()).toHaveLength(1);
      expect(await store.quotaUsage('k-alice', T0 + 1)).toMatchObject({ jobs: 1, chunksPerDay: 3 });
      await store.createJob(job('k-alice', 2, { jobs: 2, chunksPerDay: 5 }), T0 + 2);
      const jobs = await refusal(store.createJob(job('k-alice', 1, { jobs: 2 }), T0 + 3));
      expect(jobs.excess).toEqual({ quota: 'jobs', limit: 2, usage: 2, requested: 1 });
      // Another owner is not affected; a job without limits is never refused.
      await store.createJob(job('k-bob', 1, { jobs: 2 }), T0 + 3);
      await store.createJob(job('k-alice', 50), T0 + 3);
      expect(await store.listJobs()).toHaveLength(4);
    });

    it('two submissions at once cannot both take the last job slot, even while a big job is still being written', async () => {
      await open();
      // 25,000 chunks are written in two slices with a yield between them: the second submission runs in that gap.
      const results = await Promise.allSettled([
        store.createJob(job('k-alice', 25_000, { jobs: 1 }), T0),
        store.createJob(job('k-alice', 25_000, { jobs: 1 }), T0),
        store.createJob(job('k-alice', 1, { jobs: 1 }), T0),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
      expect(await store.quotaUsage('k-alice', T0)).toEqual({ jobs: 1, chunksPerDay: 25_000, blobBytes: 0 });
    }, 60_000);

    it('a job being written counts against the chunk quota of the next one', async () => {
      await open();
      const results = await Promise.allSettled([
        store.createJob(job('k-alice', 25_000, { chunksPerDay: 30_000 }), T0),
        store.createJob(job('k-alice', 10_000, { chunksPerDay: 30_000 }), T0),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      expect(((results[1] as PromiseRejectedResult).reason as QuotaExceededError).excess).toMatchObject({ quota: 'chunksPerDay', usage: 25_000 });
    }, 60_000);

    it('holds blob bytes for uploads in flight, charges the owner for what it stored first, and gives the rest back', async () => {
      await open();
      const limits = { blobBytes: 100 };
      const a = await store.holdBlobBytes('k-alice', limits, 60, T0);
      // A second upload at once cannot take bytes the first holds.
      expect((await refusal(store.holdBlobBytes('k-alice', limits, 50, T0))).excess).toEqual({ quota: 'blobBytes', limit: 100, usage: 60, requested: 50 });
      expect(await store.quotaUsage('k-alice', T0)).toMatchObject({ blobBytes: 60 });
      await store.settleBlobHold(a, { name: 'sha256:aa', size: 55 }, T0);
      expect(await store.quotaUsage('k-alice', T0)).toMatchObject({ blobBytes: 55 });
      // An upload of unknown size holds all that is left; none left: refused before a byte is read.
      const rest = await store.holdBlobBytes('k-alice', limits, undefined, T0);
      expect(rest.bytes).toBe(45);
      expect((await refusal(store.holdBlobBytes('k-alice', limits, undefined, T0))).excess).toMatchObject({ quota: 'blobBytes', usage: 100 });
      await store.settleBlobHold(rest, undefined, T0); // it stored nothing new
      expect(await store.quotaUsage('k-alice', T0)).toMatchObject({ blobBytes: 55 });
      // Without a limit nothing is held, but what is stored is still charged (a quota set later sees it).
      const free = await store.holdBlobBytes('k-bob', {}, 10, T0);
      await store.settleBlobHold(free, { name: 'sha256:bb', size: 10 }, T0);
      expect(await store.quotaUsage('k-bob', T0)).toEqual({ jobs: 0, chunksPerDay: 0, blobBytes: 10 });
      expect(await store.quotaUsage('k-alice', T0 + 10 * QUOTA_DAY_MS)).toMatchObject({ blobBytes: 55 });
    });

    it('keys keep their own quotas: set at creation, changed, put back to the default, found with the key', async () => {
      await open();
      const { key, secret } = await store.createApiKey({ name: 'alice', admin: false, quota: { jobs: 3, blobBytes: 1024 } }, T0);
      expect(key.quota).toEqual({ jobs: 3, blobBytes: 1024 });
      expect(await store.findApiKey(secret)).toMatchObject({ quota: { jobs: 3, blobBytes: 1024 } });
      const changed = await store.setApiKeyQuota('alice', { jobs: 0, chunksPerDay: 500, blobBytes: null });
      expect(changed?.quota).toEqual({ jobs: 0, chunksPerDay: 500 });
      expect((await store.findApiKey(secret))?.quota).toEqual({ jobs: 0, chunksPerDay: 500 });
      expect((await store.listApiKeys())[0].quota).toEqual({ jobs: 0, chunksPerDay: 500 });
      const back = await store.setApiKeyQuota(key.id, { jobs: null, chunksPerDay: null });
      expect(back).not.toHaveProperty('quota');
      expect(await store.findApiKey(secret)).not.toHaveProperty('quota');
      const plain = await store.createApiKey({ name: 'bob', admin: false }, T0);
      expect(plain.key).not.toHaveProperty('quota');
      await store.revokeApiKey('alice', T0 + 1);
      expect(await store.setApiKeyQuota('alice', { jobs: 1 })).toBeUndefined();
    });
  });
}
