// Byzantine simulation: scripted contributors — honest, randomly wrong, and a colluding pair that returns identical
// wrong answers — work through one job over the real HTTP contributor protocol, and the outcome is checked against
// the true answers. Used by bench/byzantine.test.ts (the proof) and by `npm run bench` (the numbers).
// Usage alone: tsx bench/byzantine.ts
import { serve } from '@hono/node-server';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ChunkResult,
  JobSummary,
  LeaseResponse,
  RegisterResponse,
  ReportResponse,
  ResultReport,
} from '../protocol/index.js';
import { createApp } from '../coordinator/src/app.js';
import { MemoryStore } from '../coordinator/src/store/memory.js';
import { SqliteStore } from '../coordinator/src/store/sqlite.js';
import type { Store } from '../coordinator/src/store/store.js';

export type Behaviour =
  | { kind: 'honest' }
  /** Returns a random wrong answer for this fraction of its chunks. */
  | { kind: 'faulty'; rate: number }
  /** Returns the same wrong answer as every other colluder, for every chunk. */
  | { kind: 'colluder' };

export interface SimulationOptions {
  chunks: number;
  contributors: Behaviour[];
  job: { replicas?: number; quorum?: number; adaptive?: boolean; maxResults?: number };
  /** Jobs of the same size run first with the same contributors, so adaptive trust reaches its steady state. */
  warmupChunks?: number;
  store?: 'memory' | 'sqlite';
  batch?: number;
  /** Seed of the contributors' misbehaviour. */
  seed?: number;
}

export interface SimulationResult {
  job: JobSummary;
  wallMs: number;
  /** Canonical results that differ from the truth. */
  wrongAccepted: number;
  /** Chunks that ended in error (e.g. no consensus). */
  failedChunks: number;
  resultsPerVerifiedChunk: number;
  /** Per behaviour kind: results sent, and how the coordinator judged them. */
  byKind: Record<string, { contributors: number; sent: number; accepted: number }>;
  /** Wrong canonical results that came from colluders agreeing with each other. */
  colluderWins: number;
}

/** The true answer for a chunk input. */
const truth = (x: number) => (x * 2654435761) % 1000003;

/** Small deterministic PRNG (mulberry32) so a simulation is repeatable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const dir = mkdtempSync(join(tmpdir(), 'idle-sense-byzantine-'));
  const store: Store =
    options.store === 'memory'
      ? new MemoryStore(undefined, prng((options.seed ?? 1) + 7))
      : new SqliteStore({ file: join(dir, 'sim.db'), random: prng((options.seed ?? 1) + 7) });
  const { app } = createApp({ store });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<T> => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  try {
    const random = prng(options.seed ?? 1);
    const people = await Promise.all(
      options.contributors.map(async (behaviour) => ({
        behaviour,
        ...(await call<RegisterResponse>('POST', '/api/contributors', { agent: `sim ${behaviour.kind}` })),
        sent: 0,
        accepted: 0,
      })),
    );
    const answer = (behaviour: Behaviour, x: number) => {
      if (behaviour.kind === 'colluder') return truth(x) + 7;
      if (behaviour.kind === 'faulty' && random() < behaviour.rate) return truth(x) + 1 + Math.floor(random() * 1e6);
      return truth(x);
    };

    const runJob = async (chunks: number) => {
      const job = await call<JobSummary>('POST', '/api/jobs', {
        name: 'byzantine simulation',
        runtime: 'python',
        source: 'def main(x):\n    return (x * 2654435761) % 1000003\n',
        inputs: Array.from({ length: chunks }, (_, i) => i),
        ...options.job,
      });
      const done = async () => {
        const now = await call<JobSummary>('GET', `/api/jobs/${job.id}`);
        return now.status !== 'running' && now.status !== 'queued';
      };
      await Promise.all(
        people.map(async (person) => {
          for (;;) {
            const { leases } = await call<LeaseResponse>(
              'POST',
              `/api/contributors/${person.contributorId}/leases`,
              { max: options.batch ?? 16 },
              person.token,
            );
            if (leases.length === 0) {
              if (await done()) return;
              await new Promise((r) => setTimeout(r, 5));
              continue;
            }
            const results: ResultReport[] = leases.map((l) => ({
              leaseId: l.leaseId,
              leaseToken: l.leaseToken,
              status: 'ok',
              output: answer(person.behaviour, l.input as number),
            }));
            const outcome = await call<ReportResponse>('POST', `/api/contributors/${person.contributorId}/results`, { results }, person.token);
            person.sent += results.length;
            person.accepted += outcome.results.filter((r) => r.outcome === 'accepted').length;
          }
        }),
      );
      return job.id;
    };

    if (options.warmupChunks) await runJob(options.warmupChunks);
    for (const person of people) person.sent = person.accepted = 0;
    const started = performance.now();
    const jobId = await runJob(options.chunks);
    const wallMs = performance.now() - started;

    const job = await call<JobSummary>('GET', `/api/jobs/${jobId}`);
    const results = await call<ChunkResult[]>('GET', `/api/jobs/${jobId}/results?format=json`);
    const wrong = results.filter((r) => r.status === 'ok' && r.output !== truth(r.index));
    const byKind: SimulationResult['byKind'] = {};
    for (const person of people) {
      const key = person.behaviour.kind === 'faulty' ? `faulty ${Math.round(person.behaviour.rate * 100)}%` : person.behaviour.kind;
      byKind[key] ??= { contributors: 0, sent: 0, accepted: 0 };
      byKind[key].contributors++;
      byKind[key].sent += person.sent;
      byKind[key].accepted += person.accepted;
    }
    return {
      job,
      wallMs,
      wrongAccepted: wrong.length,
      failedChunks: results.filter((r) => r.status === 'error').length,
      resultsPerVerifiedChunk: job.resultsIssued / Math.max(1, job.verified),
      byKind,
      colluderWins: wrong.filter((r) => r.output === truth(r.index) + 7).length,
    };
  } finally {
    server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const honest = (n: number): Behaviour[] => Array.from({ length: n }, () => ({ kind: 'honest' }));

/** The scenarios `npm run bench` reports. */
export async function benchVerification(): Promise<{ markdown: string }> {
  const chunks = 10_000;
  const scenarios: { title: string; options: SimulationOptions }[] = [
    { title: 'fixed replication, honest', options: { chunks, contributors: honest(10), job: { replicas: 2 } } },
    {
      title: 'fixed replication, 10% and 30% faulty',
      options: { chunks, contributors: [...honest(6), { kind: 'faulty', rate: 0.1 }, { kind: 'faulty', rate: 0.1 }, { kind: 'faulty', rate: 0.3 }, { kind: 'faulty', rate: 0.3 }], job: { replicas: 2 } },
    },
    {
      title: 'fixed replication, colluding pair',
      options: { chunks, contributors: [...honest(8), { kind: 'colluder' }, { kind: 'colluder' }], job: { replicas: 2 } },
    },
    {
      title: 'adaptive, honest (after a 2,000-chunk warm-up)',
      options: { chunks, warmupChunks: 2_000, contributors: honest(10), job: { replicas: 2, adaptive: true } },
    },
    {
      title: 'adaptive, 10% faulty (after warm-up)',
      options: {
        chunks,
        warmupChunks: 2_000,
        contributors: [...honest(8), { kind: 'faulty', rate: 0.1 }, { kind: 'faulty', rate: 0.1 }],
        job: { replicas: 2, adaptive: true },
      },
    },
  ];
  const rows: string[] = [];
  const details: string[] = [];
  for (const { title, options } of scenarios) {
    const r = await simulate({ ...options, store: 'sqlite' });
    rows.push(
      `| ${title} | ${r.job.verified.toLocaleString('en')} / ${r.job.total.toLocaleString('en')} | ${r.job.resultsIssued.toLocaleString('en')} | ` +
        `${r.resultsPerVerifiedChunk.toFixed(3)} | ${r.wrongAccepted} (${((100 * r.wrongAccepted) / r.job.total).toFixed(3)}%) | ${r.failedChunks} | ` +
        `${r.job.invalid.toLocaleString('en')} | ${Math.round(r.job.total / (r.wallMs / 1000)).toLocaleString('en')} |`,
    );
    details.push(
      `- ${title}: ` +
        Object.entries(r.byKind)
          .map(([kind, s]) => `${kind} ×${s.contributors} sent ${s.sent.toLocaleString('en')}`)
          .join(', ') +
        (r.colluderWins ? `; colluders' identical wrong answers accepted for ${r.colluderWins} chunks` : ''),
    );
  }
  const markdown = `## Verification (byzantine simulation)

${chunks.toLocaleString('en')}-chunk jobs, 10 scripted contributors over the real HTTP protocol (in-process server,
SQLite store, batches of 16), \`replicas: 2\` (quorum 2). Faulty contributors return a random wrong answer for the
given share of their chunks; colluders return the same wrong answer for every chunk. Adaptive runs first push a
2,000-chunk job through the same contributors, so trust is in its steady state when the measured job starts.

| scenario | verified chunks | results issued | results per verified chunk | wrong results accepted | failed chunks | invalid results | chunks/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${details.join('\n')}
`;
  return { markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log((await benchVerification()).markdown);
}
