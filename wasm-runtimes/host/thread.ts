// RuntimeThread: the host side of one runtime worker. It owns the worker's life (spawn, restart, terminate), runs
// chunks one at a time and enforces the job's timeout: first a SIGINT through the shared control block, then,
// if the worker does not answer, termination and a fresh worker. Through the same block it suspends and resumes
// running chunks and holds them to a CPU limit; time spent paused does not count against the timeout,
// as far as the host's own record of its pauses and CPU limit allows (the worker's figure is capped by it).
// Pause and the CPU limit are the host's decisions, checked by its own clock (the watchdog): a chunk that is not
// parked within `parkWithinMs` of suspend(), or that runs `cpuDebtMs` ahead of its CPU limit, loses its worker and
// is given back (ChunkRun.givenBack), whatever its code did to the poll that is meant to park it.
// One job per worker: a worker's interpreter never runs chunks of two different jobs (a job could leave code behind
// that reads or rewrites the next job's chunks). A chunk of another job discards the worker and takes the standby,
// a worker booted in the background, already initialised, so the switch does not wait for the runtime to load.
// Transport-agnostic: `spawn` supplies the worker.
import * as Comlink from 'comlink';
import type { JobSpec } from '../../protocol/index.js';
import { CONTROL_SLOTS, Control, type ChunkContext, type ChunkRun, type ChunkRuntime, type RuntimeOptions } from '../runtime.js';
import { canShareMemory } from '../python/environment.js';

/** A started worker, as a spawn factory hands it over (see spawnNodePythonWorker, spawnBrowserPythonWorker). */
export interface SpawnedWorker {
  endpoint: Comlink.Endpoint;
  terminate(): void;
  /** Settles when the worker dies on its own (with a reason); lets a dead worker be reported as a crash at once. */
  exited?: Promise<string>;
}

export interface RuntimeThreadOptions {
  /** How long an interrupted chunk may take to stop before its worker is terminated (default 2000 ms). */
  graceMs?: number;
  /** Interrupt through a SharedArrayBuffer (default: when the environment can share memory with workers). */
  interruptBuffer?: boolean;
  /**
   * Keep one initialised worker in reserve for the next job switch, crash or recycle (default true). Costs one more
   * runtime's memory per thread; without it a job switch waits for a fresh worker to load.
   */
  standby?: boolean;
  /**
   * Enforce pause and the CPU limit from the host's clock (default true): see `parkWithinMs` and `cpuDebtMs`. Off
   * only for runtimes that run no user code (ONNX), whose long native calls cannot park and need not.
   */
  watchdog?: boolean;
  /** How long after suspend() a running chunk may take to park before its worker is replaced (default 1000 ms). */
  parkWithinMs?: number;
  /**
   * How far a chunk may fall behind the sleep its CPU limit calls for (the limit's share of wall time spent
   * computing its own code) before its worker is replaced (default 1000 ms: a spinning chunk at 50% goes within 2 s).
   */
  cpuDebtMs?: number;
}

/** A worker's remote seen as having ChunkRuntime.park (one that has not rejects the call: harmless). */
type Parkable = { park(): Promise<void> };

/** How often the watchdog looks at a running chunk. */
const WATCH_TICK_MS = 100;

/** Python's SIGINT number, written into the interrupt buffer to raise KeyboardInterrupt. */
const SIGINT = 2;

interface Live {
  handle: SpawnedWorker;
  remote: Comlink.Remote<ChunkRuntime>;
  dead: boolean;
  /** The job whose chunks this worker runs; set by its first chunk. No other job's chunk ever runs on it. */
  jobId?: string;
  /** Set while a chunk runs: told when the worker dies on its own. One slot, so long sessions keep no listeners. */
  onExit?: (reason: string) => void;
}

type Failure = Extract<ChunkRun, { ok: false }>;
/** Stops the chunk in progress; `failure` is what its run resolves with. */
type Stop = (failure: Pick<Failure, 'failure' | 'error'>, resolveNow: boolean) => void;

/**
 * @example
 * const thread = new RuntimeThread(spawnNodePythonWorker);
 * await thread.start({});
 * const run = await thread.run(job, 21); // { ok: true, output: 42, ... } or { ok: false, failure: 'timeout', ... }
 * thread.dispose();
 */
export class RuntimeThread {
  private options?: RuntimeOptions;
  private interruptBuffer?: Int32Array;
  private worker?: Promise<Live>;
  /** An initialised worker that has run nothing, taken on a job switch, crash or recycle. */
  private standby?: Promise<Live>;
  /** Job switches served by the standby / by a worker booted on the spot (for tests and benches). */
  private switches = { warm: 0, cold: 0 };
  private tail: Promise<void> = Promise.resolve();
  private stopCurrent?: Stop;
  private disposed = false;
  /** Chunks run by the current worker, for recycling after a number of chunks. */
  private chunksOnWorker = 0;
  /** Mirrors the current worker's jobId (readable without awaiting the worker). */
  private loadedJob?: string;
  /** A run() is waiting for its worker; an interrupt() meanwhile is kept for it. */
  private waiting = false;
  private pendingInterrupt?: string;
  /** The host's own record of what it asked for, against which the worker-written pausedMs is capped. */
  private cpuLimit = 100;
  private suspendedAt?: number;
  private suspendedMs = 0;
  private idleCheck?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly spawn: () => SpawnedWorker,
    private readonly threadOptions: RuntimeThreadOptions = {},
  ) {}

  /** Spawns the worker and loads the runtime; resolves when the first chunk can run. */
  async start(options: RuntimeOptions = {}): Promise<void> {
    this.options = options;
    if (this.threadOptions.interruptBuffer ?? canShareMemory()) {
      this.interruptBuffer = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
      Atomics.store(this.interruptBuffer, Control.cpuLimit, 100);
    }
    await this.ensureWorker();
  }

  /**
   * Runs one chunk; chunks queue behind each other. Resolves with the chunk's ChunkRun (user errors, timeouts and
   * crashes included). Rejects only when no runtime can be started, or after dispose().
   */
  async run(job: JobSpec, input: unknown, context?: ChunkContext): Promise<ChunkRun> {
    const release = await this.lock();
    this.waiting = true;
    this.pendingInterrupt = undefined;
    try {
      let live = await this.ensureWorker();
      if (live.jobId !== undefined && live.jobId !== job.id) {
        // Another job's worker: it may hold that job's leftovers, so it goes, whatever state it is in.
        const warm = this.standby !== undefined;
        this.replaceWorker(live);
        live = await this.ensureWorker();
        this.switches[warm ? 'warm' : 'cold']++;
      }
      live.jobId = job.id;
      this.loadedJob = job.id;
      this.fillStandby();
      this.chunksOnWorker++;
      this.waiting = false;
      const running = this.attempt(live, job, input, context, release);
      if (this.pendingInterrupt !== undefined) this.interrupt(this.pendingInterrupt);
      this.pendingInterrupt = undefined;
      return await running;
    } catch (err) {
      this.waiting = false;
      release();
      throw err;
    }
  }

  /** Stops the chunk in progress now (for example its job was cancelled); its run resolves with a failure. */
  interrupt(message = 'interrupted by the host'): void {
    if (this.stopCurrent) this.stopCurrent({ failure: 'timeout', error: message }, true);
    // A chunk still waiting for its worker (a job switch) is stopped as soon as it starts.
    else if (this.waiting) this.pendingInterrupt = message;
  }

  /**
   * Suspends the running chunk (and any that starts) where it stands, without using CPU, until resume().
   * Returns false when this environment cannot share memory with the worker (chunks then run to their end).
   */
  suspend(): boolean {
    if (!this.interruptBuffer) return false;
    this.suspendedAt ??= performance.now();
    Atomics.store(this.interruptBuffer, Control.paused, 1);
    if (this.watching) {
      // A worker between chunks, or awaiting I/O inside one, parks on this call (its event loop then runs nothing,
      // not even a timer a chunk left behind); one computing parks in its poll. The call returns on resume().
      const worker = this.worker;
      void worker?.then((live) => (live.dead ? undefined : (live.remote as unknown as Parkable).park()), () => undefined).catch(() => undefined);
      clearTimeout(this.idleCheck);
      this.idleCheck = setTimeout(() => this.checkIdleParked(worker), this.parkWithinMs);
    }
    return true;
  }

  resume(): void {
    if (!this.interruptBuffer) return;
    clearTimeout(this.idleCheck);
    if (this.suspendedAt !== undefined) this.suspendedMs += performance.now() - this.suspendedAt;
    this.suspendedAt = undefined;
    Atomics.store(this.interruptBuffer, Control.paused, 0);
    Atomics.notify(this.interruptBuffer, Control.paused);
  }

  private get watching(): boolean {
    return this.interruptBuffer !== undefined && this.threadOptions.watchdog !== false;
  }

  private get parkWithinMs(): number {
    return this.threadOptions.parkWithinMs ?? 1000;
  }

  /**
   * A suspended thread with no chunk running whose worker has run user code, and is still not parked: something the
   * chunk left behind keeps the worker busy. It is replaced (a chunk that is running is the attempt's watchdog's).
   */
  private checkIdleParked(worker: Promise<Live> | undefined): void {
    const buffer = this.interruptBuffer;
    if (!buffer || this.suspendedAt === undefined || this.stopCurrent || this.waiting || worker !== this.worker || !worker) return;
    void worker.then((live) => {
      if (live.dead || live.jobId === undefined || this.worker !== worker || this.stopCurrent || this.suspendedAt === undefined) return;
      if (Atomics.load(buffer, Control.parked) !== 1) this.replaceWorker(live);
    }, () => undefined);
  }

  /** Milliseconds this thread has been held suspended up to `now`, by the host's own clock. */
  private hostPausedMs(now: number): number {
    return this.suspendedMs + (this.suspendedAt !== undefined ? now - this.suspendedAt : 0);
  }

  /** Holds chunks to `percent` of one core's time (1..100), by a run/pause duty cycle inside the worker. */
  setCpuLimit(percent: number): void {
    if (!this.interruptBuffer) return;
    this.cpuLimit = Math.min(100, Math.max(1, Math.round(percent)));
    Atomics.store(this.interruptBuffer, Control.cpuLimit, this.cpuLimit);
    Atomics.notify(this.interruptBuffer, Control.paused);
  }

  /** The job the current worker has run chunks of (undefined: a fresh worker, any job may take it). */
  get loadedJobId(): string | undefined {
    return this.loadedJob;
  }

  /** Job switches so far, split by whether the standby served them. */
  get jobSwitches(): { warm: number; cold: number } {
    return { ...this.switches };
  }

  /** Chunks started on the current worker (0 after a recycle or restart). */
  get chunksRun(): number {
    return this.chunksOnWorker;
  }

  /** Bytes of WebAssembly memory the runtime uses (0 while none is started). */
  async memoryBytes(): Promise<number> {
    const live = await this.worker?.catch(() => undefined);
    return live && !live.dead ? live.remote.memoryBytes() : 0;
  }

  /** Replaces the worker with a fresh one (after the current chunk), for example when memory grew too large. */
  async recycle(): Promise<void> {
    const release = await this.lock();
    try {
      this.replaceWorker(this.worker ? await this.worker.catch(() => undefined) : undefined);
      await this.ensureWorker();
    } finally {
      release();
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.idleCheck);
    this.stopCurrent?.({ failure: 'crash', error: 'the runtime thread was disposed' }, true);
    for (const worker of [this.worker, this.standby]) worker?.then((live) => this.kill(live), () => undefined);
    this.worker = undefined;
    this.standby = undefined;
  }

  /** Kills `live` and puts the standby (or a worker booting now) in its place; the next chunk awaits it. */
  private replaceWorker(live: Live | undefined): void {
    this.kill(live);
    // The block outlives its workers: one killed while parked must not leave its acknowledgement to the next.
    this.clearAcknowledgements();
    this.chunksOnWorker = 0;
    this.loadedJob = undefined;
    if (this.disposed) {
      this.worker = undefined;
      return;
    }
    this.worker = this.standby ?? this.boot();
    this.standby = undefined;
    this.worker.catch(() => undefined); // a failed start is reported by the next run
  }

  /** Boots a standby in the background when there is none; a failed one is dropped and tried again next chunk. */
  private fillStandby(): void {
    if (this.disposed || this.standby || this.threadOptions.standby === false) return;
    const standby = this.boot();
    this.standby = standby;
    standby.then(
      (live) => {
        // Died while waiting: boot another next time.
        live.handle.exited?.then(() => {
          if (this.standby === standby) this.standby = undefined;
        });
      },
      () => {
        if (this.standby === standby) this.standby = undefined;
      },
    );
  }

  private attempt(live: Live, job: JobSpec, input: unknown, context: ChunkContext | undefined, release: () => void): Promise<ChunkRun> {
    const started = performance.now();
    const buffer = this.interruptBuffer;
    if (buffer) {
      Atomics.store(buffer, Control.signal, 0); // a late interrupt meant for the previous chunk must not hit this one
      this.clearAcknowledgements();
    }
    const pausedAtStart = buffer ? Atomics.load(buffer, Control.pausedMs) : 0;
    const hostPausedAtStart = this.hostPausedMs(started);
    let lowestLimit = this.cpuLimit;
    // The worker writes pausedMs, so it is never believed beyond what the host itself asked for: the time it held
    // the thread suspended (by its own clock) plus the sleep its CPU limit calls for. A worker that inflates the
    // number cannot stretch its timeout past that.
    const pausedSoFar = () => {
      if (!buffer) return 0;
      const now = performance.now();
      lowestLimit = Math.min(lowestLimit, this.cpuLimit);
      const allowed = this.hostPausedMs(now) - hostPausedAtStart + ((now - started) * (100 - lowestLimit)) / 100;
      return Math.max(0, Math.min(Atomics.load(buffer, Control.pausedMs) - pausedAtStart, allowed));
    };
    return new Promise<ChunkRun>((resolve) => {
      let resolved = false;
      let over = false; // the worker answered, or was replaced: later events about this attempt are stale
      let stopped: Pick<Failure, 'failure' | 'error'> | undefined;
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      const failed = (f: Pick<Failure, 'failure' | 'error' | 'givenBack'>): ChunkRun => ({
        ok: false, ...f, stdout: '', stderr: '', durationMs: performance.now() - started,
      });
      const settle = (run: ChunkRun) => {
        if (!resolved) {
          resolved = true;
          const pausedMs = pausedSoFar();
          resolve(pausedMs > 0 ? { ...run, pausedMs, durationMs: Math.max(0, run.durationMs - pausedMs) } : run);
        }
      };
      // The worker is free again (answered, or replaced): the next chunk may go.
      const done = () => {
        over = true;
        live.onExit = undefined;
        clearTimeout(timeoutTimer);
        clearTimeout(graceTimer);
        clearInterval(watchTimer);
        if (this.stopCurrent === stop) this.stopCurrent = undefined;
        release();
      };
      const replace = (failure: Pick<Failure, 'failure' | 'error' | 'givenBack'>) => {
        this.replaceWorker(live); // restart now (or take the standby), so the next chunk does not wait for it
        settle(failed(failure));
        done();
      };
      const stop: Stop = (failure, resolveNow) => {
        if (stopped) return;
        stopped = failure;
        if (resolveNow) settle(failed(failure));
        if (buffer && !live.dead && !this.disposed) {
          Atomics.store(buffer, Control.signal, SIGINT);
          Atomics.notify(buffer, Control.paused); // a suspended chunk wakes up to be stopped
          graceTimer = setTimeout(() => replace(failure), this.threadOptions.graceMs ?? 2000);
        } else {
          replace(failure);
        }
      };
      this.stopCurrent = stop;
      // The timeout counts computing time only: a chunk that was paused gets its paused time back.
      let timeoutTimer: ReturnType<typeof setTimeout>;
      const armTimeout = (ms: number) => {
        timeoutTimer = setTimeout(() => {
          const left = job.timeoutMs - (performance.now() - started - pausedSoFar());
          if (left > 5) return armTimeout(left);
          if (buffer && Atomics.load(buffer, Control.paused) === 1) return armTimeout(1000); // suspended: not its fault
          stop({ failure: 'timeout', error: `timed out after ${job.timeoutMs} ms` }, false);
        }, ms);
      };
      armTimeout(job.timeoutMs);
      const watchTimer = buffer && this.watching ? setInterval(() => watch(buffer), WATCH_TICK_MS) : undefined;
      // The watchdog: the host's own clock against what the worker's runtime code acknowledges in the control block.
      let lastTick = started;
      let lastSlept = buffer ? Atomics.load(buffer, Control.pausedMs) : 0;
      let unparkedSince: number | undefined;
      let debt = 0;
      const watch = (block: Int32Array) => {
        if (over || stopped) return;
        const now = performance.now();
        const wall = now - lastTick;
        const slept = Atomics.load(block, Control.pausedMs);
        const sleptNow = slept - lastSlept;
        lastTick = now;
        lastSlept = slept;
        const giveBack = (why: string) => {
          stopped = { failure: 'crash', error: why };
          replace({ failure: 'crash', error: why, givenBack: true });
        };
        if (this.suspendedAt !== undefined) {
          if (Atomics.load(block, Control.parked) === 1) unparkedSince = undefined;
          else unparkedSince ??= Math.max(this.suspendedAt, started);
          if (unparkedSince !== undefined && now - unparkedSince > this.parkWithinMs) {
            giveBack(`the chunk did not pause within ${this.parkWithinMs} ms; its worker was replaced and the chunk given back`);
          }
          return;
        }
        unparkedSince = undefined;
        if (this.cpuLimit >= 100) {
          debt = 0;
          return;
        }
        // While it computes its own code, a chunk owes sleep at the limit's share of wall time; what it sleeps pays.
        if (Atomics.load(block, Control.computing) === 1) debt += (wall * (100 - this.cpuLimit)) / 100;
        debt = Math.max(-WATCH_TICK_MS, debt - sleptNow);
        const allowed = this.threadOptions.cpuDebtMs ?? 1000;
        if (debt > allowed) {
          giveBack(`the chunk ran ${Math.round(debt)} ms ahead of its ${this.cpuLimit}% CPU limit; its worker was replaced and the chunk given back`);
        }
      };
      live.remote.run(job, input, context).then(
        (run) => {
          if (over) return;
          if (stopped && !run.ok && run.failure === 'timeout') run = { ...run, ...stopped };
          if (!run.ok && run.failure === 'crash') {
            // The runtime says it can no longer be trusted: report, then start afresh.
            replace({ failure: 'crash', error: run.error });
            return;
          }
          settle(run);
          done();
        },
        (err: unknown) => {
          if (!over) replace({ failure: 'crash', error: `the runtime worker failed: ${describe(err)}` });
        },
      );
      live.onExit = (reason) => {
        if (!over) replace({ failure: 'crash', error: `the runtime worker died: ${reason}` });
      };
    });
  }

  /** A promise lock: resolves with the release function once every earlier holder has released. */
  private async lock(): Promise<() => void> {
    if (this.disposed) throw new Error('RuntimeThread is disposed');
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await previous;
    if (this.disposed) {
      release();
      throw new Error('RuntimeThread is disposed');
    }
    return release;
  }

  private async ensureWorker(): Promise<Live> {
    if (this.disposed) throw new Error('RuntimeThread is disposed');
    if (!this.options) throw new Error('RuntimeThread.start() was not called');
    this.worker ??= this.boot();
    const worker = this.worker;
    try {
      const live = await worker;
      if (!live.dead) return live;
    } catch (err) {
      if (this.worker === worker) this.worker = undefined;
      throw err;
    }
    if (this.worker === worker) this.worker = undefined;
    return this.ensureWorker();
  }

  /** Staged start of one worker: spawn → load the runtime → hand it the interrupt buffer. */
  private async boot(): Promise<Live> {
    const handle = this.spawn();
    const live: Live = { handle, remote: Comlink.wrap<ChunkRuntime>(handle.endpoint), dead: false };
    handle.exited?.then((reason) => {
      live.dead = true;
      live.onExit?.(reason);
    });
    try {
      const died = handle.exited?.then((reason) => Promise.reject(new Error(`the runtime worker died while starting: ${reason}`)));
      await Promise.race([live.remote.initialize(this.options ?? {}), ...(died ? [died] : [])]);
      if (this.interruptBuffer) {
        // The signal slot is not cleared here: a standby boots while another worker's chunk may be being stopped.
        // Each chunk clears a stale signal itself when it starts (attempt()).
        await live.remote.setInterruptBuffer(this.interruptBuffer.buffer as SharedArrayBuffer);
      }
    } catch (err) {
      this.kill(live);
      throw err;
    }
    return live;
  }

  private kill(live: Live | undefined): void {
    if (!live || live.dead) return;
    live.dead = true;
    live.handle.terminate();
  }

  /** Clears what a worker writes (parked, computing) before another worker, or another chunk, answers for itself. */
  private clearAcknowledgements(): void {
    if (!this.interruptBuffer) return;
    Atomics.store(this.interruptBuffer, Control.parked, 0);
    Atomics.store(this.interruptBuffer, Control.computing, 0);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
