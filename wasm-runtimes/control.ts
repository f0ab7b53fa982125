// The runtime side of the control block a host shares with its worker (layout: `Control` in runtime.ts): suspending
// a running chunk and holding it to a CPU limit, both by blocking the worker thread in Atomics.wait, which costs no
// CPU. The host side is RuntimeThread (host/thread.ts).
import { Control } from './runtime.js';

/** The signal a runtime raises to call `pause()` from inside user code (Python: SIGUSR1). */
export const PAUSE_SIGNAL = 10;
/** How long a throttled runtime computes before it sleeps its share (run/pause duty cycle). */
export const SLICE_MS = 100;
/** Longest single throttling sleep, so a changed limit takes effect soon. */
const MAX_SLEEP_MS = 5_000;

export class RuntimeControl {
  private sliceStart = performance.now();
  /** Set once PAUSE_SIGNAL was handed out, until pause() ran: the handler itself must not be re-entered. */
  private pausePending = false;

  constructor(readonly block: Int32Array) {}

  /**
   * What Pyodide polls as its "interrupt buffer" (`[0]` read, then cleared): the host's signal if there is one, else
   * PAUSE_SIGNAL when the chunk should pause (suspended, or its compute slice under a CPU limit is used up).
   * Pyodide reads `[0]` every few dozen bytecode checks, so this is the worker's own metronome: page timers, which
   * browsers throttle in background tabs, play no part.
   */
  readonly signals: ArrayLike<number> & { 0: number } = (() => {
    const control = this;
    return {
      length: 1,
      get 0(): number {
        return control.poll();
      },
      set 0(_value: number) {
        // Cleared by poll() itself (atomically), so a host signal written meanwhile is never lost.
      },
    };
  })();

  /** Starts a fresh compute slice (at the start of each chunk). */
  startSlice(): void {
    this.sliceStart = performance.now();
    this.pausePending = false;
  }

  poll(): number {
    const block = this.block;
    const signal = block.length > Control.signal ? Atomics.exchange(block, Control.signal, 0) : 0;
    if (signal) return signal;
    if (block.length <= Control.cpuLimit || this.pausePending) return 0;
    const limit = Atomics.load(block, Control.cpuLimit);
    const due =
      Atomics.load(block, Control.paused) === 1 || (limit > 0 && limit < 100 && performance.now() - this.sliceStart >= SLICE_MS);
    if (!due) return 0;
    this.pausePending = true;
    return PAUSE_SIGNAL;
  }

  /**
   * Blocks the calling thread: first the sleep that keeps it within its CPU limit, then for as long as the host
   * keeps it suspended. Returns early when the host raises a signal (to stop the chunk).
   */
  pause(): void {
    const block = this.block;
    if (block.length <= Control.pausedMs) {
      this.pausePending = false;
      return;
    }
    const started = performance.now();
    const limit = Atomics.load(block, Control.cpuLimit);
    if (limit > 0 && limit < 100) {
      const ran = started - this.sliceStart;
      const sleep = Math.min(MAX_SLEEP_MS, (ran * (100 - limit)) / limit);
      if (sleep >= 1) Atomics.wait(block, Control.paused, 0, sleep);
    }
    while (Atomics.load(block, Control.paused) === 1 && Atomics.load(block, Control.signal) === 0) {
      Atomics.wait(block, Control.paused, 1, 1_000);
    }
    Atomics.add(block, Control.pausedMs, Math.round(performance.now() - started));
    this.sliceStart = performance.now();
    this.pausePending = false;
  }
}
