// The coordinator's own Python compiler: a warm Pyodide (the package the contributor's tab runs, so the same Python)
// in a worker thread, compiling each submitted script before the job exists. A script that does not compile is
// refused at submission with its line and message; a contributor reporting a SyntaxError later is not believed.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { HARNESS_MODULE, HARNESS_SOURCE } from '../../../wasm-runtimes/python/harness.py.js';

/** What compiling a script found: its mode (`entry`: the function-mode entry the tab detects, or null for script mode) or why it does not compile. */
export type PythonCheck =
  | { ok: true; entry: string | null }
  | { ok: false; line: number | null; column: number | null; message: string; text: string };

export interface PythonSyntaxCheckerOptions {
  /** Pyodide's directory (default: the `pyodide` package the coordinator serves to tabs). */
  indexURL?: string;
  /** Longest a script may take to compile before it is refused. */
  compileTimeoutMs?: number;
  /** Longest Pyodide may take to start. */
  startTimeoutMs?: number;
}

/** The one-line reason a submission is refused, naming the field: "source: line 2: SyntaxError: '(' was never closed". */
export function describeSyntaxError(check: Extract<PythonCheck, { ok: false }>): string {
  const last = check.text.split('\n').pop() || check.message;
  return `source: ${check.line !== null ? `line ${check.line}: ` : ''}${last}`;
}

/** Thrown when the checker cannot run: the API answers 503, never accepts the job unchecked. */
export class SyntaxCheckUnavailable extends Error {}

/**
 * Starts on first use (or `start()` at boot), then stays warm. Checks are queued in the one worker.
 *
 * @example
 * const checked = await checker.check('def main(x) return x');
 * // { ok: false, line: 1, column: 13, message: "expected ':'", text: '  File "main.py", line 1 …' }
 */
export class PythonSyntaxChecker {
  private worker?: Worker;
  private ready?: Promise<Worker>;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: PythonCheck) => void; reject: (e: Error) => void }>();

  constructor(private readonly options: PythonSyntaxCheckerOptions = {}) {}

  /** Starts Pyodide now; resolves once it is warm. Rejects with SyntaxCheckUnavailable when it cannot start. */
  start(): Promise<Worker> {
    this.ready ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(new URL('./syntax.worker.mjs', import.meta.url), {
        name: 'idle-sense syntax check',
        workerData: { indexURL: (this.options.indexURL ?? defaultPyodideDir()).replace(/\/?$/, '/'), harnessModule: HARNESS_MODULE, harnessSource: HARNESS_SOURCE },
      });
      // A warm checker must not keep a finished process (or test run) alive.
      worker.unref();
      const fail = (message: string) => {
        clearTimeout(timer);
        this.stop(new SyntaxCheckUnavailable(`the coordinator's Python syntax check could not start: ${message}`));
        reject(new SyntaxCheckUnavailable(`the coordinator's Python syntax check could not start: ${message}`));
      };
      const timer = setTimeout(() => fail(`Pyodide did not start within ${this.startTimeout / 1000} s`), this.startTimeout);
      timer.unref();
      worker.on('message', (message: { ready?: true; failed?: string; id?: number; result?: PythonCheck }) => {
        if (message.ready) {
          clearTimeout(timer);
          this.worker = worker;
          resolve(worker);
        } else if (message.failed) fail(message.failed);
        else if (message.id !== undefined) {
          // Python's None arrives as undefined.
          const r = message.result!;
          this.waiting.get(message.id)?.resolve(r.ok ? { ok: true, entry: r.entry ?? null } : { ...r, line: r.line ?? null, column: r.column ?? null });
          this.waiting.delete(message.id);
        }
      });
      worker.on('error', (err) => (this.worker ? this.stop(new SyntaxCheckUnavailable(`the Python syntax check crashed: ${err.message}`)) : fail(err.message)));
      worker.on('exit', (code) => (this.worker ? this.stop(new SyntaxCheckUnavailable(`the Python syntax check exited (code ${code})`)) : fail(`exit code ${code}`)));
    });
    return this.ready;
  }

  /** Compiles `source` as the tab would (file name main.py). */
  async check(source: string): Promise<PythonCheck> {
    const worker = await this.start();
    const id = this.nextId++;
    return new Promise<PythonCheck>((resolve, reject) => {
      const timeout = this.options.compileTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        // A script whose compilation does not end would block every later check: drop this worker, start afresh.
        this.waiting.delete(id);
        this.stop(new SyntaxCheckUnavailable('another script took too long to compile'));
        resolve({ ok: false, line: null, column: null, message: `did not compile within ${timeout / 1000} s`, text: '' });
      }, timeout);
      timer.unref();
      this.waiting.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      worker.postMessage({ id, source });
    });
  }

  /** Terminates the worker; the next check starts a new one. */
  async dispose(): Promise<void> {
    this.stop(new SyntaxCheckUnavailable('the Python syntax check was stopped'));
  }

  private get startTimeout() {
    return this.options.startTimeoutMs ?? 120_000;
  }

  private stop(reason: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    for (const { reject } of this.waiting.values()) reject(reason);
    this.waiting.clear();
    void worker?.terminate();
  }
}

// Pyodide finds its own files from a stack trace, which fails inside a worker thread: name its directory.
const defaultPyodideDir = () => dirname(createRequire(import.meta.url).resolve('pyodide/package.json'));

let shared: PythonSyntaxChecker | undefined;
/** One checker per process, started on first use: every app in a process (tests, benches) shares its Pyodide. */
export function sharedPythonSyntaxChecker(options?: PythonSyntaxCheckerOptions): PythonSyntaxChecker {
  shared ??= new PythonSyntaxChecker(options);
  return shared;
}
