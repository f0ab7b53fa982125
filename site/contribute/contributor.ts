// The contributor loop that runs in the contribute page: lease chunks for idle runtime threads, run them, report results,
// heartbeat running leases. The page talks to the coordinator; threads (Web Workers running Pyodide) never hold credentials.
//
// Three activities share the thread slots:
//   lease loop  — while a thread is idle: ask for up to (idle threads) chunks in one request, hand them out;
//                 no work → wait retryAfterMs (jittered); coordinator failing → exponential backoff (capped at 30 s).
//   reporting   — a finished chunk is queued and sent within ~100 ms, batched with others finishing meanwhile.
//   heartbeat   — every 10 s, extend running leases; a lease that is no longer active gets its thread interrupted.
import type { ChunkRun, RuntimeOptions } from '../../wasm-runtimes/runtime.js';
import type { JobSpec, Lease, ResultReport } from '../../protocol/index.js';
import { ApiError, errorText } from '../shared/api.js';
import { backoffDelay, jittered, sleep } from './backoff.js';
import type { ContributorApi } from './coordinator-client.js';

/** The part of RuntimeThread (wasm-runtimes/python/thread.ts) the loop uses; tests pass fakes. */
export interface ChunkThread {
  start(options: RuntimeOptions): Promise<void>;
  run(job: JobSpec, input: unknown): Promise<ChunkRun>;
  interrupt(): void;
  dispose(): void;
  /** Optional memory recycling: Pyodide's heap never shrinks, so a thread that grew too large is restarted. */
  memoryBytes?(): number | Promise<number>;
  recycle?(): Promise<void>;
}

export type ThreadPhase = 'loading' | 'idle' | 'running' | 'stopping' | 'error';

/** What one thread is doing, for display. */
export interface ThreadView {
  phase: ThreadPhase;
  jobName?: string;
  chunkIndex?: number;
  error?: string;
}

/** The coordinator as the loop sees it: `retryAt` is when the loop asks again (epoch ms). */
export type CoordinatorView =
  | { state: 'idle' }
  | { state: 'connected' }
  | { state: 'no-work'; retryAt: number }
  | { state: 'unreachable'; retryAt: number; message: string };

export interface ContributorTotals {
  /** Chunks that ran to a result. */
  done: number;
  /** Chunks whose script failed (exception, timeout, crash...). */
  errors: number;
  /** Time spent running chunks, summed over threads. */
  cpuMs: number;
  /** Results the coordinator did not store (lease expired, job cancelled). */
  rejected: number;
}

export interface ContributorSnapshot {
  state: 'stopped' | 'running' | 'stopping';
  threads: ThreadView[];
  totals: ContributorTotals;
  coordinator: CoordinatorView;
  /** Results finished but not yet accepted by the coordinator. */
  unreported: number;
}

export interface ContributorOptions {
  api: ContributorApi;
  createThread: () => ChunkThread;
  runtimeOptions?: RuntimeOptions;
  /** Called after every change; the page re-renders from the snapshot. */
  onChange?: (snapshot: ContributorSnapshot) => void;
  now?: () => number;
  random?: () => number;
  heartbeatMs?: number;
  /** How long a finished result waits for others to share its report request. */
  reportDelayMs?: number;
  /** Pause when the coordinator has no work and does not say how long to wait. */
  noWorkDelayMs?: number;
  /** Restart a thread's runtime after a chunk when its memory exceeds this (default 1 GiB). */
  recycleAboveBytes?: number;
}

interface Work {
  lease: Lease;
  job: JobSpec;
  /** Set when the lease stopped being ours (cancelled, expired, Stop pressed): the result is dropped, not reported. */
  abandoned: boolean;
}

interface Slot {
  thread: ChunkThread;
  phase: ThreadPhase;
  work?: Work;
  error?: string;
}

/** Most results in one report request, and a soft cap on its size (stdout can be large). */
const REPORT_BATCH_MAX = 64;
const REPORT_BATCH_BYTES = 4 * 1024 * 1024;

/** Resolves every waiter when notified: the lease loop sleeps on it until a thread becomes idle. */
class Wakeup {
  private waiters: (() => void)[] = [];

  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/**
 * Example:
 * ```ts
 * const contributor = new Contributor({ api: new ContributorClient(fetch, browserIdentityStore()), createThread, onChange: render });
 * contributor.start(4);
 * await contributor.stop();
 * ```
 */
export class Contributor {
  private readonly slots: Slot[] = [];
  private readonly wakeup = new Wakeup();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly heartbeatMs: number;
  private readonly reportDelayMs: number;
  private readonly noWorkDelayMs: number;

  private state: ContributorSnapshot['state'] = 'stopped';
  private session?: AbortController;
  private coordinator: CoordinatorView = { state: 'idle' };
  private leaseFailures = 0;
  private totals: ContributorTotals = { done: 0, errors: 0, cpuMs: 0, rejected: 0 };

  private pending: { report: ResultReport; bytes: number }[] = [];
  private reportTimer?: ReturnType<typeof setTimeout>;
  private reporting?: Promise<void>;
  private reportFailures = 0;

  constructor(private readonly options: ContributorOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.reportDelayMs = options.reportDelayMs ?? 100;
    this.noWorkDelayMs = options.noWorkDelayMs ?? 5_000;
  }

  /** Starts (or resumes) contributing with `threadCount` threads. Threads already loaded are reused. */
  start(threadCount: number): void {
    if (this.state === 'running') return;
    this.resizeThreads(Math.max(1, Math.floor(threadCount)));
    this.state = 'running';
    this.leaseFailures = 0;
    const session = new AbortController();
    this.session = session;
    void this.leaseLoop(session.signal);
    void this.heartbeatLoop(session.signal);
    this.emit();
  }

  /** Stops leasing, interrupts running chunks (their leases lapse and the coordinator re-queues them), reports what finished. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.session?.abort();
    this.session = undefined;
    for (const slot of this.slots) if (slot.work) this.abandon(slot);
    this.emit();
    await this.flushReports();
    if (this.state !== 'stopping') return; // started again while the last reports went out
    this.state = 'stopped';
    this.coordinator = { state: 'idle' };
    this.emit();
  }

  /** Terminates every thread; the contributor cannot be used afterwards. */
  dispose(): void {
    this.session?.abort();
    this.state = 'stopped';
    for (const slot of this.slots.splice(0)) slot.thread.dispose();
  }

  snapshot(): ContributorSnapshot {
    return {
      state: this.state,
      threads: this.slots.map((slot) => ({
        phase: slot.phase,
        jobName: slot.work?.job.name,
        chunkIndex: slot.work?.lease.chunkIndex,
        error: slot.error,
      })),
      totals: { ...this.totals },
      coordinator: this.coordinator,
      unreported: this.pending.length,
    };
  }

  /**
   * One lease request for the idle threads, handing out what comes back.
   * Returns how long to wait before the next request (0: ask again as soon as a thread is idle).
   */
  async leaseOnce(): Promise<number> {
    const idle = this.idleSlots().length;
    if (idle === 0 || this.state !== 'running') return 0;
    let response;
    try {
      response = await this.options.api.lease(idle);
    } catch (error) {
      this.leaseFailures++;
      const delay = backoffDelay(this.leaseFailures, this.random);
      this.coordinator = { state: 'unreachable', retryAt: this.now() + delay, message: describeFailure(error) };
      this.emit();
      return delay;
    }
    this.leaseFailures = 0;
    if (this.state !== 'running') return 0; // stopped meanwhile: these leases lapse and are re-queued
    const free = this.idleSlots();
    for (const lease of response.leases) {
      const job = response.jobs[lease.jobId];
      const slot = free.shift();
      if (job && slot) this.dispatch(slot, lease, job);
    }
    if (response.leases.length === 0) {
      const delay = jittered(response.retryAfterMs ?? this.noWorkDelayMs, this.random);
      this.coordinator = { state: 'no-work', retryAt: this.now() + delay };
      this.emit();
      return delay;
    }
    this.coordinator = { state: 'connected' };
    this.emit();
    return 0;
  }

  /** Extends running leases; interrupts threads whose lease is no longer active. */
  async heartbeatOnce(): Promise<void> {
    const working = this.slots.filter((slot) => slot.work && !slot.work.abandoned);
    if (working.length === 0) return;
    const refs = working.map((slot) => ({ leaseId: slot.work!.lease.leaseId, leaseToken: slot.work!.lease.leaseToken }));
    let response;
    try {
      response = await this.options.api.heartbeat(refs);
    } catch {
      return; // the next beat tries again; the lease loop reports reachability
    }
    for (const { leaseId, state } of response.leases) {
      if (state === 'active') continue;
      const slot = this.slots.find((s) => s.work?.lease.leaseId === leaseId);
      if (slot) this.abandon(slot);
    }
  }

  /** Sends queued results now (one request at a time; more requests follow while results remain). */
  flushReports(): Promise<void> {
    if (this.reportTimer !== undefined) {
      clearTimeout(this.reportTimer);
      this.reportTimer = undefined;
    }
    if (!this.reporting && this.pending.length > 0) {
      this.reporting = this.sendReports().finally(() => {
        this.reporting = undefined;
      });
    }
    return this.reporting ?? Promise.resolve();
  }

  private async sendReports(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = takeBatch(this.pending);
      try {
        const response = await this.options.api.report(batch.map((entry) => entry.report));
        this.reportFailures = 0;
        this.totals.rejected += response.results.filter((r) => r.outcome === 'rejected').length;
      } catch (error) {
        if (error instanceof ApiError && !error.unreachable) {
          // The coordinator refused the batch itself (malformed, too large); retrying would fail the same way.
          this.totals.rejected += batch.length;
          continue;
        }
        this.pending.unshift(...batch);
        this.reportFailures++;
        this.scheduleReport(backoffDelay(this.reportFailures, this.random));
        return;
      } finally {
        this.emit();
      }
    }
  }

  private scheduleReport(delayMs: number): void {
    if (this.reportTimer !== undefined) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      void this.flushReports();
    }, delayMs);
  }

  private queueReport(report: ResultReport): void {
    this.pending.push({ report, bytes: JSON.stringify(report).length });
    // While a request is in flight, sendReports picks the new result up when it returns.
    if (!this.reporting) this.scheduleReport(this.reportDelayMs);
  }

  private async leaseLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.idleSlots().length === 0) {
        await this.wakeup.wait(signal);
        continue;
      }
      const delay = await this.leaseOnce();
      if (delay > 0) await sleep(delay, signal);
    }
  }

  private async heartbeatLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.heartbeatMs, signal);
      if (!signal.aborted) await this.heartbeatOnce();
    }
  }

  private dispatch(slot: Slot, lease: Lease, job: JobSpec): void {
    const work: Work = { lease, job, abandoned: false };
    slot.work = work;
    slot.phase = 'running';
    this.emit();
    void this.runChunk(slot, work);
  }

  private async runChunk(slot: Slot, work: Work): Promise<void> {
    const startedAt = this.now();
    let run: ChunkRun;
    try {
      run = await slot.thread.run(work.job, work.lease.input);
    } catch (error) {
      run = { ok: false, failure: 'crash', error: errorText(error), stdout: '', stderr: '', durationMs: this.now() - startedAt };
    }
    if (!work.abandoned) {
      this.totals.cpuMs += run.durationMs;
      if (run.ok) this.totals.done++;
      else this.totals.errors++;
      this.queueReport(toReport(work.lease, run));
    }
    if (slot.work === work) slot.work = undefined;
    if (this.slots.includes(slot)) await this.recycleIfLarge(slot);
    if (this.slots.includes(slot) && (slot.phase === 'running' || slot.phase === 'stopping')) slot.phase = 'idle';
    this.emit();
    this.wakeup.notify();
  }

  private async recycleIfLarge(slot: Slot): Promise<void> {
    const { thread } = slot;
    if (!thread.memoryBytes || !thread.recycle) return;
    const bytes = await Promise.resolve(thread.memoryBytes()).catch(() => 0);
    if (bytes <= (this.options.recycleAboveBytes ?? 1024 ** 3)) return;
    slot.phase = 'loading';
    this.emit();
    try {
      await thread.recycle();
      slot.phase = 'idle';
    } catch (error) {
      slot.phase = 'error';
      slot.error = errorText(error);
    }
  }

  private abandon(slot: Slot): void {
    if (!slot.work || slot.work.abandoned) return;
    slot.work.abandoned = true;
    slot.phase = 'stopping';
    slot.thread.interrupt();
    this.emit();
  }

  private idleSlots(): Slot[] {
    return this.slots.filter((slot) => slot.phase === 'idle');
  }

  /** Brings the pool to `count` threads: drops failed and surplus threads, spawns missing ones. */
  private resizeThreads(count: number): void {
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const slot = this.slots[i];
      if (slot.phase === 'error' || this.slots.length > count) {
        this.slots.splice(i, 1);
        slot.thread.dispose();
      }
    }
    while (this.slots.length < count) this.spawn();
  }

  private spawn(): void {
    const slot: Slot = { thread: this.options.createThread(), phase: 'loading' };
    this.slots.push(slot);
    slot.thread.start(this.options.runtimeOptions ?? {}).then(
      () => {
        if (slot.phase !== 'loading') return;
        slot.phase = 'idle';
        this.emit();
        this.wakeup.notify();
      },
      (error: unknown) => {
        slot.phase = 'error';
        slot.error = errorText(error);
        this.emit();
      },
    );
  }

  private emit(): void {
    this.options.onChange?.(this.snapshot());
  }
}

/** Takes the next report batch off the front of the queue. */
function takeBatch<T extends { bytes: number }>(queue: T[]): T[] {
  let count = 0;
  let bytes = 0;
  while (count < queue.length && count < REPORT_BATCH_MAX && (count === 0 || bytes + queue[count].bytes <= REPORT_BATCH_BYTES)) {
    bytes += queue[count].bytes;
    count++;
  }
  return queue.splice(0, count);
}

/** The wire report for one finished chunk. Empty streams are left out to keep reports small. */
export function toReport(lease: Lease, run: ChunkRun): ResultReport {
  const base = {
    leaseId: lease.leaseId,
    leaseToken: lease.leaseToken,
    durationMs: Math.max(0, run.durationMs),
    ...(run.stdout ? { stdout: run.stdout } : {}),
    ...(run.stderr ? { stderr: run.stderr } : {}),
  };
  return run.ok
    ? { ...base, status: 'ok', output: run.output }
    : { ...base, status: 'error', error: run.error, failure: run.failure };
}

function describeFailure(error: unknown): string {
  if (error instanceof ApiError && error.unreachable) return 'coordinator unreachable';
  return `coordinator error: ${errorText(error)}`;
}

/** The status line of one thread: "loading runtime", "running Primes chunk 7", "idle", "error: ...". */
export function describeThread(view: ThreadView): string {
  switch (view.phase) {
    case 'loading':
      return 'loading runtime';
    case 'idle':
      return 'idle';
    case 'running':
      return `running ${view.jobName ?? 'job'} chunk ${view.chunkIndex ?? '?'}`;
    case 'stopping':
      return `stopping ${view.jobName ?? 'job'} chunk ${view.chunkIndex ?? '?'}`;
    case 'error':
      return `error: ${view.error ?? 'unknown'}`;
  }
}

/** The coordinator line: "connected", "no work right now, checking again in 4 s", "coordinator unreachable, retrying in 8 s". */
export function describeCoordinator(view: CoordinatorView, now: number): string {
  const seconds = (at: number) => Math.max(0, Math.ceil((at - now) / 1000));
  switch (view.state) {
    case 'idle':
      return ''; // not asked yet: the thread lines say what is happening
    case 'connected':
      return 'connected';
    case 'no-work':
      return `no work right now, checking again in ${seconds(view.retryAt)}s`;
    case 'unreachable':
      return `${view.message}, retrying in ${seconds(view.retryAt)}s`;
  }
}
