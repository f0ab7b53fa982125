import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runStoreContract } from './store.case.test.js';
import { newJobFrom } from '../domain/policy.js';
import { SqliteStore } from './sqlite.js';
import { defaultSchedulingPolicy } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'idle-sense-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract({ name: 'sqlite', newStore: (policy, random) => new SqliteStore({ file: join(dir, `contract-${n++}.db`), policy, random }) });

describe('SqliteStore durability', () => {
  it('keeps jobs, accepted results and live leases across a reopen of the same file', async () => {
    const file = join(dir, 'reopen.db');
    const first = new SqliteStore({ file });
    const job = await first.createJob(
      newJobFrom({ runtime: 'python', source: 'def main(x): return x', inputs: [1, 2, 3], timeoutMs: 5_000 }),
      1_000,
    );
    const { contributorId, token } = await first.registerContributor({}, 1_000);
    const { leases } = await first.leaseChunks(contributorId, { max: 3, runtimes: ['python'] }, 1_000);
    await first.reportResults(contributorId, [{ leaseId: leases[0].leaseId, leaseToken: leases[0].leaseToken, status: 'ok', output: 'one' }], 1_100);
    await first.close();

    const second = new SqliteStore({ file });
    expect(await second.authenticateContributor(contributorId, token)).toBe(true);
    expect(await second.getJob(job.id)).toMatchObject({ completed: 1, running: 2 });
    const [accepted] = await second.reportResults(
      contributorId,
      [{ leaseId: leases[1].leaseId, leaseToken: leases[1].leaseToken, status: 'ok', output: 'two' }],
      1_300,
    );
    expect(accepted.outcome).toBe('accepted');
    expect(await second.expireLeases(1_000 + 5_000 + defaultSchedulingPolicy.leaseGraceMs + 1)).toBe(1);
    expect((await second.listResults(job.id, { offset: 0, limit: 5 })).map((r) => r.output)).toEqual(['one', 'two']);
    await second.close();
  });

  it('keeps the key that anonymises contributor ids across a reopen, so a contributor keeps its anonymous id', async () => {
    const file = join(dir, 'secret.db');
    const first = new SqliteStore({ file });
    const job = await first.createJob(newJobFrom({ runtime: 'python', source: 'def main(x): return x', inputs: [1] }), 1_000);
    const { contributorId } = await first.registerContributor({}, 1_000);
    const [lease] = (await first.leaseChunks(contributorId, { max: 1, runtimes: ['python'] }, 1_000)).leases;
    await first.reportResults(contributorId, [{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 1 }], 1_100);
    const before = (await first.getChunk(job.id, 0))!.results[0].contributor;
    await first.close();
    const second = new SqliteStore({ file });
    expect((await second.getChunk(job.id, 0))!.results[0].contributor).toBe(before);
    await second.close();
  });

  it('keeps quota usage and keys\' own quotas across a reopen: a restart frees no slot and forgets no byte', async () => {
    const file = join(dir, 'quota.db');
    const first = new SqliteStore({ file });
    const { secret, key } = await first.createApiKey({ name: 'alice', admin: false, quota: { jobs: 2, chunksPerDay: 10 } }, 1_000);
    const quota = { jobs: 2, chunksPerDay: 10 };
    const source = { runtime: 'python' as const, source: 'def main(x): return x' };
    const done = await first.createJob({ ...newJobFrom({ ...source, inputs: [1, 2, 3] }), owner: key.id, quota }, 1_000);
    await first.createJob({ ...newJobFrom({ ...source, inputs: [1, 2, 3, 4] }), owner: key.id, quota }, 2_000);
    await first.cancelJob(done.id, 3_000);
    await first.settleBlobHold(await first.holdBlobBytes(key.id, { blobBytes: 100 }, 40, 3_000), { name: 'sha256:aa', size: 40 }, 3_000);
    await first.close();
    // Unfinished jobs are counted by triggers and recounted on open: a lost count (a database written by a coordinator
    // without the triggers) is repaired.
    const raw = new Database(file);
    raw.exec(`DELETE FROM active_jobs`);
    raw.close();

    const second = new SqliteStore({ file });
    expect(await second.quotaUsage(key.id, 4_000)).toEqual({ jobs: 1, chunksPerDay: 7, blobBytes: 40 });
    expect((await second.findApiKey(secret))?.quota).toEqual({ jobs: 2, chunksPerDay: 10 });
    await expect(second.createJob({ ...newJobFrom({ ...source, inputs: [1, 2, 3, 4] }), owner: key.id, quota }, 4_000)).rejects.toThrow(/chunksPerDay/);
    await expect(second.holdBlobBytes(key.id, { blobBytes: 100 }, 61, 4_000)).rejects.toThrow(/blobBytes/);
    await second.close();
  });

  it('drops the chunks of a job whose creation was interrupted before its job row was written', async () => {
    const file = join(dir, 'orphans.db');
    await new SqliteStore({ file }).close();
    const raw = new Database(file);
    raw.prepare(`INSERT INTO chunks (job_id, idx, input, state, wanted) VALUES ('j-gone', 0, '1', 'open', 1)`).run();
    raw.close();
    const reopened = new SqliteStore({ file });
    await reopened.close();
    const check = new Database(file);
    expect(check.prepare(`SELECT COUNT(*) AS n FROM chunks`).get()).toEqual({ n: 0 });
    check.close();
  });

  it('leaves the chunks of a job still being written alone when opened by another process (npm run keys: sweep off)', async () => {
    const file = join(dir, 'keys-open.db');
    await new SqliteStore({ file }).close();
    const raw = new Database(file);
    raw.prepare(`INSERT INTO chunks (job_id, idx, input, state, wanted) VALUES ('j-writing', 0, '1', 'open', 1)`).run();
    raw.close();
    await new SqliteStore({ file, sweep: false }).close();
    const check = new Database(file);
    expect(check.prepare(`SELECT COUNT(*) AS n FROM chunks`).get()).toEqual({ n: 1 });
    check.close();
  });

  it('upgrades a schema 3 database: its jobs keep their owner, source and entry and are not private; keys can be created', async () => {
    const file = join(dir, 'v3.db');
    const first = new SqliteStore({ file });
    const old = await first.createJob(
      { ...newJobFrom({ runtime: 'python', source: 'def go(x): return x', entry: 'go', inputs: [1] }), owner: 'net:10.0.0.0/24' },
      1,
    );
    await first.close();
    const raw = new Database(file);
    // Schema 3 kept the runtime fields in jobs.fields and had neither api_keys, jobs.private, jobs.entry nor job_fields.
    raw.exec(`DROP TABLE api_keys; ALTER TABLE jobs DROP COLUMN private; ALTER TABLE jobs ADD COLUMN fields TEXT;
      UPDATE jobs SET fields = (SELECT fields FROM job_fields WHERE job_id = jobs.id); DROP TABLE job_fields;
      ALTER TABLE jobs DROP COLUMN entry; DROP INDEX leases_held; ALTER TABLE leases DROP COLUMN publish_at;
      ALTER TABLE jobs DROP COLUMN requires; DROP TABLE checkpoints;
      PRAGMA user_version = 3;`);
    raw.close();
    const store = new SqliteStore({ file });
    expect(await store.jobAccess(old.id)).toEqual({ owner: 'net:10.0.0.0/24', private: false });
    expect(await store.getJobSource(old.id)).toMatchObject({ source: 'def go(x): return x', entry: 'go' });
    expect(await store.getJob(old.id)).toMatchObject({ entry: 'go' });
    const { secret } = await store.createApiKey({ name: 'alice', admin: false }, 2);
    expect(await store.findApiKey(secret)).toMatchObject({ name: 'alice' });
    await store.close();
  });

  it('two stores on one file agree: jobs, counters and cancellation made by one are seen by the other', async () => {
    const file = join(dir, 'shared.db');
    const a = new SqliteStore({ file });
    const b = new SqliteStore({ file });
    const c = await b.registerContributor({}, 1);
    // b learns the job's settings first, then a moves its counters and ends it: b must follow.
    const j = await a.createJob(newJobFrom({ runtime: 'python', source: 'def main(x): return x', inputs: [1, 2, 3] }), 1);
    const [lease] = (await b.leaseChunks(c.contributorId, { max: 1, runtimes: ['python'] }, 2)).leases;
    expect(await a.getJob(j.id)).toMatchObject({ running: 1, queued: 2 });
    await a.reportResults(c.contributorId, [{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 1 }], 3);
    expect(await b.getJob(j.id)).toMatchObject({ completed: 1, running: 0, queued: 2 });
    await a.cancelJob(j.id, 4);
    expect((await b.leaseChunks(c.contributorId, { max: 3, runtimes: ['python'] }, 5)).leases).toEqual([]);
    expect(await b.getJob(j.id)).toMatchObject({ status: 'cancelled' });
    await a.close();
    await b.close();
  });

  it('upgrades a schema 5 database: running counts every chunk started and not settled', async () => {
    const file = join(dir, 'v5.db');
    const first = new SqliteStore({ file });
    const j = await first.createJob(newJobFrom({ runtime: 'python', source: 'def main(x): return x', inputs: [1, 2, 3] }), 1);
    const { contributorId } = await first.registerContributor({}, 1);
    const [lease] = (await first.leaseChunks(contributorId, { max: 1, runtimes: ['python'] }, 1)).leases;
    await first.expireLeases(new Date(lease.deadline).getTime() + 1);
    await first.close();
    const raw = new Database(file);
    // Schema 5 counted a chunk whose replica expired as queued.
    raw.exec(`UPDATE jobs SET running = 0, queued = 3; DROP INDEX leases_held; ALTER TABLE leases DROP COLUMN publish_at;
      ALTER TABLE jobs DROP COLUMN requires; DROP TABLE checkpoints;
      PRAGMA user_version = 5;`);
    raw.close();
    const store = new SqliteStore({ file });
    expect(await store.getJob(j.id)).toMatchObject({ running: 1, queued: 2, status: 'running' });
    await store.close();
  });

  it('upgrades a schema 7 database: its jobs require nothing, and new jobs keep their requirements and checkpoints', async () => {
    const file = join(dir, 'v7.db');
    const first = new SqliteStore({ file });
    const old = await first.createJob(newJobFrom({ runtime: 'python', source: 'def main(x): return x', inputs: [1] }), 1);
    await first.close();
    const raw = new Database(file);
    raw.exec(`ALTER TABLE jobs DROP COLUMN requires; DROP TABLE checkpoints; PRAGMA user_version = 7;`);
    raw.close();
    const store = new SqliteStore({ file });
    expect(await store.getJob(old.id)).not.toHaveProperty('requires');
    const gpu = await store.createJob(newJobFrom({ runtime: 'native', command: ['true'], inputs: [1], requires: { gpu: true } }), 2);
    expect(await store.getJob(gpu.id)).toMatchObject({ requires: { gpu: true } });
    await store.close();
  });

  it('deletes a chunk\'s checkpoint when the chunk settles, and every checkpoint of a job that is cancelled', async () => {
    const file = join(dir, 'checkpoints.db');
    const store = new SqliteStore({ file });
    const files = [{ name: 'state', blob: `sha256:${'a'.repeat(64)}`, size: 1 }];
    const settled = await store.createJob(newJobFrom({ runtime: 'native', command: ['true'], inputs: [1] }), 1);
    const cancelled = await store.createJob(newJobFrom({ runtime: 'native', command: ['true'], inputs: [1, 2] }), 1);
    const { contributorId } = await store.registerContributor({}, 1);
    const leases = (await store.leaseChunks(contributorId, { max: 3, runtimes: ['native'] }, 2)).leases;
    for (const lease of leases) expect((await store.saveCheckpoint(contributorId, lease, files, 3)).ok).toBe(true);
    const count = (jobId: string) => {
      const check = new Database(file, { readonly: true });
      const { n } = check.prepare(`SELECT COUNT(*) AS n FROM checkpoints WHERE job_id = ?`).get(jobId) as { n: number };
      check.close();
      return n;
    };
    expect([count(settled.id), count(cancelled.id)]).toEqual([1, 2]);
    const done = leases.find((lease) => lease.jobId === settled.id)!;
    await store.reportResults(contributorId, [{ leaseId: done.leaseId, leaseToken: done.leaseToken, status: 'ok', output: 1 }], 4);
    await store.cancelJob(cancelled.id, 5);
    expect([count(settled.id), count(cancelled.id)]).toEqual([0, 0]);
    await store.close();
  });

  it('refuses a database written with another schema version, saying what to do', () => {
    const file = join(dir, 'old.db');
    const raw = new Database(file);
    raw.exec('CREATE TABLE jobs (id TEXT); PRAGMA user_version = 1;');
    raw.close();
    expect(() => new SqliteStore({ file })).toThrow(/another version of idle-sense.*--data-dir/);
  });
});
