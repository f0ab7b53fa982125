// Event stream caps: one address cannot hold more than its share of open SSE streams, nor everyone more than the total.
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { newJobFrom } from '../domain/policy.js';
import { MemoryStore } from '../store/memory.js';
import { StreamSlots } from './stream-slots.js';

describe('StreamSlots', () => {
  it('caps streams per address and in total, and gives a slot back once', () => {
    const slots = new StreamSlots({ perAddress: 2, total: 3 });
    const a1 = slots.acquire('a')!;
    slots.acquire('a');
    expect(slots.acquire('a')).toBeUndefined();
    slots.acquire('b');
    expect(slots.acquire('c')).toBeUndefined();
    a1();
    a1();
    expect(slots.count()).toBe(2);
    expect(slots.acquire('c')).toBeDefined();
  });
});

describe('GET /api/jobs/:id/events', () => {
  async function setup(config: object) {
    const store = new MemoryStore();
    const { app } = createApp({ store, config: { ssePollMs: 50, rateLimitPerS: 0, ...config } });
    const job = await store.createJob(newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x\n', inputs: [1] }), Date.now());
    const open = (address: string) =>
      app.request(`/api/jobs/${job.id}/events`, {}, { incoming: { socket: { remoteAddress: address } } });
    return { open };
  }

  it('refuses a stream past the per-address cap with 429 TOO_MANY_STREAMS and Retry-After; other addresses still get one', async () => {
    const { open } = await setup({ maxStreamsPerAddress: 2 });
    const held = [await open('192.0.2.1'), await open('192.0.2.1')];
    expect(held.map((r) => r.status)).toEqual([200, 200]);
    const refused = await open('192.0.2.1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as any).error.code).toBe('TOO_MANY_STREAMS');
    const other = await open('192.0.2.2');
    expect(other.status).toBe(200);
    // Closing a stream frees its slot.
    await held[0]!.body!.cancel();
    let again = await open('192.0.2.1');
    for (let i = 0; again.status === 429 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await open('192.0.2.1');
    }
    expect(again.status).toBe(200);
    for (const res of [held[1]!, other, again]) await res.body!.cancel();
  });

  it('caps streams in total across addresses', async () => {
    const { open } = await setup({ maxStreamsPerAddress: 5, maxStreams: 2 });
    const held = [await open('192.0.2.1'), await open('192.0.2.2')];
    expect((await open('192.0.2.3')).status).toBe(429);
    for (const res of held) await res.body!.cancel();
  });
});
