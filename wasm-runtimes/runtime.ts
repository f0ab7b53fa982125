// The contract every in-tab runtime (Python now, ONNX later) implements. Runtimes do not know their transport:
// a tiny *.worker.ts exposes one with Comlink in the browser; Node wraps the same class over worker_threads.
import type { FailureKind, JobSpec } from '../protocol/index.js';

/** A file a chunk wrote under /work/out/. `bytes` only when no native workspace holds the file (Node, tests). */
export interface OutputFile {
  /** Path relative to /work/out/, with `/` separators. */
  name: string;
  size: number;
  bytes?: Uint8Array;
}

/** What one chunk attempt produced. Errors are data, never thrown across the worker boundary. */
export type ChunkRun = (
  | { ok: true; output: unknown; stdout: string; stderr: string; durationMs: number }
  | { ok: false; failure: FailureKind; error: string; stdout: string; stderr: string; durationMs: number }
) & {
  /** Files written under /work/out/ (successful chunks only). */
  files?: OutputFile[];
  /** Time the chunk spent paused (CPU limit, contributor pauses); not counted against its timeout. */
  pausedMs?: number;
  /**
   * Set when the host stopped the chunk because it would not pause or keep to its CPU limit (its worker was
   * replaced). The job is not at fault: the chunk is handed back to the coordinator (released), never reported.
   */
  givenBack?: true;
  /**
   * Facts about how the result was computed, sent as ResultReport.runtimeInfo: for ONNX the execution provider and
   * adapter (`{ executionProvider: 'webgpu', adapter: 'google swiftshader', ... }`). Undefined values are dropped.
   */
  runtimeInfo?: Record<string, string | undefined>;
};

/**
 * A browser FileSystemDirectoryHandle, typed by the two fields every handle has so that Node-only code importing
 * this file (the runner, benchmarks) type-checks without the DOM's file-system types.
 */
export type WorkspaceHandle = { readonly kind: 'directory'; readonly name: string };

/** Per-chunk context a host passes with `run`. Everything is optional: a bare `run(job, input)` still works. */
export interface ChunkContext {
  /**
   * A fresh, empty directory (an OPFS directory in the browser) mounted as the chunk's working directory `/work`.
   * Without one the runtime uses an in-memory `/work` and returns the files' bytes in ChunkRun.files.
   */
  workspace?: WorkspaceHandle;
  /** Most bytes the chunk may write under /work/out/; beyond it the chunk fails with a clear error. */
  maxOutputBytes?: number;
}

/**
 * Layout of the control block a host shares with a runtime (an Int32Array over a SharedArrayBuffer). Slot 0 is the
 * interrupt signal (Pyodide's interrupt buffer convention); the others are additive, so a runtime that only reads
 * slot 0 keeps working. The host writes `signal`, `paused` and `cpuLimit`; the worker's runtime code (never the
 * chunk's own code, which cannot reach the block) writes the rest, and the host checks those against its own clock.
 */
export const Control = {
  /** Signal number for the runtime to raise (2 = SIGINT: stop the chunk); the runtime clears it. */
  signal: 0,
  /** 1 while the host wants running chunks suspended (the runtime blocks in Atomics.wait until it is 0). */
  paused: 1,
  /** CPU limit in percent (1..100): the runtime sleeps so that it computes at most this share of wall time. */
  cpuLimit: 2,
  /**
   * Milliseconds the runtime spent suspended or throttled, summed over its life (written by the runtime, at least
   * every 100 ms while it is blocked). The host never credits more than its own clock says it asked for
   * (RuntimeThread), so inflating it buys no time.
   */
  pausedMs: 3,
  /** 1 while the runtime is blocked by the control block (suspended or sleeping its CPU-limit share). */
  parked: 4,
  /** How many CPU-limit sleeps the runtime has taken, over its life (for tests and diagnostics). */
  throttles: 5,
  /**
   * 1 while the runtime runs the chunk's own code synchronously (Python), when nothing but the control block's poll
   * can stop it; 0 during the runtime's own asynchronous steps (loading packages, mounting the workspace).
   */
  computing: 6,
} as const;
export const CONTROL_SLOTS = 7;

export interface RuntimeOptions {
  /** Where the runtime's own files are served from (Pyodide: the directory holding pyodide.asm.wasm). */
  indexURL?: string;
  /** Cap on captured stdout and stderr per chunk, in bytes (default 1 MiB). */
  outputCapBytes?: number;
  /**
   * Where packages a job lists are loaded from (Pyodide: a directory holding `pyodide-lock.json` and the wheels;
   * the coordinator serves it at /python-packages/). Without it, only the standard library is available.
   */
  packageIndexURL?: string;
}

export interface ChunkRuntime {
  /** Loads the runtime; call once. Never work in constructors. */
  initialize(options: RuntimeOptions): Promise<void>;
  /**
   * Gives the runtime the shared control block (see `Control`) through which a host interrupts runaway code, and,
   * where the runtime supports it, suspends or throttles it. Length 1 (interrupt only) is still valid.
   */
  setInterruptBuffer(buffer: SharedArrayBuffer): void;
  /**
   * Blocks the worker while the host holds it suspended. A host calls it on suspend, so that a worker between chunks
   * or awaiting I/O inside one parks too (its event loop then runs nothing, no timer a chunk left behind included);
   * a chunk computing synchronously parks in the control block's poll instead. Optional: runtimes that run no user
   * code need not have it.
   */
  park?(): void;
  /** Runs one chunk of `job` on `input`. Resolves with a ChunkRun; never rejects for user-code errors. */
  run(job: JobSpec, input: unknown, context?: ChunkContext): Promise<ChunkRun>;
  /** Bytes of WebAssembly memory in use, for recycling decisions. */
  memoryBytes(): number;
  dispose(): void;
}
