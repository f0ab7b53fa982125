// Behaviour of the Python runtime as a contributor tab uses it: real Pyodide in a worker thread, driven through
// RuntimeThread — the same worker and host code as the browser, over Node's worker_threads.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JobSpec } from '../../protocol/index.js';
import { Control, type ChunkRun } from '../runtime.js';
import { spawnNodePythonWorker } from './node.js';
import { argvFor } from './python-runtime.js';
import { RuntimeThread } from '../host/thread.js';

let jobCounter = 0;
type PythonJob = Extract<JobSpec, { runtime: 'python' }>;
function job(source: string, extra: Partial<PythonJob> = {}): PythonJob {
  jobCounter += 1;
  return { id: `job-${jobCounter}`, name: `test job ${jobCounter}`, runtime: 'python', source, timeoutMs: 10_000, ...extra };
}

function failure(run: ChunkRun) {
  if (run.ok) throw new Error(`expected a failure, got output ${JSON.stringify(run.output)}`);
  return run;
}

const thread = new RuntimeThread(spawnNodePythonWorker);
beforeAll(() => thread.start({}));
afterAll(() => thread.dispose());

describe('function mode', () => {
  test('a top-level main(x) is called with each chunk input and its return value is the output', async () => {
    const spec = job('def main(x):\n    print("squaring", x)\n    return {"x": x, "square": x * x}\n');
    const run = await thread.run(spec, 7);
    expect(run).toMatchObject({ ok: true, output: { x: 7, square: 49 }, stdout: 'squaring 7\n' });
  });

  test('job.entry names the function to call', async () => {
    const spec = job('def double(x):\n    return x * 2\n\ndef main():\n    raise SystemExit("not me")\n', { entry: 'double' });
    expect(await thread.run(spec, [1, 2])).toMatchObject({ ok: true, output: [1, 2, 1, 2] });
  });

  test('the top level runs once per job, with fresh globals for each job', async () => {
    const source = [
      'calls = 0',
      'print("loading")',
      'def main(x):',
      '    global calls',
      '    calls += 1',
      '    return calls',
    ].join('\n');
    const first = job(source);
    const outputs = [];
    for (let i = 0; i < 3; i++) outputs.push(await thread.run(first, i));
    expect(outputs.map((r) => r.ok && r.output)).toEqual([1, 2, 3]);
    expect(outputs[0].stdout).toBe('loading\n');
    expect(outputs[1].stdout).toBe('');
    expect(await thread.run(job(source), 0)).toMatchObject({ ok: true, output: 1 });
  });

  test('an `if __name__ == "__main__":` block does not run', async () => {
    const spec = job('def main(x):\n    return x\n\nif __name__ == "__main__":\n    raise RuntimeError("guard fired")\n');
    expect(await thread.run(spec, 'hi')).toMatchObject({ ok: true, output: 'hi' });
  });

  test('dataclasses and classes defined in the script work as return values via dicts', async () => {
    const spec = job(
      'from __future__ import annotations\nfrom dataclasses import dataclass, asdict\n\n@dataclass\nclass P:\n    x: int\n    y: list[int]\n\ndef main(v):\n    return asdict(P(v, [v]))\n',
    );
    expect(await thread.run(spec, 3)).toMatchObject({ ok: true, output: { x: 3, y: [3] } });
  });

  test('an entry that does not exist is a clear exception', async () => {
    const run = failure(await thread.run(job('def main(x):\n    return x\n', { entry: 'solve' }), 1));
    expect(run.failure).toBe('exception');
    expect(run.error).toBe("NameError: entry function 'solve' is not defined in main.py");
  });

  test('a return value JSON cannot hold fails with failure "output" naming the type', async () => {
    const run = failure(await thread.run(job('def main(x):\n    return {"seen": {1, 2}}\n'), 1));
    expect(run).toMatchObject({ failure: 'output', error: 'return value of main() is not JSON-serialisable: set' });
    const nan = failure(await thread.run(job('def main(x):\n    return float("nan")\n'), 1));
    expect(nan.failure).toBe('output');
  });
});

describe('script mode', () => {
  test('an array input becomes sys.argv and the raw input is the global INPUT; stdout is the output', async () => {
    const spec = job('import sys\nprint(sys.argv)\nprint(repr(INPUT))\nprint(__name__)\n');
    const run = await thread.run(spec, ['--n', 3, 2.5, true, 'x y']);
    expect(run).toMatchObject({
      ok: true,
      output: "['main.py', '--n', '3', '2.5', 'true', 'x y']\n['--n', 3, 2.5, True, 'x y']\n__main__\n",
    });
    expect(argvFor({ n: 1 })).toEqual([]);
  });

  test('each chunk starts from fresh globals', async () => {
    const spec = job('try:\n    seen += 1\nexcept NameError:\n    seen = 1\nprint(seen)\n');
    expect(await thread.run(spec, null)).toMatchObject({ ok: true, output: '1\n' });
    expect(await thread.run(spec, null)).toMatchObject({ ok: true, output: '1\n' });
  });

  describe('an unmodified argparse program', async () => {
    const source = await readFile(new URL('./fixtures/primes_cli.py', import.meta.url), 'utf8');
    const spec = job(source);

    async function native(args: string[]) {
      const dir = await mkdtemp(join(tmpdir(), 'idle-sense-py-'));
      await writeFile(join(dir, 'main.py'), source);
      const env = { ...process.env, COLUMNS: '' };
      return promisify(execFile)('/usr/bin/env', ['python3', 'main.py', ...args], { cwd: dir, env });
    }

    test('prints what native python3 prints for the same arguments', async () => {
      const args = ['60', '--list', '--sep', ';'];
      const expected = await native(args);
      const run = await thread.run(spec, args);
      expect(run).toMatchObject({ ok: true, output: expected.stdout, stderr: expected.stderr });
    });

    test('--help exits 0 with the usage as output', async () => {
      const run = await thread.run(spec, ['--help']);
      expect(run.ok && String(run.output)).toMatch(/^usage: main\.py \[-h\] \[--list\] \[--sep SEP\] n\n/);
    });

    test('a usage error exits with status 2 and the usage message', async () => {
      const run = failure(await thread.run(spec, ['--', '-5']));
      expect(run.failure).toBe('exception');
      expect(run.error).toMatch(/^exited with status 2\nusage: main\.py .*\nmain\.py: error: n must be non-negative$/s);
    });
  });

  test('sys.exit: 0, None and no argument succeed; a number or message fails with the status', async () => {
    for (const arg of ['0', 'None', '']) {
      expect(await thread.run(job(`import sys\nprint("before")\nsys.exit(${arg})\nprint("after")`), null)).toMatchObject({ ok: true, output: 'before\n' });
    }
    expect(failure(await thread.run(job('import sys\nsys.exit(3)'), null)).error).toBe('exited with status 3');
    expect(failure(await thread.run(job('import sys\nsys.exit("no input given")'), null))).toMatchObject({
      failure: 'exception',
      error: 'exited with status 1\nno input given',
    });
  });

  test('reading stdin gets end-of-file instead of hanging', async () => {
    const run = await thread.run(job('import sys\nprint(repr(sys.stdin.read()))\ntry:\n    input("? ")\nexcept EOFError:\n    print("EOF")\n'), null);
    expect(run).toMatchObject({ ok: true, output: "''\n? EOF\n" });
  });
});

describe('output capture', () => {
  test('stdout and stderr are captured per chunk and reset between chunks', async () => {
    const spec = job('import sys, logging\nlogging.basicConfig(format="%(levelname)s %(message)s")\ndef main(x):\n    print("out", x)\n    print("err", x, file=sys.stderr)\n    logging.warning("warn %s", x)\n    return x\n');
    expect(await thread.run(spec, 1)).toMatchObject({ stdout: 'out 1\n', stderr: 'err 1\nWARNING warn 1\n' });
    expect(await thread.run(spec, 2)).toMatchObject({ stdout: 'out 2\n', stderr: 'err 2\nWARNING warn 2\n' });
  });

  test('output beyond the cap is cut with a visible marker saying how much was dropped', async () => {
    const run = await thread.run(job('def main(n):\n    print("x" * n)\n    return n\n'), 1_500_000);
    const cap = 1024 * 1024;
    expect(run.stdout).toBe('x'.repeat(cap) + `\n[... output truncated: ${1_500_001 - cap} more bytes ...]\n`);
  });
});

describe('failures', () => {
  test('an exception gives a traceback starting at the user code, and the runtime carries on', async () => {
    const spec = job('def helper(d):\n    return d["missing"]\n\ndef main(x):\n    return helper({})\n');
    const run = failure(await thread.run(spec, 1));
    expect(run.failure).toBe('exception');
    expect(run.error).toMatch(/^Traceback \(most recent call last\):\n {2}File "main\.py", line 5, in main\n/);
    expect(run.error).toContain('File "main.py", line 2, in helper');
    expect(run.error).toMatch(/KeyError: 'missing'$/);
    expect(run.error).not.toContain('harness');
    expect(await thread.run(job('def main(x):\n    return x + 1\n'), 1)).toMatchObject({ ok: true, output: 2 });
  });

  test('a script that does not compile fails with failure "syntax" and the line number', async () => {
    const run = failure(await thread.run(job('def main(x):\n    return (x\n'), 1));
    expect(run.failure).toBe('syntax');
    expect(run.error).toMatch(/File "main\.py", line 2\n[\s\S]*SyntaxError: '\(' was never closed/);
    const indent = failure(await thread.run(job('def main(x):\nreturn x\n'), 1));
    expect(indent).toMatchObject({ failure: 'syntax' });
    expect(indent.error).toMatch(/line 2[\s\S]*IndentationError/);
  });

  test('an endless loop is interrupted at the timeout and the next chunk runs on the same thread', async () => {
    const run = await thread.run(job('while True:\n    pass\n', { timeoutMs: 500 }), null);
    expect(run).toMatchObject({ ok: false, failure: 'timeout', error: 'timed out after 500 ms' });
    expect(run.durationMs).toBeLessThan(500 + 500); // from the chunk's start: a new job first waits for its worker
    expect(await thread.run(job('def main(x):\n    return x\n'), 'still alive')).toMatchObject({ ok: true, output: 'still alive' });
  });

  test('code that ignores the interrupt (a C-level loop) gets its worker replaced', async () => {
    const spec = job('import collections, itertools\ncollections.deque(itertools.count(), maxlen=0)\n', { timeoutMs: 300 });
    const run = await thread.run(spec, null);
    expect(run).toMatchObject({ ok: false, failure: 'timeout', error: 'timed out after 300 ms' });
    expect(run.durationMs).toBeLessThan(300 + 2000 + 1000);
    expect(await thread.run(job('def main(x):\n    return x\n'), 'fresh worker')).toMatchObject({ ok: true, output: 'fresh worker' });
  });

  test('a worker that dies mid-chunk is reported as a crash and replaced', async () => {
    const run = failure(await thread.run(job('import js\njs.process.exit(7)\n'), null));
    expect(run.failure).toBe('crash');
    expect(run.error).toContain('exit code 7');
    expect(await thread.run(job('def main(x):\n    return x\n'), 'after crash')).toMatchObject({ ok: true, output: 'after crash' });
  });

  test('interrupt() stops the running chunk at once', async () => {
    const pending = thread.run(job('while True:\n    pass\n', { timeoutMs: 60_000 }), null);
    setTimeout(() => thread.interrupt('job cancelled'), 200);
    const run = await pending;
    expect(run).toMatchObject({ ok: false, failure: 'timeout', error: 'job cancelled' });
    expect(run.durationMs).toBeLessThan(1500);
    expect(await thread.run(job('def main(x):\n    return x\n'), 'next')).toMatchObject({ ok: true, output: 'next' });
  });

  test('runaway recursion is a RecursionError, not a dead worker', async () => {
    const deep = failure(await thread.run(job('def f(n):\n    return f(n + 1)\n\nf(0)\n'), null));
    expect(deep.failure).toBe('exception');
    expect(deep.error).toMatch(/RecursionError: maximum recursion depth exceeded$/);
    expect(await thread.run(job('def main(x):\n    return x\n'), 'ok')).toMatchObject({ ok: true, output: 'ok' });
  });

  test('reports the wasm memory in use', async () => {
    expect(await thread.memoryBytes()).toBeGreaterThan(1024 * 1024);
  });
});

describe('without shared memory', () => {
  const noSab = new RuntimeThread(spawnNodePythonWorker, { interruptBuffer: false });
  beforeAll(() => noSab.start({}));
  afterAll(() => noSab.dispose());

  test('a timeout terminates the worker and the next chunk runs on a fresh one', async () => {
    const started = performance.now();
    expect(await noSab.run(job('while True:\n    pass\n', { timeoutMs: 400 }), null)).toMatchObject({
      ok: false,
      failure: 'timeout',
      error: 'timed out after 400 ms',
    });
    expect(performance.now() - started).toBeLessThan(400 + 500);
    expect(await noSab.run(job('def main(x):\n    return x * 3\n'), 3)).toMatchObject({ ok: true, output: 9 });
  });
});

describe('workspace', () => {
  test('a chunk runs in /work; files under /work/out/ come back and /work is empty for the next chunk', async () => {
    const spec = job(
      [
        'import os',
        'def main(x):',
        '    before = sorted(os.listdir("."))',
        '    os.makedirs("out/sub", exist_ok=True)',
        '    open("out/a.txt", "w").write("hello %d" % x)',
        '    open("out/sub/b.bin", "wb").write(bytes(range(5)))',
        '    open("scratch.tmp", "w").write("not an attachment")',
        '    return {"cwd": os.getcwd(), "before": before}',
      ].join('\n'),
    );
    const first = await thread.run(spec, 1);
    expect(first).toMatchObject({ ok: true, output: { cwd: '/work', before: ['out'] } });
    expect(first.files?.map((f) => [f.name, f.size, Buffer.from(f.bytes!).toString('latin1')])).toEqual([
      ['a.txt', 7, 'hello 1'],
      ['sub/b.bin', 5, '\x00\x01\x02\x03\x04'],
    ]);
    // Nothing of the first chunk is left for the second.
    expect(await thread.run(spec, 2)).toMatchObject({ ok: true, output: { before: ['out'] } });
  });

  test('writing more than the per-chunk limit under /work/out/ fails the chunk with a clear error', async () => {
    const spec = job('def main(x):\n    open("out/big.bin", "wb").write(b"x" * 3000)\n    return 1\n');
    const run = failure(await thread.run(spec, 0, { maxOutputBytes: 2048 }));
    expect(run.failure).toBe('exception');
    expect(run.error).toBe('the chunk wrote 2.9 KiB under /work/out/, more than the 2 KiB allowed per chunk');
  });
});

describe('pausing', () => {
  const spin = (ms: number) => job(`import time\ndef main(x):\n    end = time.time() + ${ms / 1000}\n    n = 0\n    while time.time() < end:\n        n += 1\n    return n\n`);
  const count = (seconds: number) => job(`def main(x):\n    s = 0\n    for i in range(${Math.round(seconds * 4_000_000)}):\n        s += i\n    return s\n`);

  test('a suspended chunk makes no progress and resumes where it stood; paused time is not charged', async () => {
    const work = count(0.5);
    const baseline = await thread.run(work, 0);
    const running = thread.run(work, 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(thread.suspend()).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    thread.resume();
    const run = await running;
    expect(run).toMatchObject({ ok: true, output: baseline.ok && baseline.output });
    expect(run.pausedMs).toBeGreaterThan(1200);
    expect(run.durationMs).toBeLessThan(baseline.durationMs + 1000);
  });

  test('a suspended chunk still times out on its computing time only, and can be interrupted while suspended', async () => {
    const running = thread.run(spin(5_000), 0);
    await new Promise((r) => setTimeout(r, 100));
    thread.suspend();
    await new Promise((r) => setTimeout(r, 300));
    thread.interrupt('stopped while paused');
    expect(await running).toMatchObject({ ok: false, failure: 'timeout', error: 'stopped while paused' });
    thread.resume();
    expect(await thread.run(job('def main(x):\n    return x\n'), 5)).toMatchObject({ ok: true, output: 5 });
  });

  test('a CPU limit of 25% stretches a chunk about four times', async () => {
    const work = count(0.4);
    const full = await thread.run(work, 0);
    thread.setCpuLimit(25);
    try {
      const limited = await thread.run(work, 0);
      const wall = limited.durationMs + (limited.pausedMs ?? 0);
      expect(wall / full.durationMs).toBeGreaterThan(2.5);
      expect(limited.pausedMs! / wall).toBeGreaterThan(0.6);
    } finally {
      thread.setCpuLimit(100);
    }
  });
});

describe('limits a chunk cannot defeat', () => {
  // Each chunk first runs once with input "warm", so that the measured run starts at once on a worker that has the
  // job loaded (a job switch would wait for a worker, which on a loaded machine takes seconds).
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const LONG = 120_000;
  /** A function-mode job: `body` runs inside main(x) unless x is "warm". */
  const chunk = (body: string, prelude = '', extra: Partial<PythonJob> = {}) =>
    job(`${prelude}\ndef main(x):\n    if x == "warm":\n        return None\n${body.replace(/^/gm, '    ')}\n`, { timeoutMs: 60_000, ...extra });
  const warmed = async (spec: PythonJob) => {
    expect(await thread.run(spec, 'warm')).toMatchObject({ ok: true });
    return spec;
  };
  const COUNT = 's = 0\nfor i in range(2_400_000):\n    s += i\nreturn s';
  /** Turns Pyodide's poll of the interrupt buffer off through the flag in WebAssembly memory (cannot be locked). */
  const POLL_OFF = 'import pyodide_js\nm = pyodide_js._module\nm.HEAP8[m._Py_EMSCRIPTEN_SIGNAL_HANDLING] = 0';
  /**
   * Suspends `running` after `afterMs` for at most `holdMs`; resolves with the run and how long after suspend() it
   * ended (Infinity: it was still held when resumed).
   */
  async function suspendDuring(running: Promise<ChunkRun>, afterMs = 300, holdMs = 4_000) {
    // On a loaded machine the run may take a while to reach the worker: wait until its code computes.
    const block = (thread as unknown as { interruptBuffer: Int32Array }).interruptBuffer;
    for (let waited = 0; Atomics.load(block, Control.computing) !== 1 && waited < 30_000; waited += 10) await sleep(10);
    await sleep(afterMs);
    const at = performance.now();
    thread.suspend();
    const ended = await Promise.race([running.then(() => performance.now() - at), sleep(holdMs).then(() => Infinity)]);
    thread.resume();
    return { run: await running, endedAfter: ended };
  }

  test('a chunk that ignores SIGUSR1 and SIGINT is suspended all the same (pause is no signal) and completes after resume', async () => {
    const spec = await warmed(chunk(COUNT, 'import signal\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)'));
    const { run, endedAfter } = await suspendDuring(thread.run(spec, 0), 100, 1_500);
    expect(run).toMatchObject({ ok: true, output: (2_399_999 * 2_400_000) / 2 });
    expect(run.givenBack).toBeUndefined();
    expect(endedAfter).toBe(Infinity); // still held when resumed
    expect(run.pausedMs).toBeGreaterThan(1_200);
  }, LONG);

  test('pyodide_js.setInterruptBuffer and replacing _module.Py_EmscriptenSignalBuffer are refused; pause still holds', async () => {
    const detach =
      'import pyodide_js\nout = []\n' +
      'for attempt in (lambda: pyodide_js.setInterruptBuffer(None), lambda: setattr(pyodide_js._module, "Py_EmscriptenSignalBuffer", None)):\n' +
      '    try:\n        attempt()\n        out.append("allowed")\n    except Exception as e:\n        out.append(str(e))\n' +
      COUNT.replace('return s', 'out.append(s)\nreturn out');
    const spec = await warmed(chunk(detach));
    const { run, endedAfter } = await suspendDuring(thread.run(spec, 0), 100, 1_500);
    expect(run).toMatchObject({ ok: true, output: [expect.stringContaining('belongs to'), expect.stringContaining('belongs to'), (2_399_999 * 2_400_000) / 2] });
    expect(endedAfter).toBe(Infinity);
    expect(run.pausedMs).toBeGreaterThan(1_200);
  }, LONG);

  test('a chunk that turns the poll off is stopped within 2 s of suspend() and given back; the next chunk runs', async () => {
    const spec = await warmed(chunk(`${POLL_OFF}\nwhile True:\n    pass`));
    const { run, endedAfter } = await suspendDuring(thread.run(spec, null));
    expect(run).toMatchObject({ ok: false, givenBack: true, error: expect.stringContaining('did not pause') });
    expect(endedAfter).toBeLessThan(2_000);
    expect(await thread.run(job('def main(x):\n    return x\n'), 'fresh worker')).toMatchObject({ ok: true, output: 'fresh worker' });
  }, LONG);

  test('a chunk in a tight C loop is stopped within 2 s of suspend() and given back', async () => {
    const spec = await warmed(chunk('collections.deque(itertools.count(), maxlen=0)', 'import collections, itertools'));
    const { run, endedAfter } = await suspendDuring(thread.run(spec, null));
    expect(run).toMatchObject({ ok: false, givenBack: true });
    expect(endedAfter).toBeLessThan(2_000);
  }, LONG);

  test('under a 50% CPU limit a chunk ignoring signals sleeps half its wall time; one that turns the poll off is given back', async () => {
    // The share of wall time the worker slept is the limit's measure: on a machine with other load, the iterations
    // a chunk gets at 100% are themselves cut, so a ratio of iterations says less.
    const spin = await warmed(chunk('end = time.time() + 1.5\nn = 0\nwhile time.time() < end:\n    n += 1\nreturn n', 'import signal, time\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)'));
    thread.setCpuLimit(50);
    try {
      const limited = await thread.run(spin, 0);
      const wall = limited.durationMs + (limited.pausedMs ?? 0);
      expect(limited.givenBack).toBeUndefined();
      expect(limited.pausedMs! / wall).toBeGreaterThan(0.4);
      expect(limited.pausedMs! / wall).toBeLessThan(0.6);

      const cheat = await warmed(chunk(`${POLL_OFF}\nwhile True:\n    pass`));
      const run = await thread.run(cheat, null);
      expect(run).toMatchObject({ ok: false, givenBack: true, error: expect.stringContaining('CPU limit') });
      expect(run.durationMs).toBeLessThan(3_000); // 1 s of debt at 0.5 s per second, checked every 100 ms
    } finally {
      thread.setCpuLimit(100);
    }
  }, LONG);

  test('the CPU limit counts from the chunk’s start: a worker idle for seconds does not owe them as sleep', async () => {
    // The first slice starts with the chunk. Counted from the end of the last one (or from a standby's boot), the
    // chunk's first poll (loading packages, entering its workspace) would owe the idle seconds as sleep: up to 5 s.
    const spin = await warmed(chunk('end = time.time() + 0.6\nn = 0\nwhile time.time() < end:\n    n += 1\nreturn n', 'import time'));
    await sleep(2_500);
    thread.setCpuLimit(50);
    try {
      const limited = await thread.run(spin, 0);
      const wall = limited.durationMs + (limited.pausedMs ?? 0);
      expect(limited).toMatchObject({ ok: true });
      expect(limited.pausedMs!).toBeLessThan(1_000);
      expect(wall).toBeLessThan(2_000);
    } finally {
      thread.setCpuLimit(100);
    }
  }, LONG);

  test('a chunk that ignores SIGINT and turns the poll off still ends at its timeout (+ grace): it cannot extend it', async () => {
    const spec = await warmed(chunk(`${POLL_OFF}\nwhile True:\n    pass`, 'import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)', { timeoutMs: 500 }));
    const run = await thread.run(spec, null);
    expect(run).toMatchObject({ ok: false, failure: 'timeout', error: 'timed out after 500 ms' });
    expect(run.givenBack).toBeUndefined();
    expect(run.durationMs).toBeLessThan(500 + 2_000 + 500); // timeout + grace, by the host's clock
  }, LONG);
});

describe('one job per worker', () => {
  const isolated = new RuntimeThread(spawnNodePythonWorker);
  beforeAll(() => isolated.start({}));
  afterAll(() => isolated.dispose());
  // One script for both sides: input "plant" leaves state behind, any other input reports what it finds.
  const source = [
    'import sys, builtins, types',
    'def main(x):',
    '    global planted',
    '    if x == "plant":',
    '        planted = x',
    '        builtins.PLANTED = x',
    '        sys.modules["planted_module"] = types.ModuleType("planted_module")',
    '        builtins.pow = lambda *args: 999',
    '    return {"global": "planted" in globals(), "builtin": hasattr(builtins, "PLANTED"),',
    '            "module": "planted_module" in sys.modules, "pow": pow(2, 3)}',
  ].join('\n');

  test("a job's globals, sys.modules entries and patched builtins are gone for the next job on the thread", async () => {
    const a = job(source);
    expect(await isolated.run(a, 'plant')).toMatchObject({ ok: true, output: { global: true, module: true, pow: 999 } });
    // The same job's next chunk keeps its worker (warm), and so its own leftovers.
    expect(await isolated.run(a, 'look')).toMatchObject({ ok: true, output: { global: true, builtin: true, module: true, pow: 999 } });
    expect(isolated.chunksRun).toBe(2);
    expect(isolated.loadedJobId).toBe(a.id);
    const b = job(source);
    expect(await isolated.run(b, 'look')).toMatchObject({ ok: true, output: { global: false, builtin: false, module: false, pow: 8 } });
    expect(isolated.loadedJobId).toBe(b.id);
    expect(isolated.chunksRun).toBe(1);
  });

  test('a job switch takes the standby worker, booted in the background', async () => {
    const a = job('def main(x):\n    return x\n');
    await isolated.run(a, 1);
    const before = isolated.jobSwitches;
    // Let the standby finish booting, as it does while a job's chunks run.
    await new Promise((r) => setTimeout(r, 50));
    await isolated.run(job('def main(x):\n    return -x\n'), 1);
    const after = isolated.jobSwitches;
    expect(after.warm + after.cold).toBe(before.warm + before.cold + 1);
    expect(after.warm).toBe(before.warm + 1);
  });

  test('without a standby a job switch still gets a fresh worker', async () => {
    const cold = new RuntimeThread(spawnNodePythonWorker, { standby: false });
    await cold.start({});
    try {
      await cold.run(job(source), 'plant');
      expect(await cold.run(job(source), 'look')).toMatchObject({ ok: true, output: { builtin: false, module: false, pow: 8 } });
      expect(cold.jobSwitches).toEqual({ warm: 0, cold: 1 });
    } finally {
      cold.dispose();
    }
  });
});
