// Dispatch bench: how many chunks per second the coordinator leases and takes results for, and what each layer
// costs. The same simulated contributors (register, then loop lease(max=batch) → report trivial outputs) run over
// three transports: straight into the Store (no HTTP), through the Hono app in-process (`app.request`, no socket),
// and over real HTTP to a coordinator in its own process (bench/server.ts). Every run checks that its job ends
// `completed` with every result present and correct.
// Usage: tsx bench/dispatch.ts [--cpu-prof DIR]   (also exported as benchDispatch for bench/run.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type {
  ChunkResult,
  JobSummary,
  Lease,
  LeaseResponse,
  RegisterResponse,
  ReportOutcome,
  ReportResponse,
  ResultReport,
} from '../protocol/index.js';
import { createApp } from '../coordinator/src/app.js';
import { newJobFrom } from '../coordinator/src/domain/policy.js';
import { MemoryStore } from '../coordinator/src/store/memory.js';
import { SqliteStore } from '../coordinator/src/store/sqlite.js';
import type { Store } from '../coordinator/src/store/store.js';
import { summariseProfile } from './profile.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const SOURCE = 'def main(x):\n    return x * 2\n';
const TARGET_CHUNKS_PER_S = 5_000;

export type StoreKind = 'memory' | 'sqlite';
export type TransportKind = 'store' | 'app.request' | 'http';

export interface DispatchOptions {
  contributors?: number;
  /** Chunks in the measured job for a given batch size. */
  chunksFor?: (batch: number) => number;
  stores?: StoreKind[];
  batches?: number[];
  transports?: TransportKind[];
  /** Measured jobs per configuration; the report shows the median one and the range. */
  repeat?: number;
  /** Chunks in the job of the lease-cost-vs-progress probe (0 skips it). */
  scalingChunks?: number;
  /** When set, the HTTP coordinator runs with --cpu-prof into this folder and the report adds where its time went. */
  cpuProfDir?: string;
  /** Replicas per chunk in the measured jobs (quorum = replicas); chunks/s then counts verified chunks. */
  replicas?: number;
}

/** One simulated contributor, whatever the transport. */
interface Contributor {
  lease(max: number): Promise<Lease[]>;
  report(reports: ResultReport[]): Promise<ReportOutcome[]>;
}

/** A coordinator under test, set up for one run. */
interface Coordinator {
  submit(inputs: number[], replicas?: number): Promise<string>;
  register(): Promise<Contributor>;
  job(jobId: string): Promise<JobSummary>;
  results(jobId: string, total: number): Promise<ChunkResult[]>;
  /** CPU seconds the coordinator's own process has used so far, when it has one. */
  cpuSeconds(): number | undefined;
  close(): Promise<void>;
}

export interface RunResult {
  store: StoreKind;
  batch: number;
  transport: TransportKind;
  chunks: number;
  wallS: number;
  chunksPerS: number;
  /** Slowest and fastest of the repeats. */
  chunksPerSRange: [number, number];
  leaseMs: { p50: number; p99: number };
  reportMs: { p50: number; p99: number };
  /** Coordinator process CPU use over the run (1 = one core busy the whole time); HTTP runs only. */
  serverCpu?: number;
  /** The load generator's CPU use over the run. */
  clientCpu: number;
  verified: string;
}

/** Runs the matrix store × batch × transport and returns a markdown section. */
export async function benchDispatch(options: DispatchOptions = {}): Promise<{ markdown: string; runs: RunResult[] }> {
  const contributors = options.contributors ?? 8;
  const chunksFor = options.chunksFor ?? ((batch: number) => (batch === 1 ? 5_000 : 20_000));
  const stores = options.stores ?? ['memory', 'sqlite'];
  const batches = options.batches ?? [1, 32];
  const transports = options.transports ?? ['store', 'app.request', 'http'];
  const repeat = options.repeat ?? 3;
  const runs: RunResult[] = [];
  const profiles: string[] = [];
  for (const store of stores) {
    for (const batch of batches) {
      for (const transport of transports) {
        const profileDir = options.cpuProfDir && transport === 'http' ? join(options.cpuProfDir, `${store}-batch${batch}`) : undefined;
        const coordinator = await openCoordinator(store, transport, profileDir);
        try {
          // A short warm-up job first, so the measured jobs do not pay for JIT compilation.
          const replicas = options.replicas ?? 1;
          await drive(coordinator, { chunks: Math.min(1_000, chunksFor(batch) / 5), batch, contributors, replicas });
          const repeats: Omit<RunResult, 'store' | 'transport' | 'chunksPerSRange'>[] = [];
          for (let i = 0; i < repeat; i++) repeats.push(await drive(coordinator, { chunks: chunksFor(batch), batch, contributors, replicas }));
          // The median repeat stands for the configuration: the box may be shared, so one run can be an outlier.
          repeats.sort((a, b) => a.chunksPerS - b.chunksPerS);
          const median = repeats[Math.floor((repeats.length - 1) / 2)];
          const run: RunResult = {
            store,
            transport,
            ...median,
            chunksPerSRange: [repeats[0].chunksPerS, repeats[repeats.length - 1].chunksPerS],
            verified: repeats.every((r) => r.verified === 'ok') ? 'ok' : repeats.map((r) => r.verified).join('; '),
          };
          runs.push(run);
          process.stderr.write(`dispatch ${store} batch=${batch} ${transport}: ${Math.round(run.chunksPerS)} chunks/s (${run.verified})\n`);
        } finally {
          await coordinator.close();
        }
        if (profileDir) profiles.push(mainThreadProfile(profileDir));
      }
    }
  }
  let markdown = dispatchMarkdown(runs, contributors, repeat);
  if (options.scalingChunks !== 0) {
    const scaling: ScalingResult[] = [];
    for (const store of stores) scaling.push(await leaseScaling(store, options.scalingChunks ?? 100_000, 32));
    markdown += scalingMarkdown(scaling);
  }
  for (const file of profiles) {
    markdown += `\n#### Where the HTTP coordinator's CPU went: ${file.split('/').slice(-2).join('/')}\n\n${summariseProfile(JSON.parse(readFileSync(file, 'utf8')))}\n`;
  }
  return { markdown, runs };
}

async function drive(
  coordinator: Coordinator,
  { chunks, batch, contributors, replicas = 1 }: { chunks: number; batch: number; contributors: number; replicas?: number },
): Promise<Omit<RunResult, 'store' | 'transport' | 'chunksPerSRange'>> {
  const inputs = Array.from({ length: chunks }, (_, i) => i);
  const jobId = await coordinator.submit(inputs, replicas);
  const workers = await Promise.all(Array.from({ length: contributors }, () => coordinator.register()));
  const leaseMs: number[] = [];
  const reportMs: number[] = [];
  let rejected = 0;
  let lastReport = 0;
  const serverCpu0 = coordinator.cpuSeconds();
  const clientCpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    workers.map(async (worker) => {
      // No lease expires during a run (deadlines are minutes away), so an empty lease means the queue is drained.
      for (;;) {
        const t0 = performance.now();
        const leases = await worker.lease(batch);
        const t1 = performance.now();
        if (leases.length === 0) return;
        leaseMs.push(t1 - t0);
        const outcomes = await worker.report(
          leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok', output: (l.input as number) * 2, durationMs: 0 })),
        );
        const t2 = performance.now();
        reportMs.push(t2 - t1);
        lastReport = Math.max(lastReport, t2);
        rejected += outcomes.filter((o) => o.outcome !== 'accepted').length;
      }
    }),
  );
  const wallS = (lastReport - start) / 1000;
  const elapsedS = (performance.now() - start) / 1000;
  const serverCpu1 = coordinator.cpuSeconds();
  const clientCpu = process.cpuUsage(clientCpu0);
  const verified = verify(await coordinator.job(jobId), await coordinator.results(jobId, chunks), chunks, rejected);
  return {
    batch,
    chunks,
    wallS,
    chunksPerS: chunks / wallS,
    leaseMs: percentiles(leaseMs),
    reportMs: percentiles(reportMs),
    serverCpu: serverCpu0 === undefined || serverCpu1 === undefined ? undefined : (serverCpu1 - serverCpu0) / elapsedS,
    clientCpu: (clientCpu.user + clientCpu.system) / 1e6 / elapsedS,
    verified,
  };
}

/** 'ok' when the job is `completed` and holds every result, in order, with the expected output; else what is wrong. */
function verify(job: JobSummary, results: ChunkResult[], chunks: number, rejected: number): string {
  const problems: string[] = [];
  if (job.status !== 'completed') problems.push(`status ${job.status}`);
  if (job.completed !== chunks) problems.push(`completed ${job.completed}/${chunks}`);
  if (rejected > 0) problems.push(`${rejected} reports not accepted`);
  if (results.length !== chunks) problems.push(`${results.length}/${chunks} results`);
  const wrong = results.filter((r, i) => r.index !== i || r.status !== 'ok' || r.output !== i * 2).length;
  if (wrong > 0) problems.push(`${wrong} wrong results`);
  return problems.length === 0 ? 'ok' : `FAILED: ${problems.join(', ')}`;
}

function percentiles(samples: number[]): { p50: number; p99: number } {
  if (samples.length === 0) return { p50: NaN, p99: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p99: at(0.99) };
}

interface ScalingResult {
  store: StoreKind;
  chunks: number;
  batch: number;
  /** Lease cost in µs per chunk for each tenth of the job, in order. */
  leaseUsByTenth: number[];
  reportUs: number;
}

/**
 * Does a lease get dearer as the job progresses? One contributor drains one big job straight through the Store and
 * the lease cost is timed per tenth of the job: flat is right; rising means the lease query walks finished chunks.
 */
async function leaseScaling(kind: StoreKind, chunks: number, batch: number): Promise<ScalingResult> {
  const coordinator = await openCoordinator(kind, 'store');
  try {
    await coordinator.submit(Array.from({ length: chunks }, (_, i) => i));
    const worker = await coordinator.register();
    const tenths = Array.from({ length: 10 }, () => 0);
    let reportMs = 0;
    let done = 0;
    for (;;) {
      const t0 = performance.now();
      const leases = await worker.lease(batch);
      const t1 = performance.now();
      if (leases.length === 0) break;
      tenths[Math.min(9, Math.floor((10 * done) / chunks))] += t1 - t0;
      await worker.report(leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok', output: 0 })));
      reportMs += performance.now() - t1;
      done += leases.length;
    }
    process.stderr.write(`lease scaling ${kind}: ${tenths.map((ms) => Math.round((ms * 1000) / (chunks / 10))).join(' ')} µs/chunk\n`);
    return { store: kind, chunks, batch, leaseUsByTenth: tenths.map((ms) => (ms * 1000) / (chunks / 10)), reportUs: (reportMs * 1000) / chunks };
  } finally {
    await coordinator.close();
  }
}

function scalingMarkdown(results: ScalingResult[]): string {
  const lines = [
    '',
    '#### Lease cost as a job progresses',
    '',
    'One contributor drains one job straight through the Store API (batch 32, no HTTP). Lease cost in µs per chunk,',
    'for each tenth of the job; a flat row is right, a rising one means each lease walks the chunks already finished.',
    '',
    `| store | chunks | ${Array.from({ length: 10 }, (_, i) => `${i * 10}–${i * 10 + 10}%`).join(' | ')} | report µs/chunk |`,
    `| --- | ---: | ${Array.from({ length: 10 }, () => '---:').join(' | ')} | ---: |`,
  ];
  const notes: string[] = [];
  for (const r of results) {
    const growth = r.leaseUsByTenth[9] / r.leaseUsByTenth[0];
    if (growth >= 2) notes.push(`${r.store}: a lease in the last tenth costs ${growth.toFixed(1)}× one in the first tenth.`);
    lines.push(`| ${r.store} | ${r.chunks} | ${r.leaseUsByTenth.map((us) => us.toFixed(0)).join(' | ')} | ${r.reportUs.toFixed(0)} |`);
  }
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// Transports

async function openCoordinator(kind: StoreKind, transport: TransportKind, cpuProfDir?: string): Promise<Coordinator> {
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'idle-sense-bench-')) : undefined;
  const dbFile = dir && join(dir, 'dispatch.db');
  const removeDir = () => dir && rmSync(dir, { recursive: true, force: true });
  if (transport === 'http') {
    const server = await startServer(kind, dbFile, cpuProfDir);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const api = httpApi(server.port, agent);
    // Each simulated contributor calls from its own loopback address, as real ones call from their own machines:
    // the per-address rate limits and distinct-network replicas then see a crowd, not one client.
    const agents: http.Agent[] = [agent];
    const contributorApi = () => {
      const n = agents.length;
      const own = new http.Agent({ keepAlive: true, maxSockets: 8, localAddress: `127.0.${1 + (n >> 8)}.${n & 255}` } as http.AgentOptions);
      agents.push(own);
      return httpApi(server.port, own);
    };
    return {
      ...apiCoordinator(api, contributorApi),
      cpuSeconds: () => processCpuSeconds(server.child.pid!),
      close: async () => {
        for (const each of agents) each.destroy();
        await server.stop();
        removeDir();
      },
    };
  }
  const store: Store = kind === 'memory' ? new MemoryStore() : new SqliteStore({ file: dbFile! });
  const close = async () => {
    await store.close();
    removeDir();
  };
  if (transport === 'app.request') {
    const { app } = createApp({ store, config: { store: kind } });
    const api: Api = async (method, path, body, token) => {
      const res = await app.request(path, { method, headers: headersFor(body, token), body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text);
    };
    return { ...apiCoordinator(api), cpuSeconds: () => undefined, close };
  }
  return { ...storeCoordinator(store), cpuSeconds: () => undefined, close };
}

/** The Store API called directly: what dispatch costs with no HTTP, routing, validation or JSON at all. */
function storeCoordinator(store: Store): Omit<Coordinator, 'cpuSeconds' | 'close'> {
  return {
    submit: async (inputs, replicas = 1) => (await store.createJob(newJobFrom({ runtime: 'python', source: SOURCE, inputs, replicas }), Date.now())).id,
    register: async () => {
      const { contributorId } = await store.registerContributor({ agent: 'bench' }, Date.now());
      return {
        lease: async (max) => (await store.leaseChunks(contributorId, { max, runtimes: ['python'] }, Date.now())).leases,
        report: (reports) => store.reportResults(contributorId, reports, Date.now()),
      };
    },
    job: async (jobId) => (await store.getJob(jobId))!,
    results: (jobId, total) => store.listResults(jobId, { offset: 0, limit: total }),
  };
}

type Api = (method: 'GET' | 'POST', path: string, body?: unknown, token?: string) => Promise<any>;

/** The coordinator's public API, as a contributor and a submitter use it. */
function apiCoordinator(api: Api, contributorApi: () => Api = () => api): Omit<Coordinator, 'cpuSeconds' | 'close'> {
  return {
    submit: async (inputs, replicas = 1) => ((await api('POST', '/api/jobs', { runtime: 'python', source: SOURCE, inputs, replicas })) as JobSummary).id,
    register: async () => {
      const api = contributorApi();
      const { contributorId, token } = (await api('POST', '/api/contributors', { agent: 'bench' })) as RegisterResponse;
      return {
        lease: async (max) => ((await api('POST', `/api/contributors/${contributorId}/leases`, { max }, token)) as LeaseResponse).leases,
        report: async (results) => ((await api('POST', `/api/contributors/${contributorId}/results`, { results }, token)) as ReportResponse).results,
      };
    },
    job: (jobId) => api('GET', `/api/jobs/${jobId}`),
    results: (jobId) => api('GET', `/api/jobs/${jobId}/results?format=json`),
  };
}

function headersFor(body: unknown, token?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

/** Plain node:http with a keep-alive agent: the lightest client Node has, so the load generator stays cheap. */
function httpApi(port: number, agent: http.Agent): Api {
  return (method, path, body, token) =>
    new Promise((resolvePromise, rejectPromise) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = headersFor(body, token);
      if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
      const localAddress = (agent as http.Agent & { options?: { localAddress?: string } }).options?.localAddress;
      const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('error', rejectPromise);
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          if ((res.statusCode ?? 500) >= 300) rejectPromise(new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 300)}`));
          else {
            try {
              resolvePromise(JSON.parse(text));
            } catch (err) {
              rejectPromise(err);
            }
          }
        });
      });
      req.on('socket', (socket) => socket.setNoDelay(true));
      req.on('error', rejectPromise);
      req.end(payload);
    });
}

/** Starts bench/server.ts in its own process and waits for the port it prints. */
async function startServer(
  kind: StoreKind,
  dbFile: string | undefined,
  cpuProfDir?: string,
): Promise<{ port: number; child: ChildProcess; stop: () => Promise<void> }> {
  const nodeFlags = ['--import', 'tsx'];
  if (cpuProfDir) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  const args = [...nodeFlags, join(repoRoot, 'bench/server.ts'), '--store', kind, ...(dbFile ? ['--db', dbFile] : [])];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const port = await new Promise<number>((resolvePort, rejectPort) => {
    child.once('exit', (code) => rejectPort(new Error(`bench/server.ts exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolvePort((JSON.parse(line) as { port: number }).port));
  });
  return {
    port,
    child,
    stop: async () => {
      process.off('exit', killOnExit);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** tsx's loader hooks run on a thread of their own, which --cpu-prof profiles too: the main thread's is the biggest. */
function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size);
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${dir}`);
  return join(dir, files[0]);
}

/** user + system CPU seconds of a process, from /proc (Linux); undefined elsewhere. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5) (utime, stime), counted from `state` (field 3); in clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

function dispatchMarkdown(runs: RunResult[], contributors: number, repeat: number): string {
  const ms = (v: number) => (Number.isNaN(v) ? '—' : v < 1 ? v.toFixed(2) : v.toFixed(1));
  const rate = (v: number) => Math.round(v).toLocaleString('en-US');
  const pct = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v * 100)}%`);
  const lines = [
    `${contributors} simulated contributors, each looping lease(max=batch) → report (trivial outputs) until the job is drained.`,
    'Transports: `store` = Store API called in-process (no HTTP); `app.request` = the Hono app in-process (routing, auth,',
    'zod validation, JSON; no socket); `http` = real HTTP over keep-alive sockets to the coordinator in its own process.',
    'chunks/s = completed chunks / (first lease → last report). Latencies are per call, as seen by the contributor.',
    `Each row is the median of ${repeat} jobs on one coordinator (after a warm-up job); the range is slowest–fastest.`,
    'CPU columns: share of one core used by the coordinator process (`http` only) and by the load generator.',
    '',
    '| store | batch | transport | chunks | wall s | chunks/s | range | lease p50 ms | lease p99 ms | report p50 ms | report p99 ms | coordinator CPU | load-gen CPU | verified |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of runs) {
    lines.push(
      `| ${r.store} | ${r.batch} | ${r.transport} | ${r.chunks} | ${r.wallS.toFixed(2)} | ${rate(r.chunksPerS)} | ${rate(r.chunksPerSRange[0])}–${rate(r.chunksPerSRange[1])} | ` +
        `${ms(r.leaseMs.p50)} | ${ms(r.leaseMs.p99)} | ${ms(r.reportMs.p50)} | ${ms(r.reportMs.p99)} | ${pct(r.serverCpu)} | ${pct(r.clientCpu)} | ${r.verified} |`,
    );
  }
  const overhead: string[] = [];
  for (const r of runs.filter((run) => run.transport === 'http')) {
    const direct = runs.find((d) => d.store === r.store && d.batch === r.batch && d.transport === 'store');
    if (direct) overhead.push(`${r.store}/batch ${r.batch}: HTTP reaches ${pct(r.chunksPerS / direct.chunksPerS)} of the direct Store rate`);
  }
  if (overhead.length) lines.push('', `HTTP overhead: ${overhead.join('; ')}.`);
  const bound = runs.filter((r) => r.transport === 'http' && (r.serverCpu ?? 0) >= 0.85);
  if (bound.length) {
    lines.push('', `Coordinator-bound (its process near one full core): ${bound.map((r) => `${r.store}/batch ${r.batch}`).join(', ')}.`);
  }
  const target = runs.find((r) => r.store === 'sqlite' && r.batch === 32 && r.transport === 'http');
  if (target) {
    const met = target.chunksPerS >= TARGET_CHUNKS_PER_S;
    lines.push(
      '',
      `Target (SQLite, batch 32, real HTTP) >= ${TARGET_CHUNKS_PER_S.toLocaleString('en-US')} chunks/s: ` +
        `**${met ? 'met' : 'missed'}** at ${Math.round(target.chunksPerS).toLocaleString('en-US')} chunks/s.`,
    );
  }
  return lines.join('\n') + '\n';
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'cpu-prof': { type: 'string' } }, strict: true });
  const cpuProfDir = values['cpu-prof'] && resolve(values['cpu-prof']);
  const { markdown } = await benchDispatch(cpuProfDir ? { cpuProfDir, transports: ['http'], repeat: 1, scalingChunks: 0 } : {});
  console.log(markdown);
}
