// The contributor loop, shared by the contribute page and the Node runner: lease chunks for idle runtime threads, run
// them, report results, heartbeat running leases. The host talks to the coordinator; threads (Web Workers running
// Pyodide in the tab) never hold credentials. DOM-free: the host injects the transport, threads, outbox, workspaces.
//
// Three activities share the thread slots:
//   lease loop  — while a thread is idle and nothing pauses the host: ask for up to (idle threads) chunks in one
//                 request, hand them out; no work → wait retryAfterMs (jittered); coordinator failing → exponential
//                 backoff (capped at 30 s). Job specs (sources may be megabytes) are kept and their ids sent as
//                 `haveSpecs`, so the coordinator sends each job's spec once, not with every lease.
//   reporting   — a finished chunk goes to the outbox (the tab's: IndexedDB) first, then is sent within ~100 ms,
//                 batched with others; its attachments are uploaded as blobs before its report. It leaves the outbox
//                 only once the coordinator has answered for it, so reloads, crashes and outages lose nothing.
//   heartbeat   — every 10 s, extend running leases; a lease that is no longer active gets its thread interrupted.
//
// Pauses (the host's reasons: only-when-idle, battery, heat; low storage from `beforeLease`) suspend running chunks
// where they stand and stop leasing; a pause longer than `pauseGiveBackMs` gives the running chunks back. "Finish,
// then stop" lets running chunks end.
import type { ChunkContext, ChunkRun, RuntimeOptions } from '../wasm-runtimes/runtime.js';
import type { CheckpointRef, JobSpec, Lease, ResultReport } from '../protocol/index.js';
import { ApiError, errorText } from './api.js';
import { backoffDelay, jittered, sleep } from './backoff.js';
import type { ContributorApi } from './coordinator-client.js';
import { memoryOutbox, type Outbox, type OutboxEntry } from './outbox.js';
import { toAttachments, type AttachmentData, type Workspaces } from './workspace.js';

/**
 * What the loop offers a thread besides the chunk (host-side, never sent into a worker): the lease's checkpoint to
 * restore and a way to save a new one. Threads that cannot checkpoint (the tab's) ignore it.
 */
export interface ChunkServices {
  /** The chunk's checkpoint from an earlier, lost lease: restore it into /work/checkpoint/ before starting. */
  checkpoint?: CheckpointRef;
  downloadBlob(name: string): Promise<Uint8Array>;
  /** Replaces the chunk's checkpoint with these files (paths under /work/checkpoint/). */
  saveCheckpoint(files: { name: string; bytes: Uint8Array }[]): Promise<void>;
}

/**
 * The part of RuntimeThread (wasm-runtimes/host/thread.ts) the loop uses: the tab's threads are site/contribute/threads.ts,
 * the runner's runner/src/runner.ts; tests pass fakes.
 */
export interface ChunkThread {
  start(options: RuntimeOptions): Promise<void>;
  run(job: JobSpec, input: unknown, context?: ChunkContext, services?: ChunkServices): Promise<ChunkRun>;
  interrupt(): void;
  dispose(): void;
  /** Optional memory recycling: Pyodide's heap never shrinks, so a thread that grew too large is restarted. */
  memoryBytes?(): number | Promise<number>;
  recycle?(): Promise<void>;
  /** Chunks run by the current worker, for recycling after a number of chunks. */
  readonly chunksRun?: number;
  /** The job the thread's worker has run chunks of: another job's chunk there costs a worker switch. */
  readonly loadedJobId?: string;
  /** Suspends running chunks in place (false: not possible here, chunks run on). */
  suspend?(): boolean;
  resume?(): void;
  setCpuLimit?(percent: number): void;
}

export type ThreadPhase = 'loading' | 'idle' | 'running' | 'stopping' | 'error';

/** What one thread is doing, for display. */
export interface ThreadView {
  phase: ThreadPhase;
  jobName?: string;
  jobDescription?: string;
  chunkIndex?: number;
  /** The runtime of the current chunk's job ("python", "onnx"). */
  runtime?: JobSpec['runtime'];
  /**
   * Where this thread's last ONNX chunk ran: the execution provider and adapter (`webgpu`, `google swiftshader`).
   * A thread keeps its provider for a model, so a running ONNX chunk is shown with it.
   */
  executionProvider?: string;
  adapter?: string;
  /** When the current chunk started (epoch ms). */
  startedAt?: number;
  /** WebAssembly memory of the thread's worker after its last chunk. */
  memoryBytes?: number;
  /** Workers this thread replaced (memory ceiling, chunk count, crashes are not counted). */
  recycled: number;
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
  /** Time spent computing chunks (paused time excluded), summed over threads. */
  cpuMs: number;
  /** Results the coordinator did not store (lease expired, job cancelled). */
  rejected: number;
  /**
   * Chunks handed back to the coordinator unfinished (released): paused for longer than `pauseGiveBackMs`, Stop
   * pressed, or stopped by the thread for not pausing when told to. Neither a result nor an error.
   */
  givenBack: number;
}

/** Local history only: what this browser has given, over all sessions. */
export interface LifetimeTotals {
  chunks: number;
  cpuMs: number;
}

export interface HistoryStore {
  load(): Promise<LifetimeTotals>;
  save(totals: LifetimeTotals): Promise<void>;
}

export type ContributorState = 'stopped' | 'running' | 'finishing' | 'stopping';

export interface ContributorSnapshot {
  /** `finishing`: no new chunks, running ones end normally, then `stopped`. */
  state: ContributorState;
  /** Why the tab is not computing right now (empty while it may compute). */
  paused: string[];
  threads: ThreadView[];
  totals: ContributorTotals;
  lifetime: LifetimeTotals;
  coordinator: CoordinatorView;
  /** Results finished but not yet accepted by the coordinator (the outbox). */
  unreported: number;
}

/** Per-thread limits, changeable while contributing. */
export interface ThreadLimits {
  /** Percent of one core per thread (100: no limit). */
  cpuLimit: number;
  /** Replace a worker after its chunk when its WebAssembly memory exceeds this. */
  recycleAboveBytes: number;
  /** Replace a worker after this many chunks. */
  recycleAfterChunks: number;
  /** Most bytes a chunk may write under /work/out/. */
  maxOutputBytes: number;
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
  limits?: Partial<ThreadLimits>;
  /** Where finished results wait for the coordinator's answer (default: memory only). */
  outbox?: Outbox;
  /** Fresh directories for chunk workspaces (default: none; the runtime then uses memory). */
  workspaces?: Workspaces;
  history?: HistoryStore;
  /** Asked before each lease request; a returned reason pauses leasing for a minute (e.g. storage almost full). */
  beforeLease?: () => Promise<string | undefined>;
  /** A pause longer than this gives running chunks back to the coordinator (default 10 min). */
  pauseGiveBackMs?: number;
}

export const DEFAULT_LIMITS: ThreadLimits = {
  cpuLimit: 100,
  recycleAboveBytes: 1024 ** 3,
  recycleAfterChunks: 1000,
  maxOutputBytes: 32 * 1024 * 1024,
};

interface Work {
  lease: Lease;
  job: JobSpec;
  startedAt: number;
  /** Set when the lease stopped being ours (cancelled, expired, Stop pressed): the result is dropped, not reported. */
  abandoned: boolean;
  /** Set when the lease was handed back to the coordinator (released) rather than left to lapse. */
  released?: boolean;
}

interface Slot {
  thread: ChunkThread;
  phase: ThreadPhase;
  work?: Work;
  error?: string;
  memoryBytes?: number;
  recycled: number;
  /** runtimeInfo of the thread's last ONNX result. */
  onnx?: { executionProvider?: string; adapter?: string };
  /** Runtime options changed while it ran: replace the worker once its chunk is done. */
  stale?: boolean;
}

interface Pending {
  entry: OutboxEntry;
  bytes: number;
}

/** Most results in one report request, and a soft cap on its size (stdout can be large). */
const REPORT_BATCH_MAX = 64;
const REPORT_BATCH_BYTES = 4 * 1024 * 1024;
const STORAGE_RECHECK_MS = 60_000;
/** Job specs kept besides those of running chunks: enough for the jobs a tab is served round-robin, few enough MiB. */
const SPEC_CACHE_JOBS = 8;
/** How long stop() waits for releases to reach the coordinator and interrupted chunks to unwind. */
const STOP_WAIT_MS = 10_000;

/** Resolves once every promise in `pending` has settled, or after `ms`, whichever is first. */
function settleWithin(pending: Set<Promise<void>>, ms: number): Promise<void> {
  if (pending.size === 0) return Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([Promise.allSettled([...pending]).then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** Resolves every waiter when notified: the lease loop sleeps on it until a thread becomes idle or a pause ends. */
class Wakeup {
  private waiters: (() => void)[] = [];

  /** Resolves on notify, abort, or after `timeoutMs`; a waiter that timed out leaves no listener behind. */
  wait(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
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
 * const contributor = new Contributor({ api: new ContributorClient({ fetch: (url, init) => fetch(url, init), identity: browserIdentityStore() }), createThread, onChange: render });
 * await contributor.restore(); // re-sends results a previous session left in the outbox
 * contributor.start(4);
 * contributor.setPauseReasons(['the computer is running on battery']);
 * await contributor.stop();
 * ```
 */
export class Contributor {
  private readonly slots: Slot[] = [];
  private readonly wakeup = new Wakeup();
  /** Cuts a backoff or no-work wait short (the network came back). */
  private readonly nudged = new Wakeup();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly heartbeatMs: number;
  private readonly reportDelayMs: number;
  private readonly noWorkDelayMs: number;
  private readonly outbox: Outbox;
  private limits: ThreadLimits;

  private state: ContributorState = 'stopped';
  private session?: AbortController;
  private coordinator: CoordinatorView = { state: 'idle' };
  private leaseFailures = 0;
  private totals: ContributorTotals = { done: 0, errors: 0, cpuMs: 0, rejected: 0, givenBack: 0 };
  private lifetime: LifetimeTotals = { chunks: 0, cpuMs: 0 };
  private historyTimer?: ReturnType<typeof setTimeout>;

  private pauses: string[] = [];
  private storagePause?: { reason: string; until: number };
  private giveBackTimer?: ReturnType<typeof setTimeout>;

  private pending: Pending[] = [];
  private reportTimer?: ReturnType<typeof setTimeout>;
  private reporting?: Promise<void>;
  private reportFailures = 0;
  /** Chunks whose result is being prepared (attachments read, outbox write) and not yet in `pending`. */
  private finishing = 0;
  /** Leases whose chunk finished and whose result is not yet acknowledged (prepared, batched or in flight). */
  private readonly unreported = new Set<string>();
  /** Lease releases on their way, and chunks running (or unwinding after an interrupt): stop() waits for both. */
  private readonly releasing = new Set<Promise<void>>();
  private readonly chunks = new Set<Promise<void>>();
  /** Specs of jobs leased lately, least recently leased first; their ids go out as `haveSpecs` with each lease request. */
  private readonly specs = new Map<string, JobSpec>();

  constructor(private readonly options: ContributorOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.reportDelayMs = options.reportDelayMs ?? 100;
    this.noWorkDelayMs = options.noWorkDelayMs ?? 5_000;
    this.outbox = options.outbox ?? memoryOutbox();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  /** Loads lifetime history and re-sends what an earlier session left in the outbox. Call once, at page start. */
  async restore(): Promise<void> {
    if (this.options.history) {
      const saved = await this.options.history.load().catch(() => undefined);
      if (saved) this.lifetime = { chunks: this.lifetime.chunks + saved.chunks, cpuMs: this.lifetime.cpuMs + saved.cpuMs };
    }
    const left = await this.outbox.load();
    const known = new Set(this.pending.map((p) => p.entry.leaseId));
    for (const entry of left) if (!known.has(entry.leaseId)) this.pending.push({ entry, bytes: reportSize(entry) });
    this.emit();
    if (this.pending.length) await this.flushReports();
  }

  /** Starts (or resumes) contributing with `threadCount` threads. Threads already loaded are reused. */
  start(threadCount: number): void {
    if (this.state === 'running') return;
    this.resizeThreads(Math.max(1, Math.floor(threadCount)));
    if (this.state === 'finishing' && this.session) {
      this.state = 'running'; // "finish, then stop" withdrawn before it finished
      this.wakeup.notify();
      this.emit();
      return;
    }
    this.state = 'running';
    this.leaseFailures = 0;
    const session = new AbortController();
    this.session = session;
    void this.leaseLoop(session.signal);
    void this.heartbeatLoop(session.signal);
    this.emit();
  }

  /** Stops leasing, interrupts running chunks (their leases are released: the coordinator re-queues them), reports what finished. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.endSession();
    for (const slot of this.slots) if (slot.work) this.abandon(slot, true);
    this.emit();
    // A process host (the runner) exits after stop(): the coordinator must have the chunks back, and interrupted
    // chunks must have unwound (sandboxes killed, workspaces deleted), before it does. A page loses nothing by waiting.
    await Promise.all([this.flushReports(), settleWithin(this.releasing, STOP_WAIT_MS), settleWithin(this.chunks, STOP_WAIT_MS)]);
    if (this.state !== 'stopping') return; // started again while the last reports went out
    this.state = 'stopped';
    this.coordinator = { state: 'idle' };
    this.emit();
  }

  /** Leases nothing more; running chunks finish and are reported, then the contributor stops. */
  finishThenStop(): void {
    if (this.state !== 'running') return;
    this.state = 'finishing';
    this.emit();
    this.maybeFinished();
  }

  /**
   * Sets the reasons the tab must not compute now (empty: it may). Pausing suspends running chunks in place and
   * stops leasing; resuming continues them.
   */
  setPauseReasons(reasons: string[]): void {
    const was = this.pauseReasons().length > 0;
    this.pauses = [...reasons];
    this.applyPause(was);
  }

  /** Changes per-thread limits; CPU limits apply at once, memory and chunk limits after each thread's next chunk. */
  setLimits(limits: Partial<ThreadLimits>): void {
    this.limits = { ...this.limits, ...limits };
    for (const slot of this.slots) slot.thread.setCpuLimit?.(this.limits.cpuLimit);
  }

  /**
   * Changes the options new workers start with (the "use GPU" setting). Idle threads get a fresh worker now, busy
   * ones after their current chunk.
   */
  setRuntimeOptions(runtimeOptions: RuntimeOptions): void {
    this.options.runtimeOptions = runtimeOptions;
    for (const slot of this.slots) {
      if (slot.work) slot.stale = true;
      else if (slot.phase === 'idle' || slot.phase === 'error') this.restartThread(slot);
    }
  }

  /** The network came back (or the contributor asked): retry the coordinator now instead of at the end of a backoff. */
  nudge(): void {
    this.leaseFailures = 0;
    this.nudged.notify();
    if (this.reportTimer !== undefined && this.pending.length) void this.flushReports();
  }

  /** Terminates every thread; the contributor cannot be used afterwards. */
  dispose(): void {
    this.endSession();
    this.state = 'stopped';
    for (const slot of this.slots.splice(0)) slot.thread.dispose();
    this.saveHistorySoon(0);
  }

  snapshot(): ContributorSnapshot {
    return {
      state: this.state,
      paused: this.state === 'stopped' ? [] : this.pauseReasons(),
      threads: this.slots.map((slot) => ({
        phase: slot.phase,
        jobName: slot.work?.job.name,
        jobDescription: slot.work?.job.description,
        chunkIndex: slot.work?.lease.chunkIndex,
        runtime: slot.work?.job.runtime,
        executionProvider: slot.onnx?.executionProvider,
        adapter: slot.onnx?.adapter,
        startedAt: slot.work?.startedAt,
        memoryBytes: slot.memoryBytes,
        recycled: slot.recycled,
        error: slot.error,
      })),
      totals: { ...this.totals },
      lifetime: { ...this.lifetime },
      coordinator: this.coordinator,
      unreported: this.pending.length + this.finishing,
    };
  }

  /**
   * One lease request for the idle threads, handing out what comes back.
   * Returns how long to wait before the next request (0: ask again as soon as a thread is idle).
   */
  async leaseOnce(): Promise<number> {
    const idleSlots = this.idleSlots();
    const idle = idleSlots.length;
    if (idle === 0 || this.state !== 'running' || this.pauseReasons().length > 0) return 0;
    if (this.options.beforeLease && !(this.storagePause && this.storagePause.until > this.now())) {
      const reason = await this.options.beforeLease().catch(() => undefined);
      this.storagePause = reason ? { reason, until: this.now() + STORAGE_RECHECK_MS } : undefined;
      if (reason) {
        this.applyPause(false);
        return STORAGE_RECHECK_MS;
      }
    }
    let response;
    try {
      // Idle threads with a job loaded ask for more of it: a chunk of another job costs a worker switch.
      const loaded = idleSlots.flatMap((slot) => (slot.thread.loadedJobId ? [slot.thread.loadedJobId] : []));
      // Their finished chunks, whose results are still batched, hold no thread: the job keeps its share.
      response = await this.options.api.lease(idle, [...this.specs.keys()], loaded, [...this.unreported]);
      for (const [jobId, spec] of Object.entries(response.jobs)) this.specs.set(jobId, spec);
      // A spec neither sent nor kept (another client shares this identity, or a cache bug) is fetched on its own.
      for (const jobId of new Set(response.leases.map((lease) => lease.jobId))) {
        if (!this.specs.has(jobId)) this.specs.set(jobId, await this.options.api.jobSpec(jobId));
      }
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
      const job = this.specs.get(lease.jobId);
      // Job affinity: a thread whose worker already runs this job takes it warm; a fresh one next, so a switch
      // (which discards a worker) is the last resort.
      const pick = free.find((s) => s.thread.loadedJobId === lease.jobId) ?? free.find((s) => s.thread.loadedJobId === undefined) ?? free[0];
      if (pick) free.splice(free.indexOf(pick), 1);
      if (job && pick) this.dispatch(pick, lease, job);
      if (job) this.touchSpec(job);
    }
    this.trimSpecs();
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
      // A cancelled job is never leased again: its spec need not be kept.
      if (slot && state === 'cancelled') this.specs.delete(slot.work!.job.id);
      if (slot) this.abandon(slot);
    }
  }

  /** Job ids whose spec the tab holds, least recently leased first (what the next lease request sends as `haveSpecs`). */
  jobsWithSpecs(): string[] {
    return [...this.specs.keys()];
  }

  private touchSpec(job: JobSpec): void {
    this.specs.delete(job.id);
    this.specs.set(job.id, job);
  }

  /** Drops the least recently leased specs beyond SPEC_CACHE_JOBS, keeping those of running chunks. */
  private trimSpecs(): void {
    const running = new Set(this.slots.flatMap((slot) => (slot.work ? [slot.work.job.id] : [])));
    let extra = this.specs.size - SPEC_CACHE_JOBS;
    for (const jobId of this.specs.keys()) {
      if (extra <= 0) break;
      if (running.has(jobId)) continue;
      this.specs.delete(jobId);
      extra--;
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
        this.maybeFinished();
      });
    }
    return this.reporting ?? Promise.resolve();
  }

  private pauseReasons(): string[] {
    const storage = this.storagePause && this.storagePause.until > this.now() ? [this.storagePause.reason] : [];
    return [...this.pauses, ...storage];
  }

  /** Suspends or resumes threads after the pause reasons changed. */
  private applyPause(wasPaused: boolean): void {
    const paused = this.pauseReasons().length > 0;
    if (paused && !wasPaused) {
      for (const slot of this.slots) slot.thread.suspend?.();
      const giveBackMs = this.options.pauseGiveBackMs ?? 10 * 60_000;
      clearTimeout(this.giveBackTimer);
      this.giveBackTimer = setTimeout(() => {
        // Paused for long: let someone else compute these chunks rather than hold their leases.
        for (const slot of this.slots) if (slot.work) this.abandon(slot, true);
      }, giveBackMs);
    } else if (!paused && wasPaused) {
      clearTimeout(this.giveBackTimer);
      for (const slot of this.slots) slot.thread.resume?.();
      this.wakeup.notify();
    }
    this.emit();
  }

  private async sendReports(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = takeBatch(this.pending);
      try {
        for (const { entry } of batch) {
          for (const blob of entry.blobs) await this.options.api.uploadBlob(blob.name, blob.bytes);
        }
        const response = await this.options.api.report(batch.map(({ entry }) => entry.report));
        this.reportFailures = 0;
        this.totals.rejected += response.results.filter((r) => r.outcome === 'rejected').length;
        this.acknowledged(batch);
        await this.outbox.remove(batch.map(({ entry }) => entry.leaseId));
      } catch (error) {
        if (error instanceof ApiError && !error.unreachable) {
          // The coordinator refused the batch itself (malformed, too large); retrying would fail the same way.
          this.totals.rejected += batch.length;
          this.acknowledged(batch);
          await this.outbox.remove(batch.map(({ entry }) => entry.leaseId));
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

  private acknowledged(batch: Pending[]): void {
    for (const { entry } of batch) this.unreported.delete(entry.leaseId);
  }

  private scheduleReport(delayMs: number): void {
    if (this.reportTimer !== undefined) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      void this.flushReports();
    }, delayMs);
  }

  private queueReport(entry: OutboxEntry): void {
    this.pending.push({ entry, bytes: reportSize(entry) });
    // While a request is in flight, sendReports picks the new result up when it returns.
    if (!this.reporting) this.scheduleReport(this.reportDelayMs);
  }

  private async leaseLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.state !== 'running' || this.idleSlots().length === 0 || this.pauseReasons().length > 0) {
        await this.wakeup.wait(signal);
        continue;
      }
      const delay = await this.leaseOnce();
      if (delay > 0) await this.nudged.wait(signal, delay);
    }
  }

  private async heartbeatLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.heartbeatMs, signal);
      if (!signal.aborted) await this.heartbeatOnce();
    }
  }

  private dispatch(slot: Slot, lease: Lease, job: JobSpec): void {
    const work: Work = { lease, job, startedAt: this.now(), abandoned: false };
    slot.work = work;
    slot.phase = 'running';
    this.emit();
    const running = this.runChunk(slot, work);
    this.chunks.add(running);
    void running.finally(() => this.chunks.delete(running));
  }

  private async runChunk(slot: Slot, work: Work): Promise<void> {
    const { workspaces } = this.options;
    const leaseId = work.lease.leaseId;
    let run: ChunkRun;
    try {
      const workspace = await workspaces?.create(leaseId);
      run = await slot.thread.run(work.job, work.lease.input, { workspace, maxOutputBytes: this.limits.maxOutputBytes }, this.servicesFor(work));
    } catch (error) {
      run = { ok: false, failure: 'crash', error: errorText(error), stdout: '', stderr: '', durationMs: this.now() - work.startedAt };
    }
    if (run.ok && run.runtimeInfo?.executionProvider) {
      slot.onnx = { executionProvider: run.runtimeInfo.executionProvider, adapter: run.runtimeInfo.adapter };
    }
    if (!run.ok && run.givenBack && !work.abandoned) {
      // The thread stopped a chunk that would not pause (or keep to its CPU limit): the job is not at fault, so
      // there is no result to report; the chunk goes back to the queue for someone else, or for us after resuming.
      work.abandoned = true;
      this.release(work);
    }
    if (!work.abandoned) {
      this.totals.cpuMs += run.durationMs;
      this.lifetime.cpuMs += run.durationMs;
      if (run.ok) this.totals.done++;
      else this.totals.errors++;
      this.lifetime.chunks++;
      this.saveHistorySoon();
      this.finishing++;
      this.unreported.add(leaseId);
      try {
        const attachments = run.ok && run.files?.length ? await this.attachmentsOf(leaseId, run) : [];
        const report = toReport(work.lease, run, attachments);
        const entry: OutboxEntry = { leaseId, report, blobs: attachments.map((a) => ({ name: a.sha256, bytes: a.bytes })), finishedAt: this.now() };
        await this.outbox.put(entry);
        this.queueReport(entry);
      } catch (error) {
        const failed = toReport(work.lease, { ok: false, failure: 'crash', error: `could not read the chunk's files: ${errorText(error)}`, stdout: '', stderr: '', durationMs: run.durationMs });
        const entry: OutboxEntry = { leaseId, report: failed, blobs: [], finishedAt: this.now() };
        await this.outbox.put(entry);
        this.queueReport(entry);
      } finally {
        this.finishing--;
      }
    }
    await workspaces?.remove(leaseId);
    if (slot.work === work) slot.work = undefined;
    if (this.slots.includes(slot) && slot.stale) this.restartThread(slot);
    else if (this.slots.includes(slot)) await this.recycleIfDue(slot);
    if (this.slots.includes(slot) && (slot.phase === 'running' || slot.phase === 'stopping')) slot.phase = 'idle';
    this.emit();
    this.wakeup.notify();
    this.maybeFinished();
  }

  /** Checkpoint services for a chunk, when the coordinator client offers them (the tab's does, its threads ignore them). */
  private servicesFor(work: Work): ChunkServices | undefined {
    const { api } = this.options;
    if (!api.downloadBlob || !api.saveCheckpoint) return undefined;
    const ref = { leaseId: work.lease.leaseId, leaseToken: work.lease.leaseToken };
    return {
      checkpoint: work.lease.checkpoint,
      downloadBlob: (name) => api.downloadBlob!(name),
      saveCheckpoint: async (files) => {
        if (work.abandoned) return; // the lease is no longer ours: its chunk's checkpoint is not ours to replace
        await api.saveCheckpoint!(ref, files);
      },
    };
  }

  private async attachmentsOf(leaseId: string, run: ChunkRun): Promise<AttachmentData[]> {
    const files = run.files ?? [];
    const bytes = files.every((file) => file.bytes)
      ? files.map((file) => file.bytes!)
      : await this.options.workspaces!.read(leaseId, files);
    return toAttachments(files, bytes);
  }

  private async recycleIfDue(slot: Slot): Promise<void> {
    const { thread } = slot;
    if (!thread.recycle) return;
    const bytes = thread.memoryBytes ? await Promise.resolve(thread.memoryBytes()).catch(() => 0) : 0;
    slot.memoryBytes = bytes || undefined;
    const tooLarge = bytes > this.limits.recycleAboveBytes;
    const tooOld = (thread.chunksRun ?? 0) >= this.limits.recycleAfterChunks;
    if (!tooLarge && !tooOld) return;
    slot.phase = 'loading';
    this.emit();
    try {
      await thread.recycle();
      slot.recycled++;
      slot.memoryBytes = undefined;
      slot.phase = 'idle';
      thread.setCpuLimit?.(this.limits.cpuLimit);
      if (this.pauseReasons().length > 0) thread.suspend?.();
    } catch (error) {
      slot.phase = 'error';
      slot.error = errorText(error);
    }
  }

  /** Drops the slot's chunk; with `release`, hands its lease back so the coordinator re-queues the chunk at once. */
  private abandon(slot: Slot, release = false): void {
    if (!slot.work || slot.work.abandoned) return;
    slot.work.abandoned = true;
    slot.phase = 'stopping';
    if (release) this.release(slot.work);
    slot.thread.interrupt();
    this.emit();
  }

  /** Releases a lease (best effort: one that cannot be released lapses at its deadline instead). */
  private release(work: Work): void {
    if (work.released) return;
    work.released = true;
    this.totals.givenBack++;
    const { leaseId, leaseToken } = work.lease;
    const releasing = this.options.api.release({ leaseId, leaseToken }).then(() => undefined, () => undefined);
    this.releasing.add(releasing);
    void releasing.finally(() => this.releasing.delete(releasing));
  }

  /** In `finishing`, once no chunk runs and every result is out: stopped. */
  private maybeFinished(): void {
    if (this.state !== 'finishing') return;
    // Results still queued go out on their own schedule (batching, backoff); the last report lands here again.
    if (this.slots.some((slot) => slot.work) || this.finishing > 0 || this.pending.length > 0 || this.reporting) return;
    this.endSession();
    this.state = 'stopped';
    this.coordinator = { state: 'idle' };
    this.emit();
  }

  private endSession(): void {
    this.session?.abort();
    this.session = undefined;
    clearTimeout(this.giveBackTimer);
  }

  private idleSlots(): Slot[] {
    return this.slots.filter((slot) => slot.phase === 'idle');
  }

  /** Brings the pool to `count` threads: drops failed and surplus threads, spawns missing ones. */
  private resizeThreads(count: number): void {
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const slot = this.slots[i];
      if (slot.phase === 'error' || (this.slots.length > count && !slot.work)) {
        this.slots.splice(i, 1);
        slot.thread.dispose();
      }
    }
    while (this.slots.length < count) this.spawn();
  }

  private spawn(): void {
    const slot: Slot = { thread: this.options.createThread(), phase: 'loading', recycled: 0 };
    this.slots.push(slot);
    this.startThread(slot);
  }

  /** Replaces the slot's worker with one started with the current runtime options. */
  private restartThread(slot: Slot): void {
    slot.thread.dispose();
    slot.thread = this.options.createThread();
    slot.phase = 'loading';
    slot.stale = false;
    slot.onnx = undefined;
    slot.error = undefined;
    slot.memoryBytes = undefined;
    this.emit();
    this.startThread(slot);
  }

  private startThread(slot: Slot): void {
    const thread = slot.thread;
    thread.start(this.options.runtimeOptions ?? {}).then(
      () => {
        if (slot.thread !== thread || slot.phase !== 'loading') return;
        slot.thread.setCpuLimit?.(this.limits.cpuLimit);
        if (this.pauseReasons().length > 0) slot.thread.suspend?.();
        slot.phase = 'idle';
        this.emit();
        this.wakeup.notify();
      },
      (error: unknown) => {
        if (slot.thread !== thread) return;
        slot.phase = 'error';
        slot.error = errorText(error);
        this.emit();
      },
    );
  }

  private saveHistorySoon(delayMs = 2_000): void {
    const history = this.options.history;
    if (!history) return;
    clearTimeout(this.historyTimer);
    this.historyTimer = setTimeout(() => void history.save({ ...this.lifetime }).catch(() => undefined), delayMs);
  }

  private emit(): void {
    this.options.onChange?.(this.snapshot());
  }
}

function reportSize(entry: OutboxEntry): number {
  return JSON.stringify(entry.report).length;
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
export function toReport(lease: Lease, run: ChunkRun, attachments: Pick<AttachmentData, 'name' | 'sha256' | 'size'>[] = []): ResultReport {
  const base = {
    leaseId: lease.leaseId,
    leaseToken: lease.leaseToken,
    durationMs: Math.max(0, run.durationMs),
    ...(run.stdout ? { stdout: run.stdout } : {}),
    ...(run.stderr ? { stderr: run.stderr } : {}),
  };
  const info = Object.entries(run.runtimeInfo ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  if (info.length) Object.assign(base, { runtimeInfo: Object.fromEntries(info) });
  if (!run.ok) return { ...base, status: 'error', error: run.error, failure: run.failure };
  return {
    ...base,
    status: 'ok',
    output: run.output,
    ...(attachments.length ? { attachments: attachments.map(({ name, sha256, size }) => ({ name, sha256, size })) } : {}),
  };
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
      return `running ${view.jobName ?? 'job'} chunk ${view.chunkIndex ?? '?'}${view.runtime === 'onnx' ? onProvider(view) : ''}`;
    case 'stopping':
      return `stopping ${view.jobName ?? 'job'} chunk ${view.chunkIndex ?? '?'}`;
    case 'error':
      return `error: ${view.error ?? 'unknown'}`;
  }
}

/** " on webgpu (google swiftshader)" for a thread whose ONNX provider is known, else "". */
export function onProvider(view: Pick<ThreadView, 'executionProvider' | 'adapter'>): string {
  if (!view.executionProvider) return '';
  return ` on ${view.executionProvider}${view.adapter && view.adapter !== 'cpu' ? ` (${view.adapter})` : ''}`;
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
