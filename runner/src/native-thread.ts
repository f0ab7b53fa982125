// The runner's thread for `native` jobs: one chunk at a time in a fresh workspace under runner/native's sandbox
// (bubblewrap, or docker/podman for jobs with an image). It restores a lease's checkpoint into /work/checkpoint/
// before the chunk starts, uploads that folder every few seconds while it runs (the chunk is stopped for the moment
// it is read, so it cannot swap a file for a link to the runner's own files meanwhile), returns /work/out/ files as
// attachments, and deletes the workspace after every outcome.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChunkServices } from '../../contributor-core/contributor.js';
import { relativePathProblem, type JobSpec } from '../../protocol/index.js';
import type { ChunkContext, ChunkRun, RuntimeOptions } from '../../wasm-runtimes/runtime.js';
import { createWorkspace, listFiles, removeWorkspace, startNativeChunk, type NativeChunk, type SandboxInfo, type WorkspaceFile } from '../native/index.js';

export interface NativeThreadOptions {
  workspaceRoot: string;
  sandbox: SandboxInfo;
  limits: { memoryMb: number; diskQuotaMb: number; gpu: boolean };
  checkpointEveryMs: number;
  /** Largest checkpoint uploaded (bytes, all files together); a larger one is skipped and logged in stderr. */
  maxCheckpointBytes?: number;
  /** Where checkpoint problems are told (the runner's log). */
  onNote?: (note: string) => void;
  /** A checkpoint was restored before a chunk (`restored`) or uploaded while it ran (`saved`). */
  onCheckpoint?: (event: { action: 'restored' | 'saved'; jobId: string; files: number; bytes: number }) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024;
const MAX_CHECKPOINT_FILES = 256;

/**
 * @example
 * const thread = new NativeThread({ workspaceRoot, sandbox: await detectSandbox(), limits, checkpointEveryMs: 60_000 });
 * const run = await thread.run(job, input, {}, services);
 */
export class NativeThread {
  private chunk?: NativeChunk;
  private suspended = false;
  private disposed = false;
  private runs = 0;
  private lastJobId?: string;
  private cpuLimit = 100;
  private throttling = false;

  constructor(private readonly options: NativeThreadOptions) {}

  async start(_options: RuntimeOptions = {}): Promise<void> {}

  async run(job: JobSpec, input: unknown, context?: ChunkContext, services?: ChunkServices): Promise<ChunkRun> {
    if (job.runtime !== 'native') return { ok: false, failure: 'crash', error: `the native thread cannot run ${job.runtime} jobs`, stdout: '', stderr: '', durationMs: 0 };
    if (this.disposed) throw new Error('the thread is disposed');
    this.lastJobId = job.id;
    this.runs++;
    const dir = await createWorkspace(this.options.workspaceRoot);
    let timer: ReturnType<typeof setInterval> | undefined;
    try {
      const restored = services?.checkpoint ? await this.restore(dir, services) : undefined;
      if (restored) return restored;
      if (services?.checkpoint) {
        const files = services.checkpoint.files;
        this.options.onCheckpoint?.({ action: 'restored', jobId: job.id, files: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0) });
      }
      const { limits } = this.options;
      const chunk = startNativeChunk({
        job: { command: job.command, source: job.source, files: job.files, image: job.image },
        input,
        workspaceDir: dir,
        sandbox: this.options.sandbox,
        limits: {
          timeoutMs: job.timeoutMs,
          memoryMb: limits.memoryMb,
          fileSizeMb: limits.diskQuotaMb,
          diskQuotaMb: limits.diskQuotaMb,
          maxProcesses: 256,
          // The GPU's device nodes only for jobs that asked for a GPU (and were leased here because it has one).
          ...(limits.gpu && job.requires?.gpu ? { devices: gpuDevices() } : {}),
        },
        maxOutputBytes: context?.maxOutputBytes,
      });
      this.chunk = chunk;
      if (this.suspended) await chunk.suspend();
      this.throttle(chunk);
      let saving: Promise<void> | undefined;
      let lastSaved = '';
      if (services) {
        timer = setInterval(() => {
          if (saving) return;
          saving = this.saveCheckpoint(chunk, dir, services, lastSaved, job.id)
            .then((saved) => {
              if (saved !== undefined) lastSaved = saved;
            })
            .catch((err: Error) => this.options.onNote?.(`checkpoint upload failed: ${err.message}`))
            .finally(() => (saving = undefined));
        }, this.options.checkpointEveryMs);
      }
      const run = await chunk.result;
      clearInterval(timer);
      await saving;
      const files = run.ok ? await Promise.all(((run.files ?? []) as WorkspaceFile[]).map(async (file) => ({ name: file.name, size: file.size, bytes: new Uint8Array(await readFile(file.path)) }))) : undefined;
      const { backend: _backend, exitCode: _exitCode, ...common } = run;
      // Output taken from stdout is not sent twice (as in Python script mode).
      if (common.ok && typeof common.output === 'string' && common.output === common.stdout) common.stdout = '';
      return { ...common, ...(files ? { files } : {}) } as ChunkRun;
    } finally {
      clearInterval(timer);
      this.chunk = undefined;
      await removeWorkspace(dir);
    }
  }

  /** Writes the lease's checkpoint files into /work/checkpoint/; a failure to fetch them fails the chunk as a crash. */
  private async restore(dir: string, services: ChunkServices): Promise<ChunkRun | undefined> {
    try {
      for (const file of services.checkpoint!.files) {
        const problem = relativePathProblem(file.name);
        if (problem) throw new Error(`checkpoint file name ${JSON.stringify(file.name)} ${problem}`);
        const bytes = await services.downloadBlob(file.blob);
        const target = path.join(dir, 'checkpoint', ...file.name.split('/'));
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, bytes);
      }
      return undefined;
    } catch (err) {
      return { ok: false, failure: 'crash', error: `could not restore the chunk's checkpoint: ${(err as Error).message}`, stdout: '', stderr: '', durationMs: 0 };
    }
  }

  /**
   * Reads /work/checkpoint/ with the chunk stopped and uploads it when it changed. Returns the fingerprint saved
   * (undefined: nothing new).
   */
  private async saveCheckpoint(chunk: NativeChunk, dir: string, services: ChunkServices, last: string, jobId: string): Promise<string | undefined> {
    const wasSuspended = chunk.suspended;
    if (!wasSuspended) await chunk.suspend();
    let files: { name: string; bytes: Uint8Array }[];
    try {
      const listed = await listFiles(dir, 'checkpoint');
      const total = listed.reduce((sum, file) => sum + file.size, 0);
      const cap = this.options.maxCheckpointBytes ?? MAX_CHECKPOINT_BYTES;
      if (listed.length === 0) return undefined;
      if (total > cap || listed.length > MAX_CHECKPOINT_FILES) {
        this.options.onNote?.(`checkpoint not uploaded: ${listed.length} files, ${total} bytes (at most ${MAX_CHECKPOINT_FILES} files, ${cap} bytes)`);
        return undefined;
      }
      files = await Promise.all(listed.map(async (file) => ({ name: file.name, bytes: new Uint8Array(await readFile(file.path)) })));
    } finally {
      if (!wasSuspended && !this.suspended) await chunk.resume();
    }
    const fingerprint = files.map((f) => `${f.name}:${f.bytes.byteLength}:${hash(f.bytes)}`).join('|');
    if (fingerprint === last) return undefined;
    await services.saveCheckpoint(files);
    this.options.onCheckpoint?.({ action: 'saved', jobId, files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes.byteLength, 0) });
    return fingerprint;
  }

  interrupt(): void {
    void this.chunk?.kill();
  }

  suspend(): boolean {
    this.suspended = true;
    void this.chunk?.suspend();
    return true;
  }

  resume(): void {
    this.suspended = false;
    void this.chunk?.resume();
  }

  /**
   * Keeps a chunk to `percent` of wall time by stopping and continuing its processes (a 200 ms cycle), as the tab's
   * runtimes sleep their share: no cgroups needed. Time stopped this way is not counted against the timeout.
   */
  setCpuLimit(percent: number): void {
    this.cpuLimit = Math.max(1, Math.min(100, percent));
    if (this.chunk) this.throttle(this.chunk);
  }

  private throttle(chunk: NativeChunk): void {
    if (this.throttling || this.cpuLimit >= 100) return;
    this.throttling = true;
    const period = 200;
    void (async () => {
      while (this.chunk === chunk && this.cpuLimit < 100) {
        await sleep((period * this.cpuLimit) / 100);
        if (this.chunk !== chunk) break;
        if (!this.suspended) await chunk.suspend();
        await sleep((period * (100 - this.cpuLimit)) / 100);
        if (this.chunk !== chunk) break;
        if (!this.suspended) await chunk.resume();
      }
      this.throttling = false;
    })();
  }

  get loadedJobId(): string | undefined {
    return this.lastJobId;
  }

  get chunksRun(): number {
    return this.runs;
  }

  async memoryBytes(): Promise<number> {
    return 0;
  }

  async recycle(): Promise<void> {}

  dispose(): void {
    this.disposed = true;
    void this.chunk?.kill();
  }
}

/** NVIDIA's device nodes on this machine (/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm...). */
function gpuDevices(): string[] {
  try {
    return readdirSync('/dev').filter((name) => /^nvidia/.test(name)).map((name) => `/dev/${name}`).filter((p) => statSync(p).isCharacterDevice());
  } catch {
    return [];
  }
}

/** A content fingerprint, to skip uploading an unchanged checkpoint. */
function hash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
