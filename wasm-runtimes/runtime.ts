// The contract every in-tab runtime (Python now, ONNX later) implements. Runtimes do not know their transport:
// a tiny *.worker.ts exposes one with Comlink in the browser; Node wraps the same class over worker_threads.
import type { FailureKind, JobSpec } from '../protocol/index.js';

/** What one chunk attempt produced. Errors are data, never thrown across the worker boundary. */
export type ChunkRun =
  | { ok: true; output: unknown; stdout: string; stderr: string; durationMs: number }
  | { ok: false; failure: FailureKind; error: string; stdout: string; stderr: string; durationMs: number };

export interface RuntimeOptions {
  /** Where the runtime's own files are served from (Pyodide: the directory holding pyodide.asm.wasm). */
  indexURL?: string;
  /** Cap on captured stdout and stderr per chunk, in bytes (default 1 MiB). */
  outputCapBytes?: number;
}

export interface ChunkRuntime {
  /** Loads the runtime; call once. Never work in constructors. */
  initialize(options: RuntimeOptions): Promise<void>;
  /** Gives the runtime the shared buffer through which a host interrupts runaway code (Int32Array of length 1). */
  setInterruptBuffer(buffer: SharedArrayBuffer): void;
  /** Runs one chunk of `job` on `input`. Resolves with a ChunkRun; never rejects for user-code errors. */
  run(job: JobSpec, input: unknown): Promise<ChunkRun>;
  /** Bytes of WebAssembly memory in use, for recycling decisions. */
  memoryBytes(): number;
  dispose(): void;
}
