// Contract cases for adaptive replication against an adaptive attacker (issue 9, item 4): trust only from other
// submitters' jobs, the spot-check floor, an invisible spot-check decision, re-verification of what a caught
// contributor decided alone, known-answer chunks, and distinct networks per replica. Run by runStoreContract for
// every store; each case fails when its protection is taken out.
import { afterEach, describe, expect, it } from 'vitest';
import type { Lease, ResultReport } from '../../../protocol/index.js';
import { newJobFrom } from '../domain/policy.js';
import type { NewJob, SchedulingPolicy, Store } from './store.js';

export type NewStore = (policy: SchedulingPolicy, random?: () => number) => Promise<Store> | Store;

const T0 = Date.UTC(2026, 0, 1);
// Its scenarios lease hundreds of chunks in one call; the per-contributor lease cap has its own tests.
const base: SchedulingPolicy = { leaseGraceMs: 1_000, retryCooldownMs: 5_000, maxLeasesPerContributor: 1_000 };
const py = ['python' as const];
const NET = { a: '10.0.1.0/24', b: '10.0.2.0/24', c: '10.0.3.0/24', d: '10.0.4.0/24' };

/** A deterministic, evenly spread stand-in for Math.random (the golden-ratio sequence). */
const golden = (start = 0.5) => {
  let x = start;
  return () => (x = (x + 0.6180339887) % 1);
};

function job(inputs: unknown[], extra: Partial<Parameters<typeof newJobFrom>[0]> = {}, more: Partial<NewJob> = {}): NewJob {
  return {
    ...newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x', inputs, timeoutMs: 10_000, maxAttempts: 3, ...extra } as never),
    ...more,
  };
}
const ok = (lease: Pick<Lease, 'leaseId' | 'leaseToken'>, output: unknown): ResultReport => ({ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output });
const truth = (x: unknown) => (x as number) * 10;

export function runAdaptiveContract(name: string, newStore: NewStore): void {
  describe(`Store contract: ${name}: adaptive replication against an adaptive attacker`, () => {
    let stores: Store[] = [];
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores = [];
    });
    const open = async (policy: Partial<SchedulingPolicy> = {}, random: () => number = golden()) => {
      const store = await newStore({ ...base, ...policy }, random);
      stores.push(store);
      return store;
    };
    const register = async (store: Store) => (await store.registerContributor({}, T0)).contributorId;
    const lease = async (store: Store, c: string, network: string, max: number, now = T0) =>
      (await store.leaseChunks(c, { max, runtimes: py, network }, now)).leases;
    /** Publishes every lone decision held back at `now` (their delay is seconds here; an hour covers any). */
    const publish = (store: Store, now: number) => store.expireLeases(now + 3_600_000);
    /** Contributors that earn trust together on a replicated job of another submitter, all answering right. */
    const earnTrust = async (store: Store, who: [string, string][], chunks = 12, now = T0) => {
      await store.createJob(job(Array.from({ length: chunks }, (_, i) => i), { replicas: who.length }, { owner: 'key:someone-else' }), now);
      for (const [c, network] of who) {
        const leases = await lease(store, c, network, chunks, now);
        await store.reportResults(c, leases.map((l) => ok(l, truth(l.input))), now + 1);
      }
    };

    it('earns no trust on jobs submitted from the contributor’s own network: its results there all stay checked', async () => {
      const store = await open();
      const [farmer, helper, honest] = [await register(store), await register(store), await register(store)];
      // The farmer's own replicated job, answered right by the farmer and a helper on the farmer's network.
      const own = await store.createJob(job(Array.from({ length: 20 }, (_, i) => i), { replicas: 2 }, { owner: `net:${NET.a}` }), T0);
      for (const c of [farmer, helper]) {
        const leases = await lease(store, c, NET.a, 20);
        await store.reportResults(c, leases.map((l) => ok(l, truth(l.input))), T0 + 1);
      }
      expect(await store.getJob(own.id)).toMatchObject({ status: 'completed', verified: 20, valid: 40 });
      await earnTrust(store, [[honest, NET.b], [helper, NET.c]]);
      // On someone else's adaptive job, the honest contributor (trusted) mostly decides alone; the farmer never does.
      const victim = await store.createJob(job(Array.from({ length: 20 }, (_, i) => i), { replicas: 2, adaptive: true }, { owner: 'key:victim' }), T0 + 10);
      const mine = await lease(store, farmer, NET.a, 10, T0 + 10);
      await store.reportResults(farmer, mine.map((l) => ok(l, truth(l.input))), T0 + 11);
      expect(await store.getJob(victim.id)).toMatchObject({ completed: 0 });
      const theirs = await lease(store, honest, NET.b, 10, T0 + 12);
      expect(theirs.map((l) => l.chunkIndex).every((i) => i >= 10)).toBe(true);
      await store.reportResults(honest, theirs.map((l) => ok(l, truth(l.input))), T0 + 13);
      await publish(store, T0 + 13);
      expect((await store.getJob(victim.id))!.completed).toBeGreaterThanOrEqual(7);
    });

    it('keeps spot-checking a trusted contributor at the floor however long its streak', async () => {
      const run = async (spotCheckFloor: number) => {
        const store = await open({ spotCheckFloor });
        const [c, d] = [await register(store), await register(store)];
        await earnTrust(store, [[c, NET.a], [d, NET.b]], 100);
        const j = await store.createJob(job(Array.from({ length: 400 }, (_, i) => i), { replicas: 2, adaptive: true }), T0 + 10);
        const leases = await lease(store, c, NET.a, 400, T0 + 10);
        await store.reportResults(c, leases.map((l) => ok(l, truth(l.input))), T0 + 11);
        await publish(store, T0 + 11);
        const { completed } = (await store.getJob(j.id))!;
        return 1 - completed / 400;
      };
      // BOINC's 1/n alone would check 1 % after a streak of 100; the floor keeps checking about 10 %, or what is set.
      const checked = await run(0.1);
      expect(checked).toBeGreaterThan(0.07);
      expect(checked).toBeLessThan(0.14);
      expect(await run(0)).toBeLessThan(0.03);
      expect(await run(1)).toBe(1);
    });

    it('shows the first contributor nothing that tells a spot-checked result from one that stands alone', async () => {
      // Two coordinators, identical but for the floor: in one every result is checked, in the other none is.
      const world = async (spotCheckFloor: number) => {
        const store = await open({ spotCheckFloor }, () => 0.5);
        const [c, d, e] = [await register(store), await register(store), await register(store)];
        await earnTrust(store, [[c, NET.a], [d, NET.b]], 12);
        const j = await store.createJob(job([7], { replicas: 2, adaptive: true }, { owner: 'key:victim' }), T0 + 10);
        const strip = (value: unknown) =>
          JSON.parse(
            JSON.stringify(value, (key, v) => (['leaseId', 'leaseToken', 'contributor'].includes(key) ? '-' : v)).replaceAll(j.id, 'J'),
          );
        const seen: unknown[] = [];
        const batch = await store.leaseChunks(c, { max: 4, runtimes: py, network: NET.a }, T0 + 10);
        seen.push(strip(batch));
        seen.push(strip(await store.getJob(j.id)), strip(await store.getChunk(j.id, 0)));
        seen.push(strip(await store.heartbeat(c, batch.leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken })), T0 + 11)));
        seen.push(strip(await store.reportResults(c, batch.leases.map((l) => ok(l, truth(l.input))), T0 + 12)));
        // Nor does the job after the report: a lone decision is held back like a chunk awaiting its next replica.
        await store.expireLeases(T0 + 13);
        seen.push(strip(await store.getJob(j.id)), strip(await store.getChunk(j.id, 0)));
        seen.push(strip(await store.listResults(j.id, { offset: 0, limit: 10 })), strip(await store.finishedSince(j.id, 0, 10)));
        // Only another contributor, later, learns that a second replica is wanted: it is issued one.
        const second = await lease(store, e, NET.c, 4, T0 + 13);
        return { seen, second: second.length };
      };
      const checked = await world(1);
      const alone = await world(0);
      expect(checked.second).toBe(1);
      expect(alone.second).toBe(0);
      expect(checked.seen).toEqual(alone.seen);
    });

    it('publishes a lone decision only after a delay drawn from the job’s own check latencies', async () => {
      const store = await open({ spotCheckFloor: 0 }, () => 0.9);
      const [c, d, e] = [await register(store), await register(store), await register(store)];
      await earnTrust(store, [[c, NET.a], [d, NET.b]], 12);
      const j = await store.createJob(job([0, 1, 2], { replicas: 2, adaptive: true }, { owner: 'key:victim' }), T0 + 10);
      // e is not trusted: chunks 0 and 1 want a second replica, which d brings 5 s after e's results.
      const first = await lease(store, e, NET.c, 2, T0 + 10);
      await store.reportResults(e, first.map((l) => ok(l, truth(l.input))), T0 + 11);
      const rest = await lease(store, d, NET.b, 3, T0 + 5_000);
      expect(rest.map((l) => l.chunkIndex).sort()).toEqual([0, 1, 2]);
      // Chunks 0 and 1 settle by quorum (5 s after their first result); chunk 2 is d's alone, decided but held back.
      const order = [...rest].sort((x, y) => x.chunkIndex - y.chunkIndex);
      await store.reportResults(d, order.map((l) => ok(l, truth(l.input))), T0 + 5_011);
      const held = { status: 'running', completed: 2, verified: 2, running: 1 };
      expect(await store.getJob(j.id)).toMatchObject(held);
      expect(await store.getChunk(j.id, 2)).toMatchObject({ state: 'open', results: [] });
      expect((await store.finishedSince(j.id, 0, 10)).results.map((r) => r.index)).toEqual([0, 1]);
      await store.expireLeases(T0 + 5_011 + 4_999);
      expect(await store.getJob(j.id)).toMatchObject(held);
      // Published when a checked chunk would have settled: 5 s after its result (the job's only latency).
      expect(await store.expireLeases(T0 + 5_011 + 5_000)).toBe(1);
      expect(await store.getJob(j.id)).toMatchObject({ status: 'completed', completed: 3, verified: 3, running: 0 });
      expect(await store.getChunk(j.id, 2)).toMatchObject({ state: 'ok', result: { output: 20, verified: true, agreeing: 1 } });
      expect(await store.expireLeases(T0 + 60_000)).toBe(0); // published once
    });

    it('re-opens every chunk a caught contributor decided alone, and a completed job runs again until re-verified', async () => {
      const store = await open({ spotCheckFloor: 0 }, () => 0.9);
      const [cheat, honest, other] = [await register(store), await register(store), await register(store)];
      await earnTrust(store, [[cheat, NET.a], [honest, NET.b]], 12);
      // Trusted, the cheater decides a whole job alone with wrong answers (no spot check falls on it).
      const fooled = await store.createJob(job([1, 2, 3, 4], { replicas: 2, adaptive: true }, { owner: 'key:victim' }), T0 + 10);
      const lies = await lease(store, cheat, NET.a, 4, T0 + 10);
      await store.reportResults(cheat, lies.map((l) => ok(l, 'lie')), T0 + 11);
      await publish(store, T0 + 11);
      expect(await store.getJob(fooled.id)).toMatchObject({ status: 'completed', completed: 4, verified: 4 });
      const cursor = (await store.finishedSince(fooled.id, 0, 10)).cursor;
      // Then it is caught, here on a known-answer chunk of another job.
      const probe = await store.createJob(job([5], { replicas: 2, adaptive: true }, { known: [{ index: 0, output: 50 }] }), T0 + 20);
      const [caught] = await lease(store, cheat, NET.a, 1, T0 + 20);
      await store.reportResults(cheat, [ok(caught, 'lie')], T0 + 21);
      expect(await store.getJob(probe.id)).toMatchObject({ status: 'completed', invalid: 1 });
      // Every lone decision is un-accepted: the job runs again, its results are withdrawn until re-verified.
      expect(await store.getJob(fooled.id)).toMatchObject({ status: 'running', completed: 0, verified: 0, running: 4 });
      expect(await store.listResults(fooled.id, { offset: 0, limit: 10 })).toEqual([]);
      expect((await store.finishedSince(fooled.id, 0, 10)).results).toEqual([]);
      for (const [c, network] of [[honest, NET.b], [other, NET.c]] as const) {
        const leases = await lease(store, c, network, 4, T0 + 30);
        expect(leases).toHaveLength(4);
        await store.reportResults(c, leases.map((l) => ok(l, truth(l.input))), T0 + 31);
      }
      expect(await store.getJob(fooled.id)).toMatchObject({ status: 'completed', completed: 4, verified: 4, invalid: 4 });
      const results = await store.listResults(fooled.id, { offset: 0, limit: 10 });
      expect(results.map((r) => r.output)).toEqual([10, 20, 30, 40]);
      // The re-verified results stream again to whoever follows the job.
      expect((await store.finishedSince(fooled.id, cursor, 10)).results).toHaveLength(4);
    });

    it('checks a known-answer chunk with one result and looks like any other chunk', async () => {
      const store = await open();
      const c = await register(store);
      const j = await store.createJob(job([3, 4], { replicas: 2, adaptive: true }, { known: [{ index: 1, output: 40 }] }), T0);
      const leases = await lease(store, c, NET.a, 2);
      // The untrusted contributor's ordinary chunk wants a second replica; the known-answer one is settled by it.
      await store.reportResults(c, leases.map((l) => ok(l, truth(l.input))), T0 + 1);
      expect(await store.getJob(j.id)).toMatchObject({ completed: 1, valid: 1 });
      expect(await store.getChunk(j.id, 1)).toMatchObject({ state: 'ok', result: { output: 40, verified: true } });
      expect(JSON.stringify(await store.getChunk(j.id, 1))).not.toContain('known');
    });

    it('sends replicas of a chunk to distinct networks while the pool has several, and not when it has one', async () => {
      const store = await open();
      const [a1, a2, b] = [await register(store), await register(store), await register(store)];
      const j = await store.createJob(job([1], { replicas: 2 }), T0);
      // b's network asks for work (of another runtime) first, so it is part of the pool.
      await store.leaseChunks(b, { max: 1, runtimes: ['onnx'], network: NET.b }, T0);
      expect(await lease(store, a1, NET.a, 1)).toHaveLength(1);
      expect(await lease(store, a2, NET.a, 1)).toHaveLength(0);
      expect(await lease(store, b, NET.b, 1)).toHaveLength(1);
      expect(await store.getJob(j.id)).toMatchObject({ running: 1, resultsIssued: 0 });
      // One network only (a single machine): the chunk is still replicated.
      const alone = await open();
      const [x, y] = [await register(alone), await register(alone)];
      await alone.createJob(job([1], { replicas: 2 }), T0);
      expect(await lease(alone, x, NET.d, 1)).toHaveLength(1);
      expect(await lease(alone, y, NET.d, 1)).toHaveLength(1);
      // And the flag turns the rule off.
      const off = await open({ distinctNetworks: false });
      const [p, q, r] = [await register(off), await register(off), await register(off)];
      await off.createJob(job([1], { replicas: 2 }), T0);
      await off.leaseChunks(r, { max: 1, runtimes: ['onnx'], network: NET.b }, T0);
      expect(await lease(off, p, NET.a, 1)).toHaveLength(1);
      expect(await lease(off, q, NET.a, 1)).toHaveLength(1);
    });
  });
}
