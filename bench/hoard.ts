// Lease hoarding under load: one hostile identity asks for the largest batches it may (claiming 1024 threads),
// heartbeats them for ever and never reports, while 50 honest contributors work. Measures the honest crowd's
// throughput against the same crowd alone, in the same run; a third row turns the lease cap off to show what it stops.
// Every contributor calls over real HTTP from its own loopback address (127.0.x.y), so per-address limits stay on.
// Usage: npx tsx bench/hoard.ts  (prints markdown)
import { serve } from '@hono/node-server';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { HeartbeatResponse, LeaseResponse, RegisterResponse, ReportResponse } from '../protocol/index.js';
import { createApp } from '../coordinator/src/app.js';
import { newJobFrom } from '../coordinator/src/domain/policy.js';
import { MemoryStore } from '../coordinator/src/store/memory.js';
import type { SchedulingPolicy } from '../coordinator/src/store/store.js';

export interface HoardOptions {
  honest?: number;
  /** How long throughput is measured, after the hoarder's head start. */
  durationMs?: number;
  /** The hoarder's head start: it has leased all it may before the honest crowd is counted. */
  headStartMs?: number;
  chunks?: number;
}

interface HoardRun {
  scenario: string;
  honestChunksPerS: number;
  hoarderHeld: number;
}

/** An HTTP JSON client whose sockets are bound to `localAddress`, so the coordinator sees that client address. */
function client(port: number, localAddress: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 2, localAddress } as ConstructorParameters<typeof Agent>[0]);
  const call = <T>(path: string, body: unknown, token?: string): Promise<T> =>
    new Promise((resolvePromise, reject) => {
      const payload = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      };
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, localAddress, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`POST ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
          else resolvePromise(JSON.parse(text) as T);
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  return { call, close: () => agent.destroy() };
}

async function runScenario(scenario: string, hoarder: boolean, policy: Partial<SchedulingPolicy>, options: Required<HoardOptions>): Promise<HoardRun> {
  const store = new MemoryStore({ leaseGraceMs: 30_000, retryCooldownMs: 30_000, ...policy });
  const { app } = createApp({ store, config: { store: 'memory' } });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  (server as import('node:http').Server).keepAliveTimeout = 0;
  await new Promise<void>((ready) => server.once('listening', () => ready()));
  const port = (server.address() as AddressInfo).port;
  // Chunk timeouts of 10 minutes: nothing expires during the run, so what the hoarder holds stays held.
  const inputs = Array.from({ length: options.chunks }, (_, i) => i);
  await store.createJob(newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x\n', inputs, timeoutMs: 600_000 }), Date.now());

  const clients: ReturnType<typeof client>[] = [];
  const open = (address: string) => {
    const c = client(port, address);
    clients.push(c);
    return c.call;
  };
  let stop = false;
  let counting = false;
  let honestDone = 0;
  const held = new Map<string, { leaseId: string; leaseToken: string }>();
  const loops: Promise<void>[] = [];
  try {
    if (hoarder) {
      const call = open('127.0.200.1');
      const me = await call<RegisterResponse>('/api/contributors', { agent: 'hoarder' });
      loops.push(
        (async () => {
          let lastBeat = Date.now();
          while (!stop) {
            const { leases } = await call<LeaseResponse>(`/api/contributors/${me.contributorId}/leases`, { max: 1024, threads: 1024 }, me.token);
            for (const lease of leases) held.set(lease.leaseId, { leaseId: lease.leaseId, leaseToken: lease.leaseToken });
            if (Date.now() - lastBeat > 500 && held.size) {
              lastBeat = Date.now();
              const refs = [...held.values()].slice(0, 4096);
              const beat = await call<HeartbeatResponse>(`/api/contributors/${me.contributorId}/heartbeat`, { leases: refs }, me.token);
              for (const lease of beat.leases) if (lease.state !== 'active') held.delete(lease.leaseId);
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        })(),
      );
      await new Promise((r) => setTimeout(r, options.headStartMs));
    }
    for (let i = 0; i < options.honest; i++) {
      const call = open(`127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
      const me = await call<RegisterResponse>('/api/contributors', { agent: 'honest' });
      loops.push(
        (async () => {
          while (!stop) {
            // A tab with one thread asks for what it can run and reports it: the ordinary contributor loop.
            const { leases } = await call<LeaseResponse>(`/api/contributors/${me.contributorId}/leases`, { max: 4, threads: 1 }, me.token);
            if (leases.length === 0) {
              await new Promise((r) => setTimeout(r, 50));
              continue;
            }
            const results = leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok', output: l.input }));
            const answer = await call<ReportResponse>(`/api/contributors/${me.contributorId}/results`, { results }, me.token);
            if (counting) honestDone += answer.results.filter((r) => r.outcome === 'accepted').length;
          }
        })(),
      );
    }
    await new Promise((r) => setTimeout(r, 300)); // the crowd warms up before it is counted
    counting = true;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, options.durationMs));
    counting = false;
    const seconds = (performance.now() - started) / 1000;
    stop = true;
    await Promise.all(loops);
    return { scenario, honestChunksPerS: honestDone / seconds, hoarderHeld: held.size };
  } finally {
    stop = true;
    for (const c of clients) c.close();
    server.close();
    await store.close();
  }
}

/** Runs the three scenarios once each and returns a markdown section. */
export async function benchHoard(options: HoardOptions = {}): Promise<{ markdown: string; runs: HoardRun[] }> {
  const o: Required<HoardOptions> = { honest: 50, durationMs: 4_000, headStartMs: 500, chunks: 60_000, ...options };
  // A discarded warm-up first: the first run in a fresh process pays for JIT and socket set-up.
  await runScenario('warm-up', false, {}, { ...o, durationMs: 1_500 });
  const runs = [
    await runScenario(`${o.honest} honest, no hoarder (baseline)`, false, {}, o),
    await runScenario(`${o.honest} honest + 1 hoarder, limits on (defaults)`, true, {}, o),
    // The same hoarder with the lease cap lifted: what the cap is for.
    await runScenario(`${o.honest} honest + 1 hoarder, lease cap off`, true, { maxLeasesPerContributor: 1_000_000, leasesPerThread: 1_000_000 }, o),
    // The baseline again, last: on a shared machine load drifts, so the goal is judged against the mean of both.
    await runScenario(`${o.honest} honest, no hoarder (baseline, again)`, false, {}, o),
  ];
  const base = (runs[0]!.honestChunksPerS + runs[3]!.honestChunksPerS) / 2;
  const rows = runs.map(
    (r) => `| ${r.scenario} | ${Math.round(r.honestChunksPerS).toLocaleString('en-US')} | ${((r.honestChunksPerS / base) * 100).toFixed(0)}% | ${r.hoarderHeld.toLocaleString('en-US')} |`,
  );
  const limited = runs[1]!.honestChunksPerS / base;
  const markdown = [
    '## Lease hoarding',
    '',
    `${o.honest} honest contributors (one thread each: lease up to 4, report at once) work a ${o.chunks.toLocaleString('en-US')}-chunk job over real HTTP,`,
    'each from its own loopback address, for ' + `${o.durationMs / 1000} s. The hoarder starts ${o.headStartMs} ms earlier, asks for 1,024 chunks claiming`,
    '1,024 threads every 20 ms, heartbeats everything it holds and never reports. Coordinator and load generator share one process.',
    '',
    '| scenario | honest chunks/s | of baseline (mean of both) | leases the hoarder holds at the end |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `Goal (issue 9): honest throughput with the hoarder ≥ 90% of the baseline: **${limited >= 0.9 ? 'met' : 'NOT met'}** (${(limited * 100).toFixed(0)}%).`,
  ].join('\n');
  return { markdown, runs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log((await benchHoard()).markdown);
}
