// PythonRuntime: runs chunks of Python jobs in Pyodide. It knows nothing of workers or transports; a worker
// exposes it with Comlink (python.worker.ts, python.node-worker.ts) and RuntimeThread enforces timeouts.
//
// Modes, decided once per job without running the script (Python's ast):
// - function mode: `job.entry` names a function, or the script defines a top-level `main(x)` taking exactly one
//   required positional argument. The top level runs once per worker per job as module `main` (so
//   `if __name__ == "__main__":` does not fire); each chunk calls the function with its input and the JSON return
//   value is the output. Output printed by the top level lands in the capture of the chunk that ran it.
// - script mode: the whole script runs per chunk as `__main__` in fresh globals, with
//   `sys.argv = ["main.py", *input]` for array inputs (strings as-is, other values as JSON text) and the raw input in
//   the global `INPUT`. Its stdout is the output (and ChunkRun.stdout is then empty, so it is not sent twice).
import type { PyodideAPI } from 'pyodide';
import type { PyProxy } from 'pyodide/ffi';
import type { FailureKind, JobSpec } from '../../protocol/index.js';
import type { ChunkRun, ChunkRuntime, RuntimeOptions } from '../runtime.js';
import { loadPyodideHere } from './environment.js';
import { HARNESS_MODULE, HARNESS_SOURCE } from './harness.py.js';

export const DEFAULT_OUTPUT_CAP_BYTES = 1024 * 1024;

type HarnessResult = [ok: boolean, failure: string | null, error: string | null, outputJson: string | null, stdout: string, stderr: string];

interface Harness {
  prepare(jobId: string, source: string, entry: string): string | undefined;
  run_chunk(jobId: string, inputJson: string, argvJson: string, cap: number): (PyProxy & { toJs(): HarnessResult }) | undefined;
}

/** Command-line arguments for script mode: an array input's elements, strings as-is, anything else as JSON text. */
export function argvFor(input: unknown): string[] {
  if (!Array.isArray(input)) return [];
  return input.map((value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null')));
}

export class PythonRuntime implements ChunkRuntime {
  private pyodide?: PyodideAPI;
  private harness?: Harness;
  private outputCapBytes = DEFAULT_OUTPUT_CAP_BYTES;
  /** Set once Pyodide has failed in a way it cannot recover from; every later run reports a crash. */
  private broken?: string;
  private rawOutput = { 1: '', 2: '' };

  async initialize(options: RuntimeOptions = {}): Promise<void> {
    if (this.pyodide) throw new Error('PythonRuntime.initialize() was already called');
    this.outputCapBytes = options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
    const pyodide = await loadPyodideHere(options.indexURL);
    const namespace = pyodide.toPy({ __name__: HARNESS_MODULE }) as PyProxy & { get(name: string): unknown };
    pyodide.runPython(HARNESS_SOURCE, { globals: namespace });
    // Function proxies are taken once: the per-chunk path then makes no new proxies besides its result.
    const harness = {
      prepare: namespace.get('prepare'),
      run_chunk: namespace.get('run_chunk'),
    } as Harness;
    // Reading stdin at the file-descriptor level gets EOF, like a program run with </dev/null.
    pyodide.setStdin({ stdin: () => null });
    // Writes below sys.stdout (os.write(1, ...)) cannot call back into Python; they are kept here and appended.
    for (const fd of [1, 2] as const) {
      const decoder = new TextDecoder();
      const write = (buffer: Uint8Array) => {
        this.rawOutput[fd] += decoder.decode(buffer, { stream: true });
        return buffer.length;
      };
      if (fd === 1) pyodide.setStdout({ write });
      else pyodide.setStderr({ write });
    }
    this.pyodide = pyodide;
    this.harness = harness;
  }

  setInterruptBuffer(buffer: SharedArrayBuffer): void {
    this.ready().pyodide.setInterruptBuffer(new Int32Array(buffer));
  }

  async run(job: JobSpec, input: unknown): Promise<ChunkRun> {
    const started = performance.now();
    this.rawOutput = { 1: '', 2: '' };
    const elapsed = () => performance.now() - started;
    if (this.broken) return { ok: false, failure: 'crash', error: this.broken, stdout: '', stderr: '', durationMs: 0 };
    const { harness, pyodide } = this.ready();
    try {
      const inputJson = JSON.stringify(input ?? null);
      const argvJson = JSON.stringify(argvFor(input));
      let proxy = harness.run_chunk(job.id, inputJson, argvJson, this.outputCapBytes);
      if (proxy === undefined) {
        const syntaxError = harness.prepare(job.id, job.source, job.entry ?? '');
        if (syntaxError !== undefined) {
          return { ok: false, failure: 'syntax', error: syntaxError, stdout: '', stderr: '', durationMs: elapsed() };
        }
        proxy = harness.run_chunk(job.id, inputJson, argvJson, this.outputCapBytes)!;
      }
      const [ok, failure, error, outputJson, pyStdout, pyStderr] = proxy.toJs();
      proxy.destroy();
      const stdout = this.withRawOutput(pyStdout, 1);
      const stderr = this.withRawOutput(pyStderr, 2);
      const durationMs = elapsed();
      if (ok) return { ok: true, output: JSON.parse(outputJson ?? 'null'), stdout, stderr, durationMs };
      return { ok: false, failure: failure as FailureKind, error: error ?? '', stdout, stderr, durationMs };
    } catch (err) {
      // Only reached when something failed outside the user's code: an interrupt landing inside the harness,
      // or Pyodide itself failing (out of memory, stack overflow), after which it cannot be trusted again.
      const durationMs = elapsed();
      if (err instanceof pyodide.ffi.PythonError && err.type === 'KeyboardInterrupt') {
        return { ok: false, failure: 'timeout', error: 'interrupted', stdout: '', stderr: '', durationMs };
      }
      this.broken = `the Python runtime failed: ${err instanceof Error ? err.message : String(err)}`;
      return { ok: false, failure: 'crash', error: this.broken, stdout: '', stderr: '', durationMs };
    }
  }

  memoryBytes(): number {
    const module = (this.pyodide as unknown as { _module?: { HEAPU8?: Uint8Array } } | undefined)?._module;
    return module?.HEAPU8?.buffer.byteLength ?? 0;
  }

  dispose(): void {
    // Pyodide cannot be unloaded; dropping it lets the worker be terminated cleanly by its host.
    this.pyodide?.setInterruptBuffer(undefined as unknown as Int32Array);
    this.pyodide = undefined;
    this.harness = undefined;
  }

  private withRawOutput(text: string, fd: 1 | 2): string {
    const raw = this.rawOutput[fd];
    if (!raw) return text;
    this.rawOutput[fd] = '';
    return (text + raw).slice(0, this.outputCapBytes);
  }

  private ready(): { pyodide: PyodideAPI; harness: Harness } {
    if (!this.pyodide || !this.harness) throw new Error('PythonRuntime is not initialised: call initialize() first');
    return { pyodide: this.pyodide, harness: this.harness };
  }
}
