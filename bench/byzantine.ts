// Byzantine simulation: scripted contributors — honest, randomly wrong, colluders, and adversaries that adapt (trust
// farmers, patient cheaters, copiers reading the API, a Sybil crowd on one network) — work through one job over the
// real HTTP contributor protocol, each from its own loopback address (127.0.x.y, so networks are real), and the
// outcome is checked against the true answers. Used by bench/byzantine.test.ts (the proof) and `npm run bench`.
// Usage alone: tsx bench/byzantine.ts
import { serve } from '@hono/node-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ChunkDetail,
  ChunkResult,
  JobSummary,
  Lease,
  LeaseResponse,
  RegisterResponse,
  ReportResponse,
  ResultReport,
} from '../protocol/index.js';
import { createApp } from '../coordinator/src/app.js';
import { systemClock } from '../coordinator/src/clock.js';
import { LeaseReaper } from '../coordinator/src/reaper.js';
import { MemoryStore } from '../coordinator/src/store/memory.js';
import { SqliteStore } from '../coordinator/src/store/sqlite.js';
import type { SchedulingPolicy, Store } from '../coordinator/src/store/store.js';

export type Behaviour =
  | { kind: 'honest' }
  /** Returns a random wrong answer for this fraction of its chunks. */
  | { kind: 'faulty'; rate: number }
  /** Returns the same wrong answer as every other colluder, for every chunk, from the start. */
  | { kind: 'colluder' }
  /**
   * A trust farmer: during the warm-up it works honestly (the warm-up job is its own, submitted from its network);
   * on the measured job it returns a wrong answer whenever the chunk looks unobserved (first attempt, and the API
   * shows no other result for it).
   */
  | { kind: 'farmer' }
  /** Honest during the warm-up, then wrong on `rate` of the chunks that look unobserved: keeps its trust longest. */
  | { kind: 'patient'; rate: number }
  /** Reads the chunk's detail before computing and copies any output the API shows; computes only when none. */
  | { kind: 'copier' }
  /** One identity of a crowd on one network: honest in the warm-up, then the crowd's shared wrong answer always. */
  | { kind: 'sybil' };

export interface SimulationOptions {
  chunks: number;
  contributors: Behaviour[];
  job: { replicas?: number; quorum?: number; adaptive?: boolean; maxResults?: number };
  /** Jobs of the same size run first with the same contributors, so adaptive trust reaches its steady state. */
  warmupChunks?: number;
  /** Who submits the warm-up job: another submitter (default) or the farmers, from their own network. */
  warmupBy?: 'someone' | 'farmers';
  /** Coordinator scheduling knobs (spot-check floor, distinct networks). */
  policy?: Partial<SchedulingPolicy>;
  store?: 'memory' | 'sqlite';
  batch?: number;
  /** Seed of the contributors' misbehaviour. */
  seed?: number;
}

export interface SimulationResult {
  job: JobSummary;
  wallMs: number;
  /** Canonical results that differ from the truth, once the job has completed (after any re-verification). */
  wrongAccepted: number;
  /** Chunks that ended in error (e.g. no consensus). */
  failedChunks: number;
  resultsPerVerifiedChunk: number;
  /** Per behaviour kind: results sent, and how the coordinator judged them. */
  byKind: Record<string, { contributors: number; sent: number; accepted: number; cheated: number; copied: number }>;
  /** Wrong canonical results that are the colluders' or the Sybil crowd's shared answer. */
  colluderWins: number;
}

/** The true answer for a chunk input. */
const truth = (x: number) => (x * 2654435761) % 1000003;
/** The shared wrong answer of colluders and of the Sybil crowd. */
const shared = (x: number) => truth(x) + 7;

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

/** Crowds share one network (one attacker's /24); everyone else has a /24 of their own. */
const SYBIL_NET = 200;
const FARMER_NET = 201;
const SUBMITTER = '127.0.250.1';

/** An HTTP JSON client whose sockets are bound to `localAddress`, so the coordinator sees that client address. */
function client(port: number, localAddress: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4, localAddress } as ConstructorParameters<typeof Agent>[0]);
  const call = <T>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          agent,
          localAddress,
          headers: {
            'content-type': 'application/json',
            ...(payload ? { 'content-length': Buffer.byteLength(payload) } : {}),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
            else resolve(JSON.parse(text) as T);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { call, close: () => agent.destroy() };
}

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const dir = mkdtempSync(join(tmpdir(), 'idle-sense-byzantine-'));
  const policy: SchedulingPolicy = { leaseGraceMs: 30_000, retryCooldownMs: 30_000, ...options.policy };
  const random = prng((options.seed ?? 1) + 7);
  const store: Store =
    options.store === 'memory' ? new MemoryStore(policy, random) : new SqliteStore({ file: join(dir, 'sim.db'), policy, random });
  const { app } = createApp({ store });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  // As in the coordinator (main.ts), at a shorter interval: expires leases and publishes lone decisions held back.
  const reaper = new LeaseReaper(store, systemClock).start(100);
  // Contributors keep their connections for the whole run: with the default 5 s idle timeout, the server may close a
  // socket that a client is just reusing (ECONNRESET) when a contributor idles between jobs.
  (server as import('node:http').Server).keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const clients: ReturnType<typeof client>[] = [];
  const open = (address: string) => {
    const c = client(port, address);
    clients.push(c);
    return c.call;
  };
  const submitter = open(SUBMITTER);
  const farmerSubmitter = open(`127.0.${FARMER_NET}.250`);

  try {
    const random = prng(options.seed ?? 1);
    let crowd = 0;
    let farmers = 0;
    const people = await Promise.all(
      options.contributors.map(async (behaviour, i) => {
        const address =
          behaviour.kind === 'sybil' ? `127.0.${SYBIL_NET}.${++crowd}` : behaviour.kind === 'farmer' ? `127.0.${FARMER_NET}.${++farmers}` : `127.0.${i + 1}.1`;
        const call = open(address);
        return {
          behaviour,
          call,
          ...(await call<RegisterResponse>('POST', '/api/contributors', { agent: `sim ${behaviour.kind}` })),
          sent: 0,
          accepted: 0,
          cheated: 0,
          copied: 0,
          idle: false,
        };
      }),
    );
    let measuring = false;
    type Person = (typeof people)[number];
    /** What the API shows about a chunk that a contributor could use: outputs of other results, and whether any exist. */
    const look = async (person: Person, lease: Lease) => {
      const detail = await person.call<ChunkDetail>('GET', `/api/jobs/${lease.jobId}/chunks/${lease.chunkIndex}`);
      const others = detail.results.filter((r) => r.leaseId !== lease.leaseId);
      const output = detail.result?.status === 'ok' ? detail.result.output : others.find((r) => r.state === 'ok')?.output;
      return { observed: others.length > 0, output };
    };
    const answer = async (person: Person, lease: Lease): Promise<unknown> => {
      const x = lease.input as number;
      const b = person.behaviour;
      switch (b.kind) {
        case 'honest':
          return truth(x);
        case 'faulty':
          if (random() < b.rate) {
            person.cheated++;
            return truth(x) + 1 + Math.floor(random() * 1e6);
          }
          return truth(x);
        case 'colluder':
          person.cheated++;
          return shared(x);
        case 'sybil':
          if (!measuring) return truth(x);
          person.cheated++;
          return shared(x);
        case 'copier': {
          const seen = await look(person, lease);
          if (seen.output !== undefined) {
            person.copied++;
            return seen.output;
          }
          return truth(x);
        }
        case 'farmer':
        case 'patient': {
          if (!measuring) return truth(x);
          if (b.kind === 'patient' && random() >= b.rate) return truth(x);
          if ((await look(person, lease)).observed) return truth(x);
          person.cheated++;
          return truth(x) + 1 + Math.floor(random() * 1e6);
        }
      }
    };

    const runJob = async (chunks: number, by: typeof submitter) => {
      const job = await by<JobSummary>('POST', '/api/jobs', {
        name: 'byzantine simulation',
        runtime: 'python',
        source: 'def main(x):\n    return (x * 2654435761) % 1000003\n',
        inputs: Array.from({ length: chunks }, (_, i) => i),
        ...options.job,
      });
      const done = async (person: Person) => {
        // From the contributor's own address: ten of them polling through one would meet its rate limit.
        const now = await person.call<JobSummary>('GET', `/api/jobs/${job.id}`);
        return now.status !== 'running' && now.status !== 'queued';
      };
      for (const person of people) person.idle = false;
      await Promise.all(
        people.map(async (person) => {
          for (;;) {
            const { leases } = await person.call<LeaseResponse>(
              'POST',
              `/api/contributors/${person.contributorId}/leases`,
              { max: options.batch ?? 16 },
              person.token,
            );
            if (leases.length === 0) {
              // Done only once the job is settled and nobody holds work: a last report may re-open chunks a caught
              // contributor decided alone, and those need someone else.
              if (await done(person)) {
                person.idle = true;
                if (people.every((p) => p.idle)) return;
              }
              await new Promise((r) => setTimeout(r, 20));
              continue;
            }
            person.idle = false;
            // Adversaries that read the API look at all their chunks at once, as a real one would.
            const results: ResultReport[] = await Promise.all(
              leases.map(async (l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok' as const, output: await answer(person, l) })),
            );
            const outcome = await person.call<ReportResponse>('POST', `/api/contributors/${person.contributorId}/results`, { results }, person.token);
            person.sent += results.length;
            person.accepted += outcome.results.filter((r) => r.outcome === 'accepted').length;
          }
        }),
      );
      return job.id;
    };

    if (options.warmupChunks) await runJob(options.warmupChunks, options.warmupBy === 'farmers' ? farmerSubmitter : submitter);
    for (const person of people) person.sent = person.accepted = person.cheated = person.copied = 0;
    measuring = true;
    const started = performance.now();
    const jobId = await runJob(options.chunks, submitter);
    const wallMs = performance.now() - started;

    const job = await submitter<JobSummary>('GET', `/api/jobs/${jobId}`);
    const results = await submitter<ChunkResult[]>('GET', `/api/jobs/${jobId}/results?format=json`);
    const wrong = results.filter((r) => r.status === 'ok' && r.output !== truth(r.index));
    const byKind: SimulationResult['byKind'] = {};
    for (const person of people) {
      const b = person.behaviour;
      const key = b.kind === 'faulty' || b.kind === 'patient' ? `${b.kind} ${Math.round(b.rate * 100)}%` : b.kind;
      byKind[key] ??= { contributors: 0, sent: 0, accepted: 0, cheated: 0, copied: 0 };
      byKind[key].contributors++;
      byKind[key].sent += person.sent;
      byKind[key].accepted += person.accepted;
      byKind[key].cheated += person.cheated;
      byKind[key].copied += person.copied;
    }
    return {
      job,
      wallMs,
      wrongAccepted: wrong.length,
      failedChunks: results.filter((r) => r.status === 'error').length,
      resultsPerVerifiedChunk: job.resultsIssued / Math.max(1, job.verified),
      byKind,
      colluderWins: wrong.filter((r) => r.output === shared(r.index)).length,
    };
  } finally {
    reaper.stop();
    for (const c of clients) c.close();
    server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const honest = (n: number): Behaviour[] => Array.from({ length: n }, () => ({ kind: 'honest' }));

const many = (n: number, behaviour: Behaviour): Behaviour[] => Array.from({ length: n }, () => behaviour);
const FIXED = { replicas: 2 };
const ADAPTIVE = { replicas: 2, adaptive: true };

/** The scenarios `npm run bench` reports: 10 contributors each, `replicas: 2` (quorum 2). */
export function scenarios(chunks = 10_000, warmupChunks = 2_000): { title: string; options: SimulationOptions }[] {
  const adaptive = (title: string, contributors: Behaviour[], extra: Partial<SimulationOptions> = {}) => ({
    title: `adaptive, ${title}`,
    options: { chunks, warmupChunks, contributors, job: ADAPTIVE, ...extra },
  });
  const fixed = (title: string, contributors: Behaviour[], extra: Partial<SimulationOptions> = {}) => ({
    title: `fixed, ${title}`,
    options: { chunks, contributors, job: FIXED, ...extra },
  });
  return [
    fixed('honest', honest(10)),
    fixed('2 × 10% + 2 × 30% faulty', [...honest(6), ...many(2, { kind: 'faulty', rate: 0.1 }), ...many(2, { kind: 'faulty', rate: 0.3 })]),
    fixed('3 colluders (distinct networks)', [...honest(7), ...many(3, { kind: 'colluder' })]),
    fixed('2 copiers + 2 × 30% faulty', [...honest(6), ...many(2, { kind: 'copier' }), ...many(2, { kind: 'faulty', rate: 0.3 })]),
    fixed('Sybil crowd: 3 of 10 on one network', [...honest(7), ...many(3, { kind: 'sybil' })]),
    fixed('Sybil crowd, --distinct-networks off', [...honest(7), ...many(3, { kind: 'sybil' })], { policy: { distinctNetworks: false } }),
    adaptive('honest', honest(10)),
    adaptive('2 × 10% faulty', [...honest(8), ...many(2, { kind: 'faulty', rate: 0.1 })]),
    adaptive('2 trust farmers (warm-up on their own job)', [...honest(8), ...many(2, { kind: 'farmer' })], { warmupBy: 'farmers' }),
    adaptive('2 farmers with trust from others’ jobs', [...honest(8), ...many(2, { kind: 'farmer' })]),
    adaptive('2 patient cheaters (5% of unobserved chunks)', [...honest(8), ...many(2, { kind: 'patient', rate: 0.05 })]),
    adaptive('3 colluders', [...honest(7), ...many(3, { kind: 'colluder' })]),
    adaptive('2 copiers + 2 × 30% faulty', [...honest(6), ...many(2, { kind: 'copier' }), ...many(2, { kind: 'faulty', rate: 0.3 })]),
    adaptive('Sybil crowd: 3 of 10, trusted, then colluding', [...honest(7), ...many(3, { kind: 'sybil' })]),
  ];
}

/** Runs the scenarios whose title contains `filter` (all by default) and prints the table. */
export async function benchVerification(filter = ''): Promise<{ markdown: string }> {
  const chunks = 10_000;
  const rows: string[] = [];
  const details: string[] = [];
  for (const { title, options } of scenarios(chunks).filter((s) => s.title.includes(filter))) {
    const r = await simulate({ ...options, store: 'sqlite' });
    rows.push(
      `| ${title} | ${r.job.verified.toLocaleString('en')} / ${r.job.total.toLocaleString('en')} | ` +
        `${r.resultsPerVerifiedChunk.toFixed(3)} | ${r.wrongAccepted} (${((100 * r.wrongAccepted) / r.job.total).toFixed(3)}%) | ${r.failedChunks} | ` +
        `${r.job.invalid.toLocaleString('en')} | ${Math.round(r.job.total / (r.wallMs / 1000)).toLocaleString('en')} |`,
    );
    details.push(
      `- ${title}: ` +
        Object.entries(r.byKind)
          .map(([kind, s]) => `${kind} ×${s.contributors} sent ${s.sent.toLocaleString('en')}` + (s.cheated ? `, ${s.cheated.toLocaleString('en')} wrong` : '') + (s.copied ? `, ${s.copied.toLocaleString('en')} copied` : ''))
          .join('; ') +
        (r.colluderWins ? `; the shared wrong answer was accepted for ${r.colluderWins} chunks` : ''),
    );
  }
  const markdown = `## Verification (byzantine simulation)

${chunks.toLocaleString('en')}-chunk jobs, 10 scripted contributors over the real HTTP protocol (in-process server,
SQLite store, batches of 16), each bound to its own loopback address (a /24 of its own; a Sybil crowd shares one),
\`replicas: 2\` (quorum 2), default spot-check floor 10%. Faulty contributors return a random wrong answer for the
given share of their chunks; colluders (and the Sybil crowd once it cheats) return one shared wrong answer; farmers
and patient cheaters are honest during a 2,000-chunk warm-up job, then cheat on chunks that look unobserved (first
attempt, no other result visible through the API); copiers copy any output the chunk's API view shows. Adaptive runs
push the warm-up job through the same contributors first, so trust is in its steady state when the measured job
starts. "Wrong results accepted" is counted once the job has completed, after any re-verification.

| scenario | verified chunks | results per verified chunk | wrong results accepted | failed chunks | invalid results | chunks/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${details.join('\n')}
`;
  return { markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log((await benchVerification(process.argv[2] ?? '')).markdown);
}
