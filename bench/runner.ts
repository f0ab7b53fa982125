// The headless runner against the tab on the same Python program, end to end through a real coordinator: the per-chunk
// compute time each host reports (ChunkResult.durationMs) for the runner's Pyodide (worker_threads), a tab's
// Pyodide (headless Chromium, the contribute page), the runner's native runtime (python3 under bubblewrap), and
// python3 run directly. Run alone with `npx tsx bench/runner.ts` (after `npm run build`: the tab loads the built
// page); bench/run.ts calls benchRunner().
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from '@playwright/test';
import { findChromium } from '../e2e/browser-path.mjs';
import { startCoordinator, waitForJob, type RunningCoordinator } from '../e2e/coordinator.js';
import type { ChunkResult, JobSummary } from '../protocol/index.js';
import { startRunner } from '../runner/src/spawn-runner.js';
import { PRIME_COUNT } from './kernels.js';

const COMMAND = 'npx tsx bench/runner.ts';
const CHUNKS = 10;
const N = 120_000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function submit(url: string, body: object): Promise<JobSummary> {
  const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
  return (await res.json()) as JobSummary;
}

async function chunkTimes(c: RunningCoordinator, job: JobSummary): Promise<number[]> {
  await waitForJob(c.url, job.id, (j) => j.status === 'completed', 300_000);
  const results = (await (await fetch(`${c.url}/api/jobs/${job.id}/results?format=json`)).json()) as ChunkResult[];
  return results.map((r) => r.durationMs ?? NaN);
}

const inputs = Array.from({ length: CHUNKS }, (_, i) => N + i);

export async function benchRunner(): Promise<{ markdown: string }> {
  if (!existsSync(new URL('../dist/index.html', import.meta.url))) return { markdown: '_Skipped: run `npm run build` first (the tab loads the built page)._' };
  const rows: [string, number[]][] = [];
  // 1. The runner's Pyodide.
  let c = await startCoordinator({ store: 'memory' });
  try {
    const job = await submit(c.url, { runtime: 'python', source: PRIME_COUNT, inputs });
    const runner = startRunner(c.url, ['--threads', '1', '--runtimes', 'python']);
    try {
      rows.push(['runner: Pyodide (worker_threads)', await chunkTimes(c, job)]);
    } finally {
      await runner.kill();
    }
    // 2. The runner's native runtime: python3 under bubblewrap.
    const native = await submit(c.url, { runtime: 'native', command: ['python3', 'main.py'], source: PRIME_COUNT, inputs: inputs.map((n) => [n]) });
    const nativeRunner = startRunner(c.url, ['--threads', '1', '--runtimes', 'native']);
    try {
      rows.push(['runner: native (python3 in bubblewrap)', await chunkTimes(c, native)]);
    } finally {
      await nativeRunner.kill();
    }
  } finally {
    await c.stop();
  }
  // 3. A tab's Pyodide: headless Chromium on the contribute page, one thread.
  c = await startCoordinator({ store: 'memory' });
  const browser = await chromium.launch({ executablePath: findChromium(), args: ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking'] });
  try {
    const job = await submit(c.url, { runtime: 'python', source: PRIME_COUNT, inputs });
    const page = await browser.newPage();
    await page.goto(`${c.url}/`);
    await page.getByTestId('threads-input').fill('1');
    await page.getByRole('button', { name: 'Start contributing' }).click();
    rows.push(['tab: Pyodide (Chromium Web Worker)', await chunkTimes(c, job)]);
  } finally {
    await browser.close();
    await c.stop();
  }
  // 4. python3 directly, same program, same inputs.
  const dir = await mkdtemp(join(tmpdir(), 'idle-sense-bench-runner-'));
  await writeFile(join(dir, 'main.py'), PRIME_COUNT);
  const direct: number[] = [];
  for (const n of inputs) {
    const started = performance.now();
    await promisify(execFile)('/usr/bin/python3', ['main.py', String(n)], { cwd: dir });
    direct.push(performance.now() - started);
  }
  rows.push(['python3 directly (process start included)', direct]);

  const tab = median(rows.find(([name]) => name.startsWith('tab'))![1]);
  const table = rows.map(([name, times]) => `| ${name} | ${median(times).toFixed(0)} | ${Math.min(...times).toFixed(0)} | ${(median(times) / tab).toFixed(2)}× |`);
  const markdown = [
    `Command: \`${COMMAND}\` (also part of \`npm run bench\`). ${CHUNKS} chunks of a pure-Python trial-division prime count up to ${N.toLocaleString('en')}, one thread each, through a real coordinator; the time is each host's own per-chunk compute time (ChunkResult.durationMs), python3's is the whole process.`,
    '',
    '| host | median ms per chunk | fastest | vs the tab |',
    '| --- | ---: | ---: | ---: |',
    ...table,
  ].join('\n');
  return { markdown };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await benchRunner()).markdown);
  process.exit(0);
}
