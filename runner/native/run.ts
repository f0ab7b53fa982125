// Runs one native chunk in its workspace, under bubblewrap (no image) or docker/podman (with `image`), and turns what
// it did into a ChunkRun: output.json or stdout, attachments from out/, failures as data. The handle suspends,
// resumes and kills the chunk's whole process tree (its PID namespace, or its container).
//
//   const dir = await createWorkspace(root);
//   const run = await runNativeChunk({ job: { command: ['python3', 'main.py'], source }, input: [3], workspaceDir: dir,
//     limits: { timeoutMs: 60_000, memoryMb: 1024, fileSizeMb: 256, maxProcesses: 64, diskQuotaMb: 512 } });
//   // upload run.files (name, size, path), then: await removeWorkspace(dir);
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { lchown, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkRun } from '../../wasm-runtimes/runtime.js';
import type { FailureKind } from '../../protocol/index.js';
import { bwrapCommand } from './bwrap.js';
import { containerCommand, type ContainerOptions } from './container.js';
import { detectSandbox, type SandboxInfo } from './detect.js';
import type { NativeLimits } from './limits.js';
import { listFiles, prepareWorkspace, readRegularFile, workspaceUsage, type WorkspaceFile } from './workspace.js';

export interface NativeJob {
  /** argv, e.g. ["python3", "main.py"]; run with cwd /work. */
  command: string[];
  /** Written to /work/main.py. */
  source?: string;
  /** More files by relative name. */
  files?: Record<string, string>;
  /** Container image: run with docker/podman instead of bubblewrap. */
  image?: string;
}

export interface RunNativeOptions {
  job: NativeJob;
  input: unknown;
  /** A fresh folder from createWorkspace(); the caller may have filled checkpoint/ already. */
  workspaceDir: string;
  limits: NativeLimits;
  /** Aborting kills the chunk; the run resolves as given back (not the job's fault). */
  signal?: AbortSignal;
  /** Called once the sandbox process exists, with the handle (suspend / resume / kill). */
  onSpawn?: (chunk: NativeChunk) => void;
  /** From detectSandbox(); detected here when absent. */
  sandbox?: SandboxInfo;
  /** Cap on captured stdout and stderr, each (default 1 MiB); the rest is dropped with a visible marker. */
  outputCapBytes?: number;
  /** Largest output.json accepted (default 8 MiB). */
  maxOutputBytes?: number;
  /** Most files and folders the workspace may hold (default 100,000): the quota poll walks them all. */
  maxEntries?: number;
  /** How often the host measures the workspace against diskQuotaMb (default 100 ms). */
  quotaPollMs?: number;
  container?: ContainerOptions;
}

/** A ChunkRun with the attachments' host paths, and how it ran. */
export type NativeRun = ChunkRun & {
  backend: 'bwrap' | 'container';
  /** The sandbox's exit status (null when it was killed or never started). */
  exitCode?: number | null;
  files?: WorkspaceFile[];
};

const DEFAULT_OUTPUT_CAP = 2 ** 20;
const DEFAULT_MAX_OUTPUT = 8 * 2 ** 20;
const STDERR_TAIL = 4000;
const SIGNALS: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ' };

/**
 * The command-line arguments an input adds: the elements of an array of scalars (strings as they are, numbers,
 * booleans and null as JSON text), as Python script mode's `argvFor` does; any other input adds none.
 */
export function argvForInput(input: unknown): string[] {
  if (!Array.isArray(input)) return [];
  if (!input.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return [];
  return input.map((value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null')));
}

/** Keeps the first `cap` bytes of a stream and counts the rest. */
class Capture {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;
  constructor(private readonly cap: number) {}
  push(data: Buffer): void {
    const room = this.cap - this.kept;
    if (room > 0) {
      const part = data.length > room ? data.subarray(0, room) : data;
      this.parts.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, data.length - Math.max(0, room));
  }
  text(): string {
    const text = Buffer.concat(this.parts).toString('utf8');
    return this.dropped > 0 ? `${text}\n[... output truncated: ${this.dropped} more bytes ...]\n` : text;
  }
}

type Reason = 'timeout' | 'quota' | 'cancel' | 'kill';

/** Runs a chunk and waits for its result. See startNativeChunk for a handle to suspend or kill it. */
export function runNativeChunk(options: RunNativeOptions): Promise<NativeRun> {
  return startNativeChunk(options).result;
}

/** Starts a chunk; `result` resolves when it is over (never rejects for anything the chunk does). */
export function startNativeChunk(options: RunNativeOptions): NativeChunk {
  return new NativeChunk(options);
}

/** One running chunk: suspend/resume for the runner's idle pauses, kill for cancel. */
export class NativeChunk {
  readonly result: Promise<NativeRun>;
  private child?: ChildProcess;
  private backend: 'bwrap' | 'container';
  private sandbox?: SandboxInfo;
  private containerName?: string;
  private reason?: Reason;
  private quotaNote = '';
  private timer?: NodeJS.Timeout;
  private remainingMs: number;
  private timerStartedAt = 0;
  private pauseStartedAt?: number;
  private pausedTotal = 0;
  private done = false;
  private pidNamespace?: string;

  constructor(private readonly options: RunNativeOptions) {
    this.backend = options.job.image ? 'container' : 'bwrap';
    this.remainingMs = options.limits.timeoutMs;
    this.result = this.run().finally(() => {
      this.done = true;
      clearTimeout(this.timer);
    });
  }

  /** Whether the chunk is suspended now. */
  get suspended(): boolean {
    return this.pauseStartedAt !== undefined;
  }

  /** Time spent suspended so far (not counted against the timeout). */
  get pausedMs(): number {
    return this.pausedTotal + (this.pauseStartedAt !== undefined ? performance.now() - this.pauseStartedAt : 0);
  }

  /**
   * Stops every process of the chunk (SIGSTOP to each process in its PID namespace, repeated until no new one
   * appears; `pause` for a container) and stops its timeout clock. Safe to call twice.
   */
  async suspend(): Promise<void> {
    if (this.done || this.suspended || !this.child) return;
    this.pauseStartedAt = performance.now();
    clearTimeout(this.timer);
    this.remainingMs -= performance.now() - this.timerStartedAt;
    if (this.backend === 'container') {
      await this.engineUntil('pause');
      return;
    }
    const stopped = new Set<number>();
    for (let round = 0; round < 100; round++) {
      const fresh = this.namespacePids().filter((pid) => !stopped.has(pid));
      if (fresh.length === 0) break;
      for (const pid of fresh) {
        signal(pid, 'SIGSTOP');
        stopped.add(pid);
      }
    }
  }

  /** Continues a suspended chunk and its timeout clock. */
  async resume(): Promise<void> {
    if (this.done || !this.suspended) return;
    if (this.backend === 'container') await this.engineUntil('unpause');
    else for (const pid of this.namespacePids()) signal(pid, 'SIGCONT');
    this.pausedTotal += performance.now() - (this.pauseStartedAt ?? performance.now());
    this.pauseStartedAt = undefined;
    this.armTimer();
  }

  /** Kills the whole process tree; the run resolves as given back. Resolves once the sandbox is gone. */
  async kill(): Promise<void> {
    await this.terminate('kill');
    await this.result;
  }

  /** Process ids in the chunk's PID namespace (bwrap only), found through /proc. */
  namespacePids(): number[] {
    const namespace = this.findPidNamespace();
    if (!namespace) return [];
    const pids: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (readlinkSync(`/proc/${name}/ns/pid`) === namespace) pids.push(Number(name));
      } catch {
        // gone meanwhile, or not ours to look at
      }
    }
    return pids;
  }

  private findPidNamespace(): string | undefined {
    if (this.pidNamespace || !this.child?.pid) return this.pidNamespace;
    try {
      // bwrap's one child is the namespace's init; the outer bwrap itself stays in ours.
      const pid = this.child.pid;
      const inner = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
      if (inner) this.pidNamespace = readlinkSync(`/proc/${inner}/ns/pid`);
    } catch {
      // not started yet, or already over
    }
    return this.pidNamespace;
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timerStartedAt = performance.now();
    this.timer = setTimeout(() => void this.terminate('timeout'), Math.max(0, this.remainingMs));
  }

  private async terminate(reason: Reason): Promise<void> {
    if (this.done || this.reason) return;
    this.reason = reason;
    const child = this.child;
    if (!child?.pid) return;
    if (this.backend === 'container' && this.containerName) {
      await engine(this.sandbox!, ['kill', this.containerName]);
      await engine(this.sandbox!, ['rm', '-f', this.containerName]);
    } else {
      // The namespace's init first: killing it kills every process in the namespace, stopped ones included.
      for (const pid of this.namespacePids()) signal(pid, 'SIGKILL');
    }
    signal(-child.pid, 'SIGKILL'); // the bwrap or podman client's own process group
  }

  /** pause/unpause need the container to exist; right after spawn it may not yet. */
  private async engineUntil(verb: 'pause' | 'unpause'): Promise<void> {
    for (let i = 0; i < 50 && !this.done; i++) {
      if ((await engine(this.sandbox!, [verb, this.containerName!])).ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async run(): Promise<NativeRun> {
    const { job, input, workspaceDir, limits } = this.options;
    const started = performance.now();
    const base = { stdout: '', stderr: '', backend: this.backend };
    const fail = (failure: FailureKind, error: string, extra: Partial<NativeRun> = {}): NativeRun =>
      ({ ok: false, failure, error, ...base, durationMs: performance.now() - started, ...extra }) as NativeRun;
    if (!Array.isArray(job.command) || job.command.length === 0) return fail('exception', 'the job has no command');
    try {
      await prepareWorkspace(workspaceDir, job, input);
    } catch (err) {
      return fail('exception', (err as Error).message);
    }
    const sandbox = (this.sandbox = this.options.sandbox ?? (await detectSandbox()));
    const ownUid = process.getuid?.();
    if (ownUid !== undefined && sandbox.uid !== ownUid) await chownTree(workspaceDir, sandbox.uid, sandbox.gid);
    const argv = [...job.command, ...argvForInput(input)];
    let file: string;
    let args: string[];
    let fdData: string[] = [];
    try {
      if (job.image) {
        const command = containerCommand(sandbox, job.image, workspaceDir, argv, limits, this.options.container);
        ({ file, args } = command);
        this.containerName = command.name;
      } else {
        ({ file, args, fdData } = bwrapCommand(sandbox, workspaceDir, argv, limits));
      }
    } catch (err) {
      return fail('crash', (err as Error).message);
    }
    const dropPrivileges = this.backend === 'bwrap' && ownUid !== undefined && sandbox.uid !== ownUid;
    const stdoutCap = new Capture(this.options.outputCapBytes ?? DEFAULT_OUTPUT_CAP);
    const stderrCap = new Capture(this.options.outputCapBytes ?? DEFAULT_OUTPUT_CAP);
    const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(file, args, {
          cwd: '/',
          detached: true, // its own process group, which terminate() kills
          stdio: ['ignore', 'pipe', 'pipe', ...fdData.map(() => 'pipe' as const)],
          env: this.backend === 'bwrap' ? { PATH: process.env.PATH ?? '/usr/bin:/bin' } : process.env,
          ...(dropPrivileges ? { uid: sandbox.uid, gid: sandbox.gid } : {}),
        });
      } catch (err) {
        resolve({ code: null, error: err as Error });
        return;
      }
      this.child = child;
      child.stdout!.on('data', (d: Buffer) => stdoutCap.push(d));
      child.stderr!.on('data', (d: Buffer) => stderrCap.push(d));
      fdData.forEach((text, i) => {
        const stream = child.stdio[3 + i] as NodeJS.WritableStream & { on(e: 'error', f: () => void): void };
        stream.on('error', () => undefined); // bwrap failed before reading it: its exit says why
        stream.end(text);
      });
      let settled = false;
      child.on('error', (error) => {
        if (!settled) (settled = true), resolve({ code: null, error });
      });
      child.on('close', (code) => {
        if (!settled) (settled = true), resolve({ code });
      });
      // 'close' waits for stdout and stderr to close. Every process that could hold them dies with the sandbox's
      // PID namespace or container, but should one not, the chunk is still over once the sandbox process exits.
      child.on('exit', (code) => {
        setTimeout(() => {
          if (settled) return;
          settled = true;
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve({ code });
        }, 1000).unref();
      });
      if (child.pid) {
        this.armTimer();
        this.pollQuota();
        const abort = this.options.signal;
        if (abort?.aborted) void this.terminate('cancel');
        abort?.addEventListener('abort', () => void this.terminate('cancel'), { once: true });
        this.options.onSpawn?.(this);
      }
    });
    this.done = true;
    clearTimeout(this.timer);
    if (this.pauseStartedAt !== undefined) this.pausedTotal += performance.now() - this.pauseStartedAt;
    this.pauseStartedAt = undefined;
    const stdout = stdoutCap.text();
    const stderr = stderrCap.text();
    const common = { stdout, stderr, backend: this.backend, exitCode: exit.code, pausedMs: Math.round(this.pausedTotal) };
    const durationMs = performance.now() - started - this.pausedTotal;
    const failed = (failure: FailureKind, error: string, extra: Partial<NativeRun> = {}): NativeRun =>
      ({ ok: false, failure, error, ...common, durationMs, ...extra }) as NativeRun;

    if (exit.error) return failed('crash', `could not start ${file}: ${exit.error.message}`);
    if (this.reason === 'timeout') return failed('timeout', `timed out after ${limits.timeoutMs} ms`);
    if (this.reason === 'cancel' || this.reason === 'kill') {
      return failed('crash', this.reason === 'cancel' ? 'cancelled' : 'killed by the runner', { givenBack: true });
    }
    if (this.reason === 'quota' || (await this.overQuota())) return failed('output', this.quotaNote);
    const code = exit.code ?? -1;
    if (code !== 0) {
      if (this.backend === 'bwrap' && code === 1 && /^bwrap: /.test(stderr) && stdout === '') {
        return failed('crash', `the sandbox did not start: ${stderr.trim()}`);
      }
      const signalNumber = code > 128 && code < 128 + 65 ? code - 128 : undefined;
      if (signalNumber === 24) return failed('timeout', `CPU time limit of ${limits.cpuSeconds} s exceeded (SIGXCPU)`);
      if (signalNumber === 25) return failed('output', `file size limit of ${limits.fileSizeMb} MiB exceeded (SIGXFSZ)`);
      const how = signalNumber ? `exit status ${code} (128 + ${signalNumber}: killed by ${SIGNALS[signalNumber] ?? `signal ${signalNumber}`}?)` : `exit status ${code}`;
      const tail = stderr.length > STDERR_TAIL ? `…${stderr.slice(-STDERR_TAIL)}` : stderr;
      return failed('exception', `${job.command.join(' ')}: ${how}${tail.trim() ? `\n${tail.trimEnd()}` : ''}`);
    }
    const maxOutput = this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const text = await readRegularFile(join(workspaceDir, 'output.json'), maxOutput).catch((err: Error) => err);
    let output: unknown = stdout;
    if (text instanceof Error) return failed('output', `output.json could not be read: ${text.message}`);
    if (text === 'too-large') return failed('output', `output.json is larger than ${maxOutput} bytes`);
    if (text === 'not-a-file') return failed('output', 'output.json is not a regular file');
    if (text !== 'missing') {
      try {
        output = JSON.parse(text);
      } catch (err) {
        return failed('output', `output.json is not valid JSON: ${(err as Error).message}`);
      }
    }
    const files = await listFiles(workspaceDir);
    const runtimeInfo =
      this.backend === 'bwrap'
        ? { sandbox: 'bwrap', bwrap: sandbox.bwrap?.version }
        : { sandbox: sandbox.container?.engine, image: job.image };
    return { ok: true, output, ...common, durationMs, files, runtimeInfo };
  }

  private pollQuota(): void {
    const every = this.options.quotaPollMs ?? 100;
    const tick = async () => {
      if (this.done || this.reason) return;
      if (!this.suspended && (await this.overQuota())) {
        await this.terminate('quota');
        return;
      }
      setTimeout(tick, every).unref();
    };
    setTimeout(tick, every).unref();
  }

  private async overQuota(): Promise<boolean> {
    const { diskQuotaMb } = this.options.limits;
    const maxEntries = this.options.maxEntries ?? 100_000;
    const usage = await workspaceUsage(this.options.workspaceDir);
    if (usage.bytes > diskQuotaMb * 2 ** 20) {
      this.quotaNote = `disk quota exceeded: the workspace held ${(usage.bytes / 2 ** 20).toFixed(1)} MiB, more than the ${diskQuotaMb} MiB allowed`;
      return true;
    }
    if (usage.entries > maxEntries) {
      this.quotaNote = `disk quota exceeded: the workspace held ${usage.entries} files and folders, more than the ${maxEntries} allowed`;
      return true;
    }
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function engine(sandbox: SandboxInfo, args: string[]): Promise<{ ok: boolean }> {
  const container = sandbox.container!;
  return new Promise((resolve) => {
    execFile(container.engine, [...container.extraFlags, ...args], { timeout: 30_000 }, (error) => resolve({ ok: !error }));
  });
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await lchown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, uid, gid);
    else await lchown(path, uid, gid);
  }
}

/** Removes containers a crashed earlier run left (names starting with CONTAINER_PREFIX). Returns their names. */
export async function sweepStaleContainers(sandbox: SandboxInfo): Promise<string[]> {
  const container = sandbox.container;
  if (!container) return [];
  const names = await new Promise<string[]>((resolve) => {
    execFile(container.engine, [...container.extraFlags, 'ps', '-a', '--format', '{{.Names}}'], { timeout: 30_000 }, (error, stdout) =>
      resolve(error ? [] : String(stdout).split('\n').filter((n) => n.startsWith('idle-sense-chunk-'))),
    );
  });
  for (const name of names) await engine(sandbox, ['rm', '-f', name]);
  return names;
}
