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
//
// Every chunk runs in its own working directory `/work`: the host's fresh workspace directory (OPFS in the browser)
// mounted there, or an in-memory directory emptied after the chunk. Files under `/work/out/` are the chunk's
// attachments. Packages a job lists are loaded once per worker with Pyodide's loader from `packageIndexURL`.
import type { PyodideAPI } from 'pyodide';
import type { PyProxy } from 'pyodide/ffi';
import type { FailureKind, JobSpec } from '../../protocol/index.js';
import { RuntimeControl } from '../control.js';
import type { ChunkContext, ChunkRun, ChunkRuntime, OutputFile, RuntimeOptions } from '../runtime.js';
import { loadPyodideHere } from './environment.js';
import { HARNESS_MODULE, HARNESS_SOURCE } from './harness.py.js';

export const DEFAULT_OUTPUT_CAP_BYTES = 1024 * 1024;
/** Default cap on what one chunk may write under /work/out/. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
const WORK = '/work';

type PythonJob = Extract<JobSpec, { runtime: 'python' }>;

/** A package name as Pyodide's lock file keys it (PEP 503 normalisation: "My_Pkg.x" → "my-pkg-x"). */
export function canonicalPackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

type HarnessResult = [ok: boolean, failure: string | null, error: string | null, outputJson: string | null, stdout: string, stderr: string];

interface Harness {
  prepare(jobId: string, source: string, entry: string): string | undefined;
  run_chunk(jobId: string, inputJson: string, argvJson: string, cap: number): (PyProxy & { toJs(): HarnessResult }) | undefined;
  enter_workspace(): void;
  leave_workspace(): PyProxy & { toJs(): [string, number][] };
  clear_workspace(): void;
}

/** A mounted workspace: how to save it back to its directory and unmount it. */
interface Workspace {
  native?: { syncfs(): Promise<void> };
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
  private control?: RuntimeControl;
  /** Canonical names of the packages loaded into this worker. */
  private readonly packages = new Set<string>();

  async initialize(options: RuntimeOptions = {}): Promise<void> {
    if (this.pyodide) throw new Error('PythonRuntime.initialize() was already called');
    this.outputCapBytes = options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
    const pyodide = await loadPyodideHere(options.indexURL, options.packageIndexURL);
    const namespace = pyodide.toPy({ __name__: HARNESS_MODULE }) as PyProxy & { get(name: string): unknown };
    pyodide.runPython(HARNESS_SOURCE, { globals: namespace });
    // Function proxies are taken once: the per-chunk path then makes no new proxies besides its result.
    const harness = Object.fromEntries(
      ['prepare', 'run_chunk', 'enter_workspace', 'leave_workspace', 'clear_workspace'].map((name) => [name, namespace.get(name)]),
    ) as unknown as Harness;
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
    const { pyodide } = this.ready();
    if (this.control) throw new Error('PythonRuntime.setInterruptBuffer() was already called');
    const control = new RuntimeControl(new Int32Array(buffer));
    this.control = control;
    // Pyodide polls the control block's signal source; suspending and throttling block inside that poll.
    pyodide.setInterruptBuffer(control.signals as unknown as Int32Array);
    lockInterruptBuffer(pyodide, control.signals);
  }

  park(): void {
    this.control?.park();
  }

  async run(job: JobSpec, input: unknown, context: ChunkContext = {}): Promise<ChunkRun> {
    const started = performance.now();
    // The CPU limit's first slice starts with the chunk: loading packages and entering the workspace poll the control
    // block too, and a slice counted from the worker's boot (a standby, seconds ago) would owe seconds of sleep.
    this.control?.startSlice();
    this.rawOutput = { 1: '', 2: '' };
    const elapsed = () => performance.now() - started;
    const crash = (error: string): ChunkRun => ({ ok: false, failure: 'crash', error, stdout: '', stderr: '', durationMs: elapsed() });
    if (this.broken) return crash(this.broken);
    if (job.runtime !== 'python') return crash(`the Python runtime cannot run ${job.runtime} jobs`);
    const missing = await this.loadPackages(job);
    if (missing) return crash(missing);
    let workspace: Workspace;
    try {
      workspace = await this.enterWorkspace(context);
    } catch (err) {
      return crash(`could not prepare the chunk's workspace: ${describe(err)}`);
    }
    const run = await this.runInWorkspace(job, input, elapsed);
    return this.leaveWorkspace(workspace, run, context, elapsed);
  }

  private async runInWorkspace(job: PythonJob, input: unknown, elapsed: () => number): Promise<ChunkRun> {
    const { harness, pyodide } = this.ready();
    this.control?.computing(true);
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
    } finally {
      this.control?.computing(false);
    }
  }

  /** Loads the job's packages not yet in this worker. Returns why some could not be loaded, or undefined. */
  private async loadPackages(job: PythonJob): Promise<string | undefined> {
    const wanted = (job.packages ?? []).map(canonicalPackageName).filter((name) => !this.packages.has(name));
    if (wanted.length === 0) return undefined;
    const { pyodide } = this.ready();
    const messages: string[] = [];
    try {
      await pyodide.loadPackage(wanted, { messageCallback: () => {}, errorCallback: (message) => messages.push(message) });
    } catch (err) {
      messages.push(describe(err));
    }
    const loaded = new Set(Object.keys(pyodide.loadedPackages).map(canonicalPackageName));
    const missing = wanted.filter((name) => !loaded.has(name));
    for (const name of wanted) if (loaded.has(name)) this.packages.add(name);
    if (missing.length === 0) return undefined;
    return `could not load package${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${messages.length ? `: ${messages.join('; ')}` : ''}`;
  }

  /** Makes `/work` the chunk's fresh working directory, with an empty `/work/out/`. */
  private async enterWorkspace(context: ChunkContext): Promise<Workspace> {
    const { pyodide, harness } = this.ready();
    const workspace: Workspace = {};
    if (context.workspace) workspace.native = await pyodide.mountNativeFS(WORK, context.workspace as FileSystemDirectoryHandle);
    else pyodide.FS.mkdirTree(WORK);
    harness.enter_workspace();
    return workspace;
  }

  /**
   * Leaves `/work`: lists what the chunk wrote under /work/out/, enforces the size limit, then either saves the
   * files to the native directory (the host reads them there) or returns their bytes; finally unmounts or empties it.
   */
  private async leaveWorkspace(workspace: Workspace, run: ChunkRun, context: ChunkContext, elapsed: () => number): Promise<ChunkRun> {
    const { pyodide, harness } = this.ready();
    try {
      const listing = harness.leave_workspace();
      const entries = listing.toJs() as [string, number][];
      listing.destroy();
      const limit = context.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
      const total = entries.reduce((sum, [, size]) => sum + size, 0);
      if (run.ok && total > limit) {
        run = {
          ok: false,
          failure: 'exception',
          error: `the chunk wrote ${formatBytes(total)} under /work/out/, more than the ${formatBytes(limit)} allowed per chunk`,
          stdout: run.stdout,
          stderr: run.stderr,
          durationMs: run.durationMs,
        };
      } else if (run.ok && entries.length > 0) {
        const files: OutputFile[] = entries.map(([name, size]) => ({ name, size }));
        if (workspace.native) await workspace.native.syncfs();
        else for (const file of files) file.bytes = pyodide.FS.readFile(`${WORK}/out/${file.name}`) as Uint8Array;
        run = { ...run, files };
      }
    } catch (err) {
      run = { ok: false, failure: 'crash', error: `could not collect the chunk's files: ${describe(err)}`, stdout: run.stdout, stderr: run.stderr, durationMs: elapsed() };
    } finally {
      try {
        if (workspace.native) pyodide.FS.unmount(WORK);
        else harness.clear_workspace();
      } catch (err) {
        this.broken = `the Python runtime could not release its workspace: ${describe(err)}`;
      }
    }
    return run;
  }

  memoryBytes(): number {
    const module = (this.pyodide as unknown as { _module?: { HEAPU8?: Uint8Array } } | undefined)?._module;
    return module?.HEAPU8?.buffer.byteLength ?? 0;
  }

  dispose(): void {
    // Pyodide cannot be unloaded; dropping it lets the worker be terminated cleanly by its host. The interrupt
    // buffer stays: it is locked in place (lockInterruptBuffer), and a disposed worker is terminated anyway.
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

/**
 * Keeps the host's control block as Pyodide's interrupt buffer for good: user code reaches the Pyodide API
 * (`import pyodide_js`) and its Emscripten module (`pyodide_js._module`), and must not swap the poll out, which is
 * where pause and the CPU limit take hold. What cannot be locked (the flag in WebAssembly memory that turns the
 * poll off) only stops the poll, and a worker that stops answering it is replaced by the host's watchdog.
 */
function lockInterruptBuffer(pyodide: PyodideAPI, signals: object): void {
  const refuse = () => {
    throw new TypeError("the interrupt buffer belongs to idle-sense's host and cannot be replaced");
  };
  Object.defineProperty(pyodide, 'setInterruptBuffer', { value: refuse, writable: false, enumerable: false, configurable: false });
  const module = (pyodide as unknown as { _module?: object })._module;
  if (module) Object.defineProperty(module, 'Py_EmscriptenSignalBuffer', { get: () => signals, set: refuse, enumerable: false, configurable: false });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
