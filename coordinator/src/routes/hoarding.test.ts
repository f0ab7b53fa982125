// One identity hoarding leases through the API: capped however much it asks or claims, and unable to keep a lease
// past its hard deadline by heartbeating, while an honest contributor keeps getting work.
import { describe, expect, it } from 'vitest';
import type { HeartbeatResponse, LeaseResponse, RegisterResponse } from '../../../protocol/index.js';
import { createApp } from '../app.js';
import { newJobFrom } from '../domain/policy.js';
import { MemoryStore } from '../store/memory.js';

const T0 = Date.UTC(2026, 5, 1);

async function setup() {
  let now = T0;
  const store = new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 1_000 });
  const { app } = createApp({ store, clock: { now: () => now } });
  const inputs = Array.from({ length: 5_000 }, (_, i) => i);
  await store.createJob(newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x\n', inputs, timeoutMs: 10_000 }), now);
  const post = async <T>(address: string, path: string, body: unknown, token?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const res = await app.request(path, { method: 'POST', headers, body: JSON.stringify(body) }, { incoming: { socket: { remoteAddress: address } } });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as T;
  };
  const contributor = async (address: string) => {
    const me = await post<RegisterResponse>(address, '/api/contributors', {});
    return {
      lease: (max: number, threads?: number) =>
        post<LeaseResponse>(address, `/api/contributors/${me.contributorId}/leases`, { max, ...(threads ? { threads } : {}) }, me.token),
      heartbeat: (leases: { leaseId: string; leaseToken: string }[]) =>
        post<HeartbeatResponse>(address, `/api/contributors/${me.contributorId}/heartbeat`, { leases }, me.token),
    };
  };
  return { contributor, advance: (ms: number) => (now += ms) };
}

describe('a contributor hoarding leases', () => {
  it('holds at most the ceiling (64) however large its batches and however many threads it claims', async () => {
    const { contributor } = await setup();
    const hoarder = await contributor('192.0.2.66');
    let held = 0;
    for (let i = 0; i < 10; i++) held += (await hoarder.lease(1024, 1024)).leases.length;
    expect(held).toBe(64);
    // An honest one-thread tab still gets work: a few leases per thread it advertises.
    const honest = await contributor('198.51.100.7');
    expect((await honest.lease(1024, 1)).leases.length).toBe(4);
  });

  it('cannot keep a lease past its hard deadline (issue + 3 × timeout) by heartbeating', async () => {
    const { contributor, advance } = await setup();
    const hoarder = await contributor('192.0.2.66');
    const refs = (await hoarder.lease(4, 1)).leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken }));
    let states: string[] = [];
    for (let t = 0; t < 40; t++) {
      advance(1_000);
      states = (await hoarder.heartbeat(refs)).leases.map((l) => l.state);
      if (states.some((s) => s !== 'active')) break;
    }
    // Timeout 10 s, factor 3: no heartbeat carries a lease past 30 s after it was issued.
    expect(states.every((s) => s !== 'active')).toBe(true);
    // The chunks went back to the queue: the hoarder's slots are free again and the work is leased anew.
    expect((await hoarder.lease(4, 1)).leases.length).toBe(4);
  });
});
