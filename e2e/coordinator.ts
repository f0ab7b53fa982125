// Starts a real coordinator process for a spec (its own port and data directory) and stops or kills it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSummary } from '../protocol/index.js';

export interface RunningCoordinator {
  url: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function startCoordinator(
  options: { store?: 'sqlite' | 'memory'; dataDir?: string; port?: number; args?: string[] } = {},
): Promise<RunningCoordinator> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'idle-sense-e2e-'));
  const args = ['--import', 'tsx', 'coordinator/src/main.ts', '--port', String(port), '--host', '127.0.0.1'];
  args.push('--store', options.store ?? 'sqlite', '--data-dir', dataDir, ...(options.args ?? []));
  const child = spawn(process.execPath, args, { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`coordinator exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) throw new Error(`coordinator did not start in 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  return {
    url,
    port,
    dataDir,
    process: child,
    log: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      await exited();
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited();
    },
  };
}

export async function getJob(url: string, id: string): Promise<JobSummary> {
  const res = await fetch(`${url}/api/jobs/${id}`);
  if (!res.ok) throw new Error(`GET job ${id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as JobSummary;
}

export async function waitForJob(
  url: string,
  id: string,
  done: (job: JobSummary) => boolean,
  timeoutMs = 120_000,
): Promise<JobSummary> {
  const started = Date.now();
  for (;;) {
    const job = await getJob(url, id);
    if (done(job)) return job;
    if (Date.now() - started > timeoutMs) throw new Error(`job ${id} did not get there in ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
