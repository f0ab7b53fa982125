// Store contract, part three: the limits that keep one contributor from starving everyone (lease cap per
// contributor, hard lease deadline). Run by runStoreContract against every store.
import { afterEach, describe, expect, it } from 'vitest';
import { newJobFrom } from '../domain/policy.js';
import type { NewJob, SchedulingPolicy, Store } from './store.js';

type NewStore = (policy: SchedulingPolicy, random?: () => number) => Promise<Store> | Store;

const T0 = Date.UTC(2026, 0, 1);
const py = ['python' as const];

function job(inputs: unknown[], timeoutMs = 10_000): NewJob {
  return newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x', inputs, timeoutMs, maxAttempts: 3 } as never);
}

export function runLimitsContract(name: string, newStore: NewStore): void {
  describe(`Store contract: ${name}: limits per contributor`, () => {
    let stores: Store[] = [];
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores = [];
    });
    const open = async (policy: Partial<SchedulingPolicy> = {}) => {
      const store = await newStore({ leaseGraceMs: 1_000, retryCooldownMs: 5_000, ...policy });
      stores.push(store);
      return store;
    };
    const register = async (store: Store) => (await store.registerContributor({}, T0)).contributorId;

    it('a contributor holds at most the ceiling of leases, however often and however much it asks', async () => {
      const store = await open({ maxLeasesPerContributor: 10 });
      await store.createJob(job(Array.from({ length: 100 }, (_, i) => i)), T0);
      const hoarder = await register(store);
      const first = await store.leaseChunks(hoarder, { max: 1024, runtimes: py }, T0 + 1);
      expect(first.leases).toHaveLength(10);
      expect((await store.leaseChunks(hoarder, { max: 1024, runtimes: py }, T0 + 2)).leases).toHaveLength(0);
      // Another contributor is served in full meanwhile.
      const honest = await register(store);
      expect((await store.leaseChunks(honest, { max: 5, runtimes: py }, T0 + 3)).leases).toHaveLength(5);
      // Finishing work makes room again, one lease for one result.
      const [done] = first.leases;
      await store.reportResults(hoarder, [{ leaseId: done!.leaseId, leaseToken: done!.leaseToken, status: 'ok', output: 1 }], T0 + 4);
      expect((await store.leaseChunks(hoarder, { max: 1024, runtimes: py }, T0 + 5)).leases).toHaveLength(1);
    });

    it('the cap follows the threads a contributor advertises, and a lying thread count stops at the ceiling', async () => {
      const store = await open({ maxLeasesPerContributor: 12, leasesPerThread: 4 });
      await store.createJob(job(Array.from({ length: 100 }, (_, i) => i)), T0);
      const two = await register(store);
      expect((await store.leaseChunks(two, { max: 100, runtimes: py, threads: 2 }, T0 + 1)).leases).toHaveLength(8);
      const liar = await register(store);
      expect((await store.leaseChunks(liar, { max: 100, runtimes: py, threads: 1000 }, T0 + 1)).leases).toHaveLength(12);
    });

    it('heartbeats cannot carry a lease past issue time + factor × timeout + grace', async () => {
      const timeoutMs = 10_000;
      const store = await open({ hardDeadlineFactor: 3, leaseGraceMs: 1_000 });
      await store.createJob(job([1], timeoutMs), T0);
      const c = await register(store);
      const [lease] = (await store.leaseChunks(c, { max: 1, runtimes: py }, T0)).leases;
      const ref = [{ leaseId: lease!.leaseId, leaseToken: lease!.leaseToken }];
      const hard = T0 + 3 * timeoutMs + 1_000;
      // Beating every half second keeps the lease alive until the hard deadline, not a moment past it.
      let last: string | undefined;
      for (let t = T0 + 500; t <= hard; t += 500) {
        const [beat] = await store.heartbeat(c, ref, t);
        expect(beat!.state).toBe('active');
        last = beat!.state === 'active' ? beat!.deadline : undefined;
        expect(Date.parse(last!)).toBeLessThanOrEqual(hard);
      }
      expect(Date.parse(last!)).toBe(hard);
      const [after] = await store.heartbeat(c, ref, hard + 1);
      expect(after!.state).toBe('expired');
      // The chunk went back to the queue for someone else.
      const other = await register(store);
      expect((await store.leaseChunks(other, { max: 1, runtimes: py }, hard + 2)).leases).toHaveLength(1);
    });
  });
}
