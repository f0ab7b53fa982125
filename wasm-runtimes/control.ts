// The runtime side of the control block a host shares with its worker (layout: `Control` in runtime.ts): suspending
// a running chunk and holding it to a CPU limit, both by blocking the worker thread in Atomics.wait, which costs no
// CPU. The blocking happens inside the poll Pyodide makes of its interrupt buffer, so nothing the chunk's code can
// change (Python signal handlers included) plays a part; a chunk that stops the poll altogether (a long C call, a
// detached buffer) is caught by the host's watchdog instead (RuntimeThread, host/thread.ts), which replaces the worker.
import { Control } from './runtime.js';

// The block lives in the realm user code runs in, so it is kept where no chunk can reach it: a private field, read
// only through Atomics functions (and a clock) captured when this module loads, before any chunk. A chunk that
// replaced `Atomics.load` or the typed-array `length` getter would otherwise be handed the writable block.
const { load, exchange, add, wait, store } = globalThis.Atomics;
const Atomics = Object.freeze({ load, exchange, add, wait, store });
const clock = globalThis.performance;
const now = clock.now.bind(clock);
const performance = Object.freeze({ now });

/** How long a throttled runtime computes before it sleeps its share (run/pause duty cycle). */
export const SLICE_MS = 100;
/** Longest single throttling sleep, so a changed limit takes effect soon. */
const MAX_SLEEP_MS = 5_000;
/** Longest single Atomics.wait: pausedMs is brought up to date at least this often while blocked. */
const WAIT_STEP_MS = 100;

export class RuntimeControl {
  readonly #block: Int32Array;
  #sliceStart = performance.now();

  /** The block's length, read once: `length` is a prototype getter a chunk could replace. */
  readonly #slots: number;

  constructor(block: Int32Array) {
    this.#block = block;
    this.#slots = block.length;
  }

  /**
   * What Pyodide polls as its "interrupt buffer" (`[0]` read, then cleared): the host's signal if there is one.
   * Reading it is also where a chunk is suspended or throttled: the read blocks until the host lets it go on.
   * Pyodide reads `[0]` every few dozen bytecode checks, so this is the worker's own metronome: page timers, which
   * browsers throttle in background tabs, play no part. The object exposes no way back to the control block.
   */
  readonly signals: ArrayLike<number> & { 0: number } = (() => {
    const poll = () => this.poll();
    return Object.freeze({
      length: 1,
      get 0(): number {
        return poll();
      },
      set 0(_value: number) {
        // Cleared by poll() itself (atomically), so a host signal written meanwhile is never lost.
      },
    });
  })();

  /** Starts a fresh compute slice (at the start of each chunk). */
  startSlice(): void {
    this.#sliceStart = performance.now();
  }

  /**
   * The host's signal (0 for none), after blocking for as long as the host holds the chunk: while it is suspended,
   * and for the sleep its CPU limit calls for once its compute slice is used up.
   */
  poll(): number {
    const block = this.#block;
    const signal = Atomics.exchange(block, Control.signal, 0);
    if (signal || this.#slots <= Control.parked) return signal;
    if (Atomics.load(block, Control.paused) === 1) {
      this.hold(0);
    } else {
      const limit = Atomics.load(block, Control.cpuLimit);
      const ran = performance.now() - this.#sliceStart;
      if (limit > 0 && limit < 100 && ran >= SLICE_MS) {
        this.hold(Math.min(MAX_SLEEP_MS, (ran * (100 - limit)) / limit));
        Atomics.add(block, Control.throttles, 1);
      }
    }
    return Atomics.exchange(block, Control.signal, 0);
  }

  /** Blocks while the host holds this worker suspended (see ChunkRuntime.park); returns at once otherwise. */
  park(): void {
    if (this.#slots > Control.parked && Atomics.load(this.#block, Control.paused) === 1) this.hold(0);
  }

  /** Marks the computing/not-computing phases of a chunk (Control.computing): the host charges CPU time to the former. */
  computing(on: boolean): void {
    if (this.#slots > Control.computing) Atomics.store(this.#block, Control.computing, on ? 1 : 0);
  }

  /**
   * Blocks the calling thread: first `sleepMs` (the CPU limit's share), then for as long as the host keeps it
   * suspended. Returns early when the host raises a signal (to stop the chunk), or lifts the limit.
   */
  private hold(sleepMs: number): void {
    const block = this.#block;
    Atomics.store(block, Control.parked, 1);
    const start = performance.now();
    const until = start + sleepMs;
    let credited = 0;
    const account = () => {
      const now = performance.now();
      const total = Math.round(now - start);
      Atomics.add(block, Control.pausedMs, total - credited);
      credited = total;
      return now;
    };
    try {
      for (let now = start; now < until; now = account()) {
        if (Atomics.load(block, Control.signal) !== 0 || Atomics.load(block, Control.paused) === 1) break;
        if (Atomics.load(block, Control.cpuLimit) >= 100) break;
        Atomics.wait(block, Control.paused, 0, Math.min(WAIT_STEP_MS, until - now));
      }
      while (Atomics.load(block, Control.paused) === 1 && Atomics.load(block, Control.signal) === 0) {
        Atomics.wait(block, Control.paused, 1, WAIT_STEP_MS);
        account();
      }
      account();
    } finally {
      Atomics.store(block, Control.parked, 0);
      this.#sliceStart = performance.now();
    }
  }
}
