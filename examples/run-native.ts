// Runs an example job with the machine's own CPython instead of Pyodide, producing the ChunkResult[] a finished
// job would have: a fast, browser-free way to test checks, and a baseline to compare tab results against.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChunkResult } from '../protocol/index.js';
import type { Example } from './example.js';

/**
 * Decides the mode as the in-tab runtime does (wasm-runtimes/python/python-runtime.ts): function mode when the job
 * names an `entry`, or when the script defines a top-level `def main(x)` taking exactly one required positional
 * argument; script mode otherwise. In function mode the script is imported once under a name other than `__main__`
 * (so its `if __name__ == "__main__"` block stays quiet) and the function is called on every input.
 * argv: [script path, entry or ""]; stdin: JSON array of inputs; stdout: one JSON object.
 */
const HARNESS = `
import ast, contextlib, importlib.util, io, json, sys, time, traceback
path, entry = sys.argv[1], sys.argv[2]
inputs = json.load(sys.stdin)
source = open(path, encoding="utf-8").read()
def takes_one_argument(node):
    a = node.args
    return (len(a.posonlyargs) + len(a.args) == 1 and not a.defaults and a.vararg is None
            and all(default is not None for default in a.kw_defaults))
if not entry:
    mains = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == "main"]
    if not mains or not takes_one_argument(mains[-1]):
        print(json.dumps({"mode": "script"}))
        sys.exit(0)
    entry = "main"
spec = importlib.util.spec_from_file_location("main", path)
module = importlib.util.module_from_spec(spec)
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    spec.loader.exec_module(module)
function = getattr(module, entry)
results = []
for index, value in enumerate(inputs):
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            output = function(value)
        json.dumps(output, allow_nan=False)
        result = {"index": index, "status": "ok", "output": output}
    except Exception:
        result = {"index": index, "status": "error", "error": traceback.format_exc()}
    result.update(stdout=out.getvalue(), stderr=err.getvalue(), attempts=1,
                  durationMs=round((time.perf_counter() - started) * 1000))
    results.append(result)
print(json.dumps({"mode": "function", "results": results}, allow_nan=False))
`;

export interface NativeRunOptions {
  /** The Python interpreter to run (default `python3`). */
  python?: string;
}

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

function runProcess(command: string, args: string[], options: { cwd: string; stdin?: string; timeoutMs: number }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, timeout: options.timeoutMs, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (data: Buffer) => stdout.push(data));
    child.stderr.on('data', (data: Buffer) => stderr.push(data));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), durationMs: Math.round(performance.now() - started) }),
    );
    child.stdin.end(options.stdin ?? '');
  });
}

/** sys.argv after the script name, as the in-tab runtime builds it: an array input's elements, strings as-is, anything else as JSON text. */
function argvOf(input: unknown): string[] {
  if (!Array.isArray(input)) return [];
  return input.map((element) => (typeof element === 'string' ? element : (JSON.stringify(element) ?? 'null')));
}

/** Runs `tasks` with at most `limit` in flight, keeping their order. */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const at = next++;
      results[at] = await tasks[at]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

/**
 * Runs every chunk of `example` with native CPython and returns the results in chunk order.
 *
 * @example
 * const results = await runNatively(await loadExample('prime-counting'));
 */
export async function runNatively(example: Pick<Example, 'source' | 'job'>, options: NativeRunOptions = {}): Promise<ChunkResult[]> {
  const python = options.python ?? 'python3';
  const timeoutMs = example.job.timeoutMs ?? 60_000;
  const folder = await mkdtemp(join(tmpdir(), 'idle-sense-example-'));
  try {
    await writeFile(join(folder, 'main.py'), example.source);
    const entry = ('entry' in example.job ? example.job.entry : undefined) ?? '';
    const probe = await runProcess(python, ['-c', HARNESS, 'main.py', entry], {
      cwd: folder,
      stdin: JSON.stringify(example.job.inputs),
      timeoutMs: timeoutMs * example.job.inputs.length,
    });
    if (probe.code !== 0) throw new Error(`${python} could not load the script (exit ${probe.code}):\n${probe.stderr}`);
    const answer = JSON.parse(probe.stdout) as { mode: 'script' } | { mode: 'function'; results: ChunkResult[] };
    if (answer.mode === 'function') return answer.results;

    const chunks = example.job.inputs.map((input, index) => async (): Promise<ChunkResult> => {
      const run = await runProcess(python, ['main.py', ...argvOf(input)], { cwd: folder, timeoutMs });
      const common = { index, stderr: run.stderr, attempts: 1, durationMs: run.durationMs };
      // Like the in-tab runtime: a script's stdout is its output, and is not repeated in `stdout`.
      if (run.code === 0) return { ...common, status: 'ok', output: run.stdout, stdout: '' };
      const error = run.code === null ? `timed out after ${timeoutMs} ms` : `exit status ${run.code}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`;
      return { ...common, status: 'error', error, stdout: run.stdout };
    });
    return await inParallel(chunks, availableParallelism());
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
