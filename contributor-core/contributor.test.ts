// The contributor loop against a fake coordinator (behind a fake fetch) and fake runtime threads, on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobSpec, Lease, LeaseState, RegisterResponse, ResultReport } from '../protocol/index.js';
import type { ChunkRun } from '../wasm-runtimes/runtime.js';
import type { FetchInit, FetchResponse } from './api.js';
import { ContributorClient } from './coordinator-client.js';
import { Contributor, describeCoordinator, describeThread, toReport, type ChunkThread } from './contributor.js';
import { memoryIdentityStore, type IdentityStore } from './identity.js';
import { memoryOutbox } from './outbox.js';

const JOB: JobSpec = { id: 'j1', name: 'Squares', runtime: 'python', source: 'def main(x): return x * x', timeoutMs: 60_000 };

/** Just enough of the coordinator's contributor API, with switches for the failure modes under test. */
class FakeCoordinator {
  private readonly tokens = new Map<string, string>();
  private queue: Lease[] = [];
  nextLease = 0;
  registrations = 0;
  leaseRequests: number[] = [];
  /** The `haveSpecs` list of each lease request. */
  specsHeldSent: (string[] | undefined)[] = [];
  /** Specs sent, in lease answers and on their own. */
  specsSent: string[] = [];
  /** Leave every spec out of lease answers (as if the tab had claimed to know them). */
  omitSpecs = false;
  jobs = new Map<string, JobSpec>([[JOB.id, JOB]]);
  heartbeats: string[][] = [];
  reports: ResultReport[][] = [];
  /** Leases handed back (`POST .../leases/:leaseId/release`), with the token each came with. */
  released: string[] = [];
  /** While set, release answers wait for it (a slow coordinator). */
  releaseGate?: Promise<void>;
  down = false;
  retryAfterMs: number | undefined = 2_000;
  leaseState: (leaseId: string) => LeaseState = () => 'active';

  addChunks(count: number, jobId = JOB.id): void {
    for (let i = 0; i < count; i++) {
      const n = this.nextLease++;
      this.queue.push({ leaseId: `l${n}`, leaseToken: `lt${n}`, jobId, chunkIndex: n, input: n, deadline: '' });
    }
  }

  /** Credentials the coordinator knows, as if registered in an earlier session. */
  known(credentials: RegisterResponse): RegisterResponse {
    this.tokens.set(credentials.contributorId, credentials.token);
    return credentials;
  }

  /** `loadedJobs` of each lease request (undefined when none was sent). */
  loadedJobsSent: (string[] | undefined)[] = [];
  /** `finishedLeases` of each lease request. */
  finishedLeasesSent: (string[] | undefined)[] = [];
  blobs = new Map<string, Uint8Array>();
  /** Order of blob uploads and reports, to check attachments go first. */
  calls: string[] = [];

  fetch = async (url: string, init?: FetchInit): Promise<FetchResponse> => {
    if (this.down) throw new TypeError('fetch failed');
    if (url.startsWith('/api/blobs/')) {
      const name = decodeURIComponent(url.slice('/api/blobs/'.length));
      this.blobs.set(name, init!.body as Uint8Array);
      this.calls.push(`blob ${name}`);
      return json(201, { name, size: (init!.body as Uint8Array).byteLength });
    }
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    if (url === '/api/contributors') {
      this.registrations++;
      const credentials = this.known({ contributorId: `c${this.registrations}`, token: `t${this.registrations}` });
      return json(201, credentials);
    }
    const match = /^\/api\/contributors\/([^/]+)\/(\w+)(?:\/([^/]+))?(?:\/(release))?$/.exec(url)!;
    const auth = init?.headers?.Authorization;
    if (!this.tokens.has(match[1]) || auth !== `Bearer ${this.tokens.get(match[1])}`) {
      return json(401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong contributor credentials' } });
    }
    if (match[2] === 'leases' && match[4] === 'release') {
      const leaseId = decodeURIComponent(match[3]);
      if (this.releaseGate) await this.releaseGate;
      this.released.push(`${leaseId}:${body.leaseToken}`);
      return json(200, { leaseId, state: 'released' });
    }
    switch (match[2]) {
      case 'leases': {
        this.leaseRequests.push(body.max);
        this.specsHeldSent.push(body.haveSpecs);
        this.loadedJobsSent.push(body.loadedJobs);
        this.finishedLeasesSent.push(body.finishedLeases);
        const leases = this.queue.splice(0, body.max);
        const jobs: Record<string, JobSpec> = {};
        for (const { jobId } of leases) {
          if (this.omitSpecs || body.haveSpecs?.includes(jobId) || jobs[jobId]) continue;
          jobs[jobId] = this.jobs.get(jobId)!;
          this.specsSent.push(jobId);
        }
        return json(200, leases.length ? { leases, jobs } : { leases: [], jobs: {}, retryAfterMs: this.retryAfterMs });
      }
      case 'jobs': {
        const spec = this.jobs.get(decodeURIComponent(match[3]));
        if (!spec) return json(404, { error: { code: 'JOB_NOT_FOUND', message: 'no such job' } });
        this.specsSent.push(spec.id);
        return json(200, spec);
      }
      case 'heartbeat':
        this.heartbeats.push(body.leases.map((l: { leaseId: string }) => l.leaseId));
        return json(200, { leases: body.leases.map((l: { leaseId: string }) => ({ leaseId: l.leaseId, state: this.leaseState(l.leaseId) })) });
      case 'results':
        this.calls.push(`report ${body.results.map((r: ResultReport) => r.leaseId).join(',')}`);
        this.reports.push(body.results);
        return json(200, { results: body.results.map((r: ResultReport) => ({ leaseId: r.leaseId, outcome: 'accepted' })) });
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'not found' } });
  };

  reportedLeases(): string[] {
    return this.reports.flat().map((r) => r.leaseId);
  }
}

const json = (status: number, body: unknown): FetchResponse => ({ ok: status >= 200 && status < 300, status, text: async () => JSON.stringify(body) });

/** A runtime thread whose chunks finish when the test says so. */
class FakeThread implements ChunkThread {
  interrupted = 0;
  disposed = false;
  suspended = false;
  recycles = 0;
  chunksRun = 0;
  loadedJobId?: string;
  inputs: unknown[] = [];
  private current?: (run: ChunkRun) => void;

  constructor(private readonly startResult: Promise<void> = Promise.resolve()) {}

  start = () => this.startResult;
  suspend = () => {
    this.suspended = true;
    return true;
  };
  resume = () => {
    this.suspended = false;
  };
  recycle = async () => {
    this.recycles++;
    this.chunksRun = 0;
  };
  run = (job: JobSpec, input: unknown) => {
    this.loadedJobId = job.id;
    this.inputs.push(input);
    this.chunksRun++;
    return new Promise<ChunkRun>((resolve) => (this.current = resolve));
  };
  interrupt = () => {
    this.interrupted++;
    this.settle({ ok: false, failure: 'timeout', error: 'interrupted by the host', stdout: '', stderr: '', durationMs: 5 });
  };
  dispose = () => {
    this.disposed = true;
  };

  get busy(): boolean {
    return this.current !== undefined;
  }

  finish(output: unknown = 'done', durationMs = 100, files?: ChunkRun['files']): void {
    this.settle({ ok: true, output, stdout: '', stderr: '', durationMs, ...(files ? { files } : {}) });
  }

  /** Ends the chunk as the thread's watchdog does when it would not pause: given back, no result. */
  giveBack(): void {
    this.settle({ ok: false, failure: 'crash', error: 'the chunk did not pause within 1000 ms', givenBack: true, stdout: '', stderr: '', durationMs: 1_000 });
  }

  fail(error: string): void {
    this.settle({ ok: false, failure: 'exception', error, stdout: 'partial', stderr: '', durationMs: 50 });
  }

  private settle(run: ChunkRun): void {
    const resolve = this.current;
    this.current = undefined;
    resolve?.(run);
  }
}

let coordinator: FakeCoordinator;
let threads: FakeThread[];
let identity: IdentityStore;

function contributor(
  options: { random?: () => number; threadFactory?: () => FakeThread } & Partial<ConstructorParameters<typeof Contributor>[0]> = {},
): Contributor {
  const createThread =
    options.threadFactory ??
    (() => {
      const thread = new FakeThread();
      threads.push(thread);
      return thread;
    });
  const { threadFactory: _, ...rest } = options;
  return new Contributor({
    api: new ContributorClient({ fetch: (url, init) => coordinator.fetch(url, init), identity }),
    createThread,
    ...rest,
    random: options.random ?? (() => 0.5),
  });
}

const realSetTimeout = globalThis.setTimeout;

/** Lets timers up to `ms` fire and every promise chain they start settle. */
const advance = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
  coordinator = new FakeCoordinator();
  threads = [];
  identity = memoryIdentityStore();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Contributor', () => {
  it('leases for all idle threads in one request and runs one chunk per thread', async () => {
    coordinator.addChunks(5);
    const c = contributor();
    c.start(3);
    await advance();

    expect(coordinator.leaseRequests).toEqual([3]);
    expect(threads.map((t) => t.inputs)).toEqual([[0], [1], [2]]);
    expect(c.snapshot().threads.map(describeThread)).toEqual(['running Squares chunk 0', 'running Squares chunk 1', 'running Squares chunk 2']);
    expect(describeCoordinator(c.snapshot().coordinator, Date.now())).toBe('connected');
  });

  it('job affinity: a lease batch of several jobs gives each chunk to a thread that has its job loaded', async () => {
    const other: JobSpec = { ...JOB, id: 'j2', name: 'Cubes' };
    coordinator.jobs.set(other.id, other);
    coordinator.addChunks(1, JOB.id);
    coordinator.addChunks(1, other.id);
    const c = contributor();
    c.start(2);
    await advance();
    expect(threads.map((t) => t.loadedJobId)).toEqual(['j1', 'j2']);

    // The next batch lists the other job first: each chunk still goes to the thread that has its job loaded.
    coordinator.addChunks(1, other.id);
    coordinator.addChunks(1, JOB.id);
    threads[0].finish();
    threads[1].finish();
    await advance();
    expect(threads.map((t) => t.inputs)).toEqual([[0, 3], [1, 2]]);
    expect(threads.map((t) => t.loadedJobId)).toEqual(['j1', 'j2']);
    // The lease call told the coordinator which jobs the idle threads had loaded (it prefers them when leasing).
    expect(coordinator.loadedJobsSent[0]).toBeUndefined();
    expect(coordinator.loadedJobsSent.at(-1)).toEqual(['j1', 'j2']);
    // ... and that their finished chunks, whose results were still batched, no longer hold a thread.
    expect(coordinator.finishedLeasesSent.at(-1)).toEqual(['l0', 'l1']);
    expect(coordinator.reportedLeases()).toEqual([]);
    await advance(250);
    expect(coordinator.reportedLeases()).toEqual(['l0', 'l1']);
    // Once acknowledged they are not named again.
    coordinator.addChunks(1, JOB.id);
    threads[0].finish();
    await advance(250);
    expect(coordinator.finishedLeasesSent.at(-1)).toEqual(['l3']);
  });

  it('reports results that finish together in one batch, well within 250 ms', async () => {
    coordinator.addChunks(3);
    const c = contributor();
    c.start(3);
    await advance();

    threads[0].finish({ square: 0 });
    threads[1].fail('Traceback...\nValueError: bad');
    await advance(50);
    expect(coordinator.reports).toEqual([]); // still collecting the batch
    await advance(200);

    expect(coordinator.reports).toHaveLength(1);
    expect(coordinator.reports[0]).toEqual([
      { leaseId: 'l0', leaseToken: 'lt0', status: 'ok', output: { square: 0 }, durationMs: 100 },
      { leaseId: 'l1', leaseToken: 'lt1', status: 'error', error: 'Traceback...\nValueError: bad', failure: 'exception', stdout: 'partial', durationMs: 50 },
    ]);
    expect(c.snapshot().totals).toMatchObject({ done: 1, errors: 1, cpuMs: 150 });
  });

  it('asks again for the threads that became idle', async () => {
    coordinator.addChunks(2);
    coordinator.retryAfterMs = 60_000;
    const c = contributor();
    c.start(2);
    await advance();
    coordinator.addChunks(1);
    threads[1].finish();
    await advance();

    expect(coordinator.leaseRequests).toEqual([2, 1]);
    expect(threads[1].inputs).toEqual([1, 2]);
    void c;
  });

  it('registers once and keeps the identity for the next session', async () => {
    coordinator.addChunks(1);
    contributor().start(1);
    await advance();
    expect(coordinator.registrations).toBe(1);
    expect(await identity.load()).toEqual({ contributorId: 'c1', token: 't1' });

    // A reload: a new client with the same stored identity does not register again.
    coordinator.addChunks(1);
    contributor().start(1);
    await advance();
    expect(coordinator.registrations).toBe(1);
    expect(coordinator.leaseRequests).toEqual([1, 1]);
  });

  it('a client given a base URL (a runner far from the coordinator) sends every call under it', async () => {
    const urls: string[] = [];
    const client = new ContributorClient({
      fetch: (url, init) => {
        urls.push(url);
        return coordinator.fetch(url.slice('http://host:8080'.length), init);
      },
      identity,
      baseUrl: 'http://host:8080/',
    });
    coordinator.addChunks(1);
    const { leases } = await client.lease(1);
    await client.uploadBlob('sha256:ab', Uint8Array.from([1]));
    await client.report([{ leaseId: leases[0].leaseId, leaseToken: leases[0].leaseToken, status: 'ok', output: 1, durationMs: 1 }]);
    expect(urls).toEqual([
      'http://host:8080/api/contributors',
      'http://host:8080/api/contributors/c1/leases',
      'http://host:8080/api/blobs/sha256%3Aab',
      'http://host:8080/api/contributors/c1/results',
    ]);
  });

  it('registers again when the coordinator no longer knows its credentials (401)', async () => {
    identity = memoryIdentityStore({ contributorId: 'gone', token: 'stale' });
    coordinator.addChunks(1);
    const c = contributor();
    c.start(1);
    await advance();

    expect(coordinator.registrations).toBe(1);
    expect(await identity.load()).toEqual({ contributorId: 'c1', token: 't1' });
    expect(threads[0].inputs).toEqual([0]); // the lease call was retried with the new credentials
    expect(c.snapshot().coordinator.state).toBe('connected');
  });

  it('waits retryAfterMs (with jitter) when there is no work', async () => {
    coordinator.retryAfterMs = 2_000;
    const c = contributor({ random: () => 0.5 }); // no jitter at the midpoint
    c.start(1);
    await advance();
    expect(coordinator.leaseRequests).toHaveLength(1);
    expect(describeCoordinator(c.snapshot().coordinator, Date.now())).toBe('no work right now, checking again in 2s');

    await advance(1_900);
    expect(coordinator.leaseRequests).toHaveLength(1);
    await advance(200);
    expect(coordinator.leaseRequests).toHaveLength(2);
  });

  it('backs off exponentially up to 30 s while the coordinator is unreachable, then recovers', async () => {
    coordinator.down = true;
    const requestTimes: number[] = [];
    const reachable = coordinator.fetch;
    coordinator.fetch = (url, init) => {
      requestTimes.push(Date.now());
      return reachable(url, init);
    };
    const c = contributor({ random: () => 1 }); // the longest delay of each step
    c.start(1);
    await advance(200_000);

    const gaps = requestTimes.slice(1).map((t, i) => t - requestTimes[i]);
    expect(gaps.slice(0, 7)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(describeCoordinator(c.snapshot().coordinator, Date.now())).toMatch(/^coordinator unreachable, retrying in \d+s$/);

    coordinator.down = false;
    coordinator.addChunks(1);
    await advance(30_000);
    expect(c.snapshot().coordinator.state).toBe('connected');
    expect(threads[0].inputs).toEqual([0]);
  });

  it('heartbeats running leases every 10 s and interrupts a thread whose lease was cancelled, dropping its result', async () => {
    coordinator.addChunks(2);
    coordinator.retryAfterMs = 60_000;
    coordinator.leaseState = (leaseId) => (leaseId === 'l0' ? 'cancelled' : 'active');
    const c = contributor();
    c.start(2);
    await advance();

    await advance(9_000);
    expect(coordinator.heartbeats).toEqual([]);
    await advance(1_000);
    expect(coordinator.heartbeats).toEqual([['l0', 'l1']]);
    expect(threads[0].interrupted).toBe(1);
    expect(threads[1].interrupted).toBe(0);

    await advance(1_000);
    expect(coordinator.reportedLeases()).not.toContain('l0');
    expect(c.snapshot().totals).toMatchObject({ done: 0, errors: 0 });
    expect(describeThread(c.snapshot().threads[0])).toBe('idle');
  });

  it('never polls while every thread is busy', async () => {
    coordinator.addChunks(1);
    const c = contributor();
    c.start(1);
    await advance(60_000);
    expect(coordinator.leaseRequests).toEqual([1]);
    expect(coordinator.heartbeats).toHaveLength(6);
    void c;
  });

  it('on Stop: stops leasing, interrupts running chunks without reporting them, and sends finished results', async () => {
    coordinator.addChunks(2);
    const c = contributor();
    c.start(2);
    await advance();
    threads[0].finish('kept');
    await advance(); // finished, its report not sent yet
    expect(coordinator.reports).toEqual([]);
    const stopped = c.stop();
    await advance();
    await stopped;

    expect(coordinator.reportedLeases()).toEqual(['l0']);
    expect(threads[1].interrupted).toBe(1);
    expect(c.snapshot().state).toBe('stopped');

    const leaseRequests = coordinator.leaseRequests.length;
    coordinator.addChunks(5);
    await advance(120_000);
    expect(coordinator.leaseRequests).toHaveLength(leaseRequests);
    expect(coordinator.heartbeats).toEqual([]);
  });

  it('reuses loaded threads when started again', async () => {
    const c = contributor();
    c.start(2);
    await advance();
    await c.stop();
    c.start(2);
    await advance();
    expect(threads).toHaveLength(2);
  });

  it('shows a thread that failed to load and leases only for threads that loaded', async () => {
    coordinator.addChunks(5);
    let made = 0;
    const c = contributor({
      threadFactory: () => {
        const thread = made++ === 0 ? new FakeThread(Promise.reject(new Error('pyodide.asm.wasm: 404'))) : new FakeThread();
        threads.push(thread);
        return thread;
      },
    });
    c.start(2);
    await advance();

    expect(describeThread(c.snapshot().threads[0])).toBe('error: pyodide.asm.wasm: 404');
    expect(coordinator.leaseRequests).toEqual([1]);
    expect(threads[1].inputs).toEqual([0]);
  });

  it('keeps results while the coordinator is down and sends them when it is back', async () => {
    coordinator.addChunks(1);
    coordinator.retryAfterMs = 60_000;
    const c = contributor({ random: () => 1 });
    c.start(1);
    await advance();
    coordinator.down = true;
    threads[0].finish();
    await advance(500);
    expect(c.snapshot().unreported).toBe(1);

    coordinator.down = false;
    await advance(5_000);
    expect(coordinator.reportedLeases()).toEqual(['l0']);
    expect(c.snapshot().unreported).toBe(0);
  });
});

describe('Contributor job specs', () => {
  const OTHER: JobSpec = { id: 'j2', name: 'Cubes', runtime: 'python', source: 'def main(x): return x ** 3', timeoutMs: 60_000 };

  it("is sent each job's spec once: later lease requests list the job in haveSpecs and still run its chunks", async () => {
    coordinator.addChunks(6);
    const c = contributor();
    c.start(2);
    await advance();
    for (let round = 0; round < 2; round++) {
      threads.forEach((t) => t.finish());
      await advance(200);
    }
    expect(threads.map((t) => t.inputs)).toEqual([[0, 2, 4], [1, 3, 5]]);
    expect(coordinator.specsHeldSent).toEqual([undefined, [JOB.id], [JOB.id]]);
    expect(coordinator.specsSent).toEqual([JOB.id]);
  });

  it('fetches a spec the lease answer left out, once, and runs the chunk with it', async () => {
    coordinator.jobs.set(OTHER.id, OTHER);
    coordinator.omitSpecs = true;
    coordinator.addChunks(2, OTHER.id);
    const c = contributor();
    c.start(1);
    await advance();
    threads[0].finish();
    await advance(200);
    expect(threads[0].inputs).toEqual([0, 1]);
    expect(c.snapshot().threads.map(describeThread)).toEqual(['running Cubes chunk 1']);
    expect(coordinator.specsSent).toEqual([OTHER.id]);
  });

  it('keeps its specs across a coordinator restart that forgot the contributor (401, registers again)', async () => {
    coordinator.addChunks(1);
    const c = contributor();
    c.start(1);
    await advance();
    // The restarted coordinator has no record of this contributor; job ids (and so specs) are unchanged.
    const restarted = new FakeCoordinator();
    restarted.nextLease = 10;
    restarted.addChunks(1);
    coordinator = restarted;
    threads[0].finish();
    await advance(200);
    expect(restarted.registrations).toBe(1);
    expect(restarted.specsHeldSent.at(-1)).toEqual([JOB.id]);
    expect(threads[0].inputs).toEqual([0, 10]);
    expect(restarted.specsSent).toEqual([]);
  });

  it('drops the spec of a job cancelled mid-way, and leases on for other jobs', async () => {
    coordinator.jobs.set(OTHER.id, OTHER);
    coordinator.addChunks(1);
    coordinator.addChunks(1, OTHER.id);
    coordinator.leaseState = (leaseId) => (leaseId === 'l0' ? 'cancelled' : 'active');
    const c = contributor();
    c.start(2);
    await advance();
    expect(c.jobsWithSpecs()).toEqual([JOB.id, OTHER.id]);
    await advance(10_000);
    expect(threads[0].interrupted).toBe(1);
    expect(c.jobsWithSpecs()).toEqual([OTHER.id]);
    coordinator.addChunks(1, OTHER.id);
    await advance(5_000); // past the no-work wait
    expect(coordinator.specsHeldSent.at(-1)).toEqual([OTHER.id]);
    expect(threads[0].inputs).toEqual([0, 2]);
    expect(coordinator.reportedLeases()).not.toContain('l0');
  });
});

describe('toReport', () => {
  const lease: Lease = { leaseId: 'l', leaseToken: 't', jobId: 'j', chunkIndex: 0, input: 1, deadline: '' };

  it('carries the failure kind of a failed run so the coordinator can decide on retries', () => {
    const report = toReport(lease, { ok: false, failure: 'syntax', error: 'SyntaxError: invalid syntax', stdout: '', stderr: 'warn', durationMs: 3 });
    expect(report).toEqual({ leaseId: 'l', leaseToken: 't', status: 'error', failure: 'syntax', error: 'SyntaxError: invalid syntax', stderr: 'warn', durationMs: 3 });
  });

  it('sends output even when it is falsy', () => {
    expect(toReport(lease, { ok: true, output: 0, stdout: '', stderr: '', durationMs: 1 })).toMatchObject({ status: 'ok', output: 0 });
  });

  it('records which execution provider and adapter produced a result, without undefined values', () => {
    const run = {
      ok: true as const, output: {}, stdout: '', stderr: '', durationMs: 1,
      runtimeInfo: { executionProvider: 'webgpu', adapter: 'google swiftshader', threads: '1', webgpuFallback: undefined },
    };
    expect(toReport(lease, run).runtimeInfo).toEqual({ executionProvider: 'webgpu', adapter: 'google swiftshader', threads: '1' });
    expect('runtimeInfo' in toReport(lease, { ok: true, output: 1, stdout: '', stderr: '', durationMs: 1 })).toBe(false);
  });
});

describe('describeThread', () => {
  const view = { phase: 'running' as const, jobName: 'Digits', chunkIndex: 3, recycled: 0 };
  it('names the execution provider and adapter of a running ONNX chunk once the thread has used one', () => {
    expect(describeThread({ ...view, runtime: 'onnx', executionProvider: 'webgpu', adapter: 'google swiftshader' })).toBe('running Digits chunk 3 on webgpu (google swiftshader)');
    expect(describeThread({ ...view, runtime: 'onnx', executionProvider: 'wasm', adapter: 'cpu' })).toBe('running Digits chunk 3 on wasm');
    expect(describeThread({ ...view, runtime: 'onnx' })).toBe('running Digits chunk 3');
    expect(describeThread({ ...view, runtime: 'python', executionProvider: 'wasm' })).toBe('running Digits chunk 3');
  });
});

describe('Contributor outbox', () => {
  it('keeps a finished result until the coordinator answers, and a new session (a reload) sends what is left', async () => {
    const outbox = memoryOutbox();
    coordinator.addChunks(1);
    const first = contributor({ outbox });
    first.start(1);
    await advance();
    coordinator.down = true;
    threads[0].finish(42);
    await advance(5_000);
    expect([...outbox.entries.keys()]).toEqual(['l0']);
    expect(first.snapshot().unreported).toBe(1);
    first.dispose(); // the tab is closed (or crashes) while offline

    coordinator.down = false;
    const second = contributor({ outbox });
    await second.restore();
    expect(coordinator.reportedLeases()).toEqual(['l0']);
    expect(coordinator.reports[0][0]).toMatchObject({ leaseId: 'l0', status: 'ok', output: 42 });
    expect(outbox.entries.size).toBe(0);
    expect(second.snapshot().unreported).toBe(0);
  });

  it('re-sends after an outage with backoff, and at once when nudged (back online)', async () => {
    const outbox = memoryOutbox();
    coordinator.addChunks(1);
    coordinator.retryAfterMs = 600_000;
    const c = contributor({ outbox, random: () => 1 });
    c.start(1);
    await advance();
    coordinator.down = true;
    threads[0].finish('x');
    await advance(100 + 1_000 + 2_000 + 4_000 + 100); // three failed attempts
    expect(coordinator.reports).toEqual([]);
    coordinator.down = false;
    c.nudge();
    await advance();
    expect(coordinator.reportedLeases()).toEqual(['l0']);
    expect(outbox.entries.size).toBe(0);
  });

  it('uploads attachments as blobs before the report that names them', async () => {
    coordinator.addChunks(1);
    const c = contributor();
    c.start(1);
    await advance();
    threads[0].finish('ok', 10, [{ name: 'out.txt', size: 5, bytes: Uint8Array.from('hello', (c) => c.charCodeAt(0)) }]);
    // Hashing (crypto.subtle) completes on the real clock, not the fake one.
    for (let i = 0; i < 100 && coordinator.calls.length < 2; i++) {
      await new Promise<void>((resolve) => realSetTimeout(() => resolve(), 5));
      await advance(150);
    }
    const sha = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
    expect(coordinator.calls).toEqual([`blob ${sha}`, 'report l0']);
    expect(coordinator.reports[0][0].attachments).toEqual([{ name: 'out.txt', sha256: sha, size: 5 }]);
    void c;
  });
});

describe('Contributor controls', () => {
  it('a pause suspends running chunks and stops leasing; resuming continues them and leases again', async () => {
    coordinator.addChunks(3);
    const c = contributor();
    c.start(2);
    await advance();
    c.setPauseReasons(['the computer is running on battery']);
    expect(threads.map((t) => t.suspended)).toEqual([true, true]);
    expect(c.snapshot().paused).toEqual(['the computer is running on battery']);
    const leases = coordinator.leaseRequests.length;
    threads[0].finish(); // a thread without suspend support would still finish its chunk
    await advance(60_000);
    expect(coordinator.leaseRequests).toHaveLength(leases); // paused: no new work
    expect(coordinator.heartbeats.length).toBeGreaterThan(0); // but the running lease is kept alive

    c.setPauseReasons([]);
    expect(threads.map((t) => t.suspended)).toEqual([false, false]);
    await advance(10);
    expect(coordinator.leaseRequests).toHaveLength(leases + 1);
    expect(threads[0].inputs).toEqual([0, 2]);
  });

  it('a long pause gives running chunks back', async () => {
    coordinator.addChunks(1);
    const c = contributor({ pauseGiveBackMs: 60_000 });
    c.start(1);
    await advance();
    c.setPauseReasons(['the CPU is under serious pressure']);
    await advance(61_000);
    expect(threads[0].interrupted).toBe(1);
    expect(coordinator.reportedLeases()).toEqual([]);
    // Handed back at once, so the chunk need not wait for its lease to lapse before someone else computes it.
    expect(coordinator.released).toEqual(['l0:lt0']);
    expect(c.snapshot().totals).toMatchObject({ givenBack: 1, errors: 0 });
  });

  it('a chunk the thread stopped for not pausing is released, not reported, and counts as no error', async () => {
    coordinator.addChunks(2);
    const c = contributor();
    c.start(1);
    await advance();
    c.setPauseReasons(['Paused']);
    expect(threads[0].suspended).toBe(true);
    threads[0].giveBack();
    await advance(1_000);
    expect(coordinator.released).toEqual(['l0:lt0']);
    expect(coordinator.reportedLeases()).toEqual([]);
    expect(c.snapshot().totals).toMatchObject({ givenBack: 1, errors: 0, done: 0 });
    expect(coordinator.leaseRequests).toEqual([1]); // nothing leased while paused
    c.setPauseReasons([]);
    await advance();
    expect(threads[0].inputs).toEqual([0, 1]);
    threads[0].finish();
    await advance(300);
    expect(coordinator.reportedLeases()).toEqual(['l1']);
  });

  it('Stop releases the running chunks', async () => {
    coordinator.addChunks(2);
    const c = contributor();
    c.start(2);
    await advance();
    await c.stop();
    expect(coordinator.released.sort()).toEqual(['l0:lt0', 'l1:lt1']);
    expect(coordinator.reportedLeases()).toEqual([]);
  });

  it('Stop resolves only once the coordinator has the running chunks back (a runner exits right after it)', async () => {
    coordinator.addChunks(1);
    const c = contributor();
    c.start(1);
    await advance();
    let open!: () => void;
    coordinator.releaseGate = new Promise((resolve) => (open = resolve));
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    await advance(1000);
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(coordinator.released).toEqual(['l0:lt0']);
  });

  it('"finish, then stop": leases nothing more, reports the running chunks, then stops', async () => {
    coordinator.addChunks(5);
    const c = contributor();
    c.start(2);
    await advance();
    c.finishThenStop();
    expect(c.snapshot().state).toBe('finishing');
    threads[0].finish('a');
    await advance(300);
    expect(c.snapshot().state).toBe('finishing');
    threads[1].finish('b');
    await advance(300);
    expect(coordinator.reportedLeases().sort()).toEqual(['l0', 'l1']);
    expect(coordinator.leaseRequests).toEqual([2]);
    expect(c.snapshot().state).toBe('stopped');
    expect(threads.map((t) => t.interrupted)).toEqual([0, 0]);
  });

  it('"finish, then stop" while the coordinator is down backs off instead of retrying in a loop', async () => {
    coordinator.addChunks(1);
    const requests: string[] = [];
    const reachable = coordinator.fetch;
    coordinator.fetch = (url, init) => {
      requests.push(url);
      return reachable(url, init);
    };
    const c = contributor({ random: () => 1 });
    c.start(1);
    await advance();
    c.finishThenStop();
    coordinator.down = true;
    threads[0].finish('x');
    const before = requests.length;
    await advance(10_000);
    expect(requests.length - before).toBeLessThanOrEqual(5); // 0.1 s, then 1, 2, 4 s backoff
    expect(c.snapshot().state).toBe('finishing');
    coordinator.down = false;
    await advance(30_000);
    expect(coordinator.reportedLeases()).toEqual(['l0']);
    expect(c.snapshot().state).toBe('stopped');
  });

  it('restarts a worker after the configured number of chunks', async () => {
    coordinator.addChunks(3);
    const c = contributor({ limits: { recycleAfterChunks: 2 } });
    c.start(1);
    await advance();
    threads[0].finish();
    await advance();
    expect(threads[0].recycles).toBe(0);
    threads[0].finish();
    await advance();
    expect(threads[0].recycles).toBe(1);
    expect(c.snapshot().threads[0]).toMatchObject({ recycled: 1, phase: 'running', chunkIndex: 2 });
  });

  it('pauses leasing while storage is short, saying why', async () => {
    coordinator.addChunks(1);
    let short: string | undefined = 'storage almost full';
    const c = contributor({ beforeLease: async () => short });
    c.start(1);
    await advance();
    expect(coordinator.leaseRequests).toEqual([]);
    expect(c.snapshot().paused).toEqual(['storage almost full']);
    short = undefined;
    await advance(61_000);
    expect(coordinator.leaseRequests).toEqual([1]);
    expect(c.snapshot().paused).toEqual([]);
  });

  it('counts lifetime history across sessions', async () => {
    let saved = { chunks: 10, cpuMs: 1_000 };
    const history = { load: async () => saved, save: async (t: typeof saved) => void (saved = t) };
    coordinator.addChunks(1);
    const c = contributor({ history });
    await c.restore();
    c.start(1);
    await advance();
    threads[0].finish('x', 250);
    await advance(3_000);
    expect(c.snapshot().lifetime).toEqual({ chunks: 11, cpuMs: 1_250 });
    expect(saved).toEqual({ chunks: 11, cpuMs: 1_250 });
  });
});

describe('ContributorClient blob downloads (checkpoint files)', () => {
  it('returns bytes that hash to their name, and refuses bytes that do not', async () => {
    const good = Uint8Array.from([1, 2, 3]);
    const { blobName } = await import('./workspace.js');
    const name = await blobName(good);
    let served = good;
    const client = new ContributorClient({
      fetch: async () => ({ ok: true, status: 200, text: async () => '', arrayBuffer: async () => served.slice().buffer }),
      identity: memoryIdentityStore(),
    });
    expect([...(await client.downloadBlob(name))]).toEqual([1, 2, 3]);
    served = Uint8Array.from([1, 2, 4]); // a coordinator (or a proxy) that serves other bytes under the name
    await expect(client.downloadBlob(name)).rejects.toThrow(/arrived damaged/);
  });
});
