// Store contract, part four: a contributor hands a lease back before it ends (it paused, or its tab stopped a chunk
// that would not pause). The chunk is queued again at once and counts as no attempt. Run by runStoreContract.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../protocol/index.js';
import { newJobFrom } from '../domain/policy.js';
import type { NewJob, SchedulingPolicy, Store } from './store.js';

type NewStore = (policy: SchedulingPolicy, random?: () => number) => Promise<Store> | Store;

const T0 = Date.UTC(2026, 0, 1);
const py = ['python' as const];

function job(inputs: unknown[], extra: Record<string, unknown> = {}): NewJob {
  return newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x', inputs, timeoutMs: 10_000, maxAttempts: 1, ...extra } as never);
}

export function runReleaseContract(name: string, newStore: NewStore): void {
  describe(`Store contract: ${name}: releasing a lease`, () => {
    let store: Store;
    afterEach(async () => {
      await store?.close();
    });
    const open = async () => (store = await newStore({ leaseGraceMs: 1_000, retryCooldownMs: 60_000 }));
    const register = async () => (await store.registerContributor({}, T0)).contributorId;

    it('a released chunk is queued again at once, for anyone, and counts as no error and no attempt', async () => {
      await open();
      // maxAttempts 1: one counted error or one more issued result would end the chunk; a release must do neither.
      const created = await store.createJob(job(['a']), T0);
      const first = await register();
      const [lease] = (await store.leaseChunks(first, { max: 1, runtimes: py }, T0 + 1)).leases;
      expect(await store.getJob(created.id)).toMatchObject({ running: 1, queued: 0 });

      const released = await store.releaseLease(first, { leaseId: lease.leaseId, leaseToken: lease.leaseToken }, T0 + 2);
      expect(released).toEqual({ ok: true, value: { leaseId: lease.leaseId, state: 'released' } });
      // `running` counts chunks started and not settled (it never tells whether a chunk has other replicas), so a
      // released chunk stays counted there: what matters is that it is leasable at once and counts no error.
      expect(await store.getJob(created.id)).toMatchObject({ running: 1, queued: 0, failed: 0 });

      // No cool-down: the same contributor (after resuming) gets it straight back, well inside retryCooldownMs.
      const [again] = (await store.leaseChunks(first, { max: 1, runtimes: py }, T0 + 3)).leases;
      expect(again).toMatchObject({ chunkIndex: 0 });
      await store.reportResults(first, [{ leaseId: again.leaseId, leaseToken: again.leaseToken, status: 'ok', output: 'A' }], T0 + 4);
      expect(await store.getJob(created.id)).toMatchObject({ status: 'completed', completed: 1, failed: 0 });
      const chunk = await store.getChunk(created.id, 0);
      expect(chunk?.results.map((r) => r.state)).toEqual(['released', 'ok']);
    });

    it('released twice answers the same; the heartbeat and a late report say it is released', async () => {
      await open();
      await store.createJob(job(['a', 'b']), T0);
      const me = await register();
      const [lease] = (await store.leaseChunks(me, { max: 1, runtimes: py }, T0 + 1)).leases;
      const ref = { leaseId: lease.leaseId, leaseToken: lease.leaseToken };
      await store.releaseLease(me, ref, T0 + 2);
      expect(await store.releaseLease(me, ref, T0 + 3)).toEqual({ ok: true, value: { leaseId: lease.leaseId, state: 'released' } });
      expect(await store.heartbeat(me, [ref], T0 + 4)).toEqual([{ leaseId: lease.leaseId, state: 'released' }]);
      const [late] = await store.reportResults(me, [{ ...ref, status: 'ok', output: 'A' }], T0 + 5);
      expect(late).toMatchObject({ outcome: 'rejected', error: { code: ErrorCode.LeaseReleased } });
    });

    it('refuses unknown and foreign leases, wrong tokens, and leases that already ended', async () => {
      await open();
      const created = await store.createJob(job(['a', 'b', 'c']), T0);
      const me = await register();
      const other = await register();
      const [mine, reported, late] = (await store.leaseChunks(me, { max: 3, runtimes: py }, T0 + 1)).leases;
      const ref = (l: typeof mine) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken });
      const code = async (who: string, r: { leaseId: string; leaseToken: string }, now = T0 + 2) => {
        const answer = await store.releaseLease(who, r, now);
        return answer.ok ? 'ok' : answer.error.code;
      };
      expect(await code(me, { leaseId: 'l-nope', leaseToken: 'x' })).toBe(ErrorCode.LeaseNotFound);
      expect(await code(other, ref(mine))).toBe(ErrorCode.LeaseNotFound); // another's lease: not even its existence
      expect(await code(me, { leaseId: mine.leaseId, leaseToken: 'wrong' })).toBe(ErrorCode.LeaseTokenInvalid);
      await store.reportResults(me, [{ ...ref(reported), status: 'ok', output: 'B' }], T0 + 2);
      expect(await code(me, ref(reported))).toBe(ErrorCode.LeaseFinished);
      // Past its deadline (timeout 10 s + grace 1 s): expired, as a report would be; the chunk is re-queued by expiry.
      expect(await code(me, ref(late), T0 + 60_000)).toBe(ErrorCode.LeaseExpired);
      // None of the refusals touched the lease that is still running.
      expect(await store.getJob(created.id)).toMatchObject({ running: 1, completed: 1 });
      await store.cancelJob(created.id, T0 + 3);
      expect(await code(me, ref(mine), T0 + 4)).toBe(ErrorCode.JobCancelled);
    });
  });
}
