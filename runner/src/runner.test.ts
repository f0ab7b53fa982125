// The runner as its owner runs it: a real coordinator process, the real runner process (`runner/src/main.ts`), real
// Pyodide. It computes a job and its results are right; Ctrl-C hands a running chunk back and exits; a result
// finished while the coordinator was down survives a restart of both and is delivered; --help and bad flags answer
// in one clear line.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChunkResult, JobSummary } from '../../protocol/index.js';
import { getJob, startCoordinator, waitForJob, type RunningCoordinator } from '../../e2e/coordinator.js';
import { startRunner, type RunningRunner } from './spawn-runner.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function coordinator(options: Parameters<typeof startCoordinator>[0] = {}): Promise<RunningCoordinator> {
  const started = await startCoordinator({ store: 'sqlite', ...options });
  cleanup.push(async () => {
    if (started.process.exitCode === null && started.process.signalCode === null) await started.kill();
  });
  return started;
}

function runner(url: string, args: string[], options: Parameters<typeof startRunner>[2] = {}): RunningRunner {
  const started = startRunner(url, args, options);
  cleanup.push(() => started.kill());
  return started;
}

async function submit(url: string, body: object): Promise<JobSummary> {
  const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
  return (await res.json()) as JobSummary;
}

async function results(url: string, jobId: string): Promise<ChunkResult[]> {
  return (await (await fetch(`${url}/api/jobs/${jobId}/results?format=json`)).json()) as ChunkResult[];
}

describe('the runner process', () => {
  it('joins a coordinator, computes a Python job in Pyodide, and keeps its identity in the state directory', async () => {
    const c = await coordinator();
    const job = await submit(c.url, { runtime: 'python', source: 'def main(x):\n    return {"x": x, "square": x * x}\n', inputs: [1, 2, 3, 4, 5, 6] });
    const r = runner(c.url, ['--threads', '2', '--runtimes', 'python']);
    const started = await r.waitFor((e) => e.event === 'started', 30_000, 'the started line');
    expect(started.capabilities).toMatchObject({ host: 'runner', runtimes: ['python'] });
    await waitForJob(c.url, job.id, (j) => j.status === 'completed', 90_000);
    const got = await results(c.url, job.id);
    expect(got.map((result) => result.output)).toEqual([1, 2, 3, 4, 5, 6].map((x) => ({ x, square: x * x })));
    await r.waitFor((e) => e.event === 'progress' && e.done === 6 && e.unsent === 0, 10_000, 'all six reported');
    const id = r.contributorId();
    expect(id).toBeTruthy();
    expect(await r.stop()).toBe(0);
    // A restart is the same contributor.
    const again = runner(c.url, ['--runtimes', 'python'], { stateDir: r.stateDir, workspace: r.workspace });
    await again.waitFor((e) => e.event === 'started', 30_000, 'the started line');
    await again.waitFor((e) => e.event === 'coordinator', 30_000, 'a lease request');
    expect(again.contributorId()).toBe(id);
  });

  it('on Ctrl-C hands the running chunk back at once and exits 0', async () => {
    const c = await coordinator();
    const job = await submit(c.url, { runtime: 'python', source: 'import time\ndef main(x):\n    end = time.time() + 60\n    while time.time() < end:\n        pass\n    return x\n', inputs: [1], timeoutMs: 120_000 });
    const r = runner(c.url, ['--threads', '1', '--runtimes', 'python']);
    await r.waitFor((e) => e.event === 'chunk', 60_000, 'the chunk starting');
    expect((await getJob(c.url, job.id)).running).toBe(1);
    const asked = Date.now();
    expect(await r.stop('SIGINT')).toBe(0);
    expect(Date.now() - asked).toBeLessThan(15_000);
    expect(r.events.some((e) => e.event === 'stopped' && e.givenBack === 1)).toBe(true);
    // Handed back, not left to lapse: another contributor gets the chunk now, not after the lease's 120 s.
    const other = (await (await fetch(`${c.url}/api/contributors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"runtimes":["python"]}' })).json()) as { contributorId: string; token: string };
    const lease = await fetch(`${c.url}/api/contributors/${other.contributorId}/leases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${other.token}` },
      body: JSON.stringify({ max: 1, runtimes: ['python'] }),
    });
    expect(((await lease.json()) as { leases: { jobId: string }[] }).leases.map((l) => l.jobId)).toEqual([job.id]);
  });

  it('a result finished while the coordinator is down survives restarting both, and is delivered', async () => {
    const first = await coordinator();
    const job = await submit(first.url, { runtime: 'python', source: 'import time\ndef main(x):\n    time.sleep(4)\n    return x * 10\n', inputs: [7] });
    const r = runner(first.url, ['--threads', '1', '--runtimes', 'python']);
    await r.waitFor((e) => e.event === 'chunk', 60_000, 'the chunk starting');
    await first.kill();
    await r.waitFor((e) => e.event === 'progress' && e.done === 1 && e.unsent === 1, 30_000, 'the finished, unsent result');
    await r.kill(); // no chance to send anything
    expect(readdirSync(path.join(r.stateDir, 'outbox')).some((name) => name.endsWith('.json'))).toBe(true);

    const second = await coordinator({ port: first.port, dataDir: first.dataDir });
    const again = runner(second.url, ['--threads', '1', '--runtimes', 'python'], { stateDir: r.stateDir, workspace: r.workspace });
    await waitForJob(second.url, job.id, (j) => j.status === 'completed', 60_000);
    expect((await results(second.url, job.id))[0].output).toBe(70);
    await again.waitFor((e) => e.event === 'progress' && e.unsent === 0, 10_000, 'the outbox emptied');
    expect(readdirSync(path.join(r.stateDir, 'outbox')).filter((name) => name.endsWith('.json'))).toEqual([]);
  });

  it('answers --help with every flag and a bad flag with one line and exit status 2', async () => {
    const help = await run(process.execPath, ['--import', 'tsx', 'runner/src/main.ts', '--help'], { cwd: ROOT });
    expect(help.stdout).toContain('--only-when-idle');
    const bad = await run(process.execPath, ['--import', 'tsx', 'runner/src/main.ts', '--coordinator', 'http://x', '--threads', 'many'], { cwd: ROOT }).catch((err) => err);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^idle-sense-runner: --threads must be a whole number/);
    expect(existsSync(path.join(ROOT, 'runner/bin/idle-sense-runner.mjs'))).toBe(true);
    const bin = await run(process.execPath, ['runner/bin/idle-sense-runner.mjs', '--help'], { cwd: ROOT });
    expect(bin.stdout).toContain('Usage: idle-sense-runner');
  });

  it.runIf(process.getuid?.() === 0)('as root, refuses at start a workspace the unprivileged chunk user cannot reach', async () => {
    const { mkdtempSync, chmodSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const locked = mkdtempSync(path.join(tmpdir(), 'runner-locked-'));
    chmodSync(locked, 0o700);
    const failed = await run(process.execPath, ['--import', 'tsx', 'runner/src/main.ts', '--coordinator', 'http://127.0.0.1:9', '--workspace', path.join(locked, 'work'), '--log', 'json'], { cwd: ROOT, timeout: 30_000 }).catch((err) => err);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/is not searchable by others \(mode 700\)/);
  });
});
