// Python runtime benchmark: per-chunk overhead through RuntimeThread (worker + Comlink + Pyodide) and the speed of
// Pyodide against native CPython on a pure-Python kernel. Run alone with `npx tsx bench/python.ts`; bench/run.ts
// calls benchPython().
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { JobSpec } from '../protocol/index.js';
import { PRIME_COUNT } from './kernels.js';
import { spawnNodePythonWorker } from '../wasm-runtimes/python/node.js';
import { RuntimeThread } from '../wasm-runtimes/host/thread.js';

const COMMAND = 'npx tsx bench/python.ts';
const OVERHEAD_CHUNKS = 2000;
const WARMUP_CHUNKS = 2000; // the JIT of both threads settles only after a thousand or so
const KERNEL_N = 500_000; // about 1 s in native CPython on a typical server core
const KERNEL_REPEATS = 3;

function spec(id: string, source: string): JobSpec {
  return { id, name: id, runtime: 'python', source, timeoutMs: 120_000 };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function median(values: number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

async function nativeKernel(): Promise<{ version: string; seconds: number[]; result: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'idle-sense-bench-'));
  try {
    await writeFile(join(dir, 'main.py'), PRIME_COUNT);
    const run = promisify(execFile);
    const version = (await run('/usr/bin/env', ['python3', '--version'])).stdout.trim();
    const seconds: number[] = [];
    let result = 0;
    for (let i = 0; i < KERNEL_REPEATS; i++) {
      const { stdout } = await run('/usr/bin/env', ['python3', 'main.py', String(KERNEL_N)], { cwd: dir });
      const parsed = JSON.parse(stdout) as { result: number; seconds: number };
      seconds.push(parsed.seconds);
      result = parsed.result;
    }
    return { version, seconds, result };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchPython(): Promise<{ markdown: string }> {
  const thread = new RuntimeThread(spawnNodePythonWorker);
  const bootStarted = performance.now();
  await thread.start({});
  const bootMs = performance.now() - bootStarted;
  try {
    const echo = spec('bench-echo', 'def main(x):\n    return x\n');
    for (let i = 0; i < WARMUP_CHUNKS; i++) await thread.run(echo, i);
    const roundTrips: number[] = [];
    for (let i = 0; i < OVERHEAD_CHUNKS; i++) {
      const started = performance.now();
      const run = await thread.run(echo, i);
      roundTrips.push(performance.now() - started);
      if (!run.ok || run.output !== i) throw new Error(`echo chunk ${i} failed: ${JSON.stringify(run)}`);
    }
    roundTrips.sort((a, b) => a - b);

    const kernel = spec('bench-kernel', PRIME_COUNT);
    const pyodideSeconds: number[] = [];
    let pyodideResult: unknown;
    for (let i = 0; i < KERNEL_REPEATS; i++) {
      const run = await thread.run(kernel, KERNEL_N);
      if (!run.ok) throw new Error(`kernel failed in Pyodide: ${run.error}`);
      pyodideSeconds.push(run.durationMs / 1000);
      pyodideResult = run.output;
    }
    const native = await nativeKernel();
    if (pyodideResult !== native.result) throw new Error(`kernel results differ: ${pyodideResult} vs ${native.result}`);
    const ratio = median(pyodideSeconds) / median(native.seconds);

    const ms = (v: number) => v.toFixed(3);
    const s = (v: number) => v.toFixed(3);
    const markdown = [
      '## Python runtime (Pyodide)',
      '',
      `Command: \`${COMMAND}\` (Node ${process.version}, Pyodide in a worker_threads worker via RuntimeThread).`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| worker start (spawn + load Pyodide) | ${bootMs.toFixed(0)} ms |`,
      `| per-chunk overhead, \`def main(x): return x\`, median of ${OVERHEAD_CHUNKS} warm chunks | ${ms(quantile(roundTrips, 0.5))} ms |`,
      `| per-chunk overhead, p99 | ${ms(quantile(roundTrips, 0.99))} ms |`,
      `| prime-count kernel (n=${KERNEL_N}), Pyodide, median of ${KERNEL_REPEATS} | ${s(median(pyodideSeconds))} s |`,
      `| same kernel, native ${native.version}, median of ${KERNEL_REPEATS} | ${s(median(native.seconds))} s |`,
      `| Pyodide / native | ${ratio.toFixed(2)}× |`,
      '',
      'Overhead is the host-side round trip (lock, Comlink message, JSON in and out of Python, capture reset).',
      'Kernel times exclude start-up on both sides; Pyodide runs Python 3.14, native is whatever `python3` is on PATH.',
      '',
    ].join('\n');
    return { markdown };
  } finally {
    thread.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await benchPython()).markdown);
}
