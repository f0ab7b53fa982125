// The headless runner: the tab's contributor loop (contributor-core) hosted in Node. It finds what the machine
// offers, registers with the coordinator under an identity kept in the state directory, and runs chunks on threads
// made of one worker per runtime: Pyodide and onnxruntime-node on worker_threads (the tab's runtime classes), native
// jobs in a bubblewrap or container sandbox with a disposable workspace each. With --only-when-idle it pauses while
// the machine's owner uses it.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Contributor, type ContributorSnapshot } from '../../contributor-core/contributor.js';
import { ContributorClient } from '../../contributor-core/coordinator-client.js';
import type { ContributorCapabilities } from '../../protocol/index.js';
import { PerRuntimeThread, type RuntimeThreadFactories } from '../../wasm-runtimes/host/per-runtime.js';
import { RuntimeThread } from '../../wasm-runtimes/host/thread.js';
import type { RuntimeOptions } from '../../wasm-runtimes/runtime.js';
import { loadNodeOrt } from '../../wasm-runtimes/onnx/environment.js';
import { spawnNodeOnnxWorker } from '../../wasm-runtimes/onnx/node.js';
import { spawnNodePythonWorker } from '../../wasm-runtimes/python/node.js';
import { detectSandbox, sweepStaleWorkspaces, type SandboxInfo } from '../native/index.js';
import { IdleGate, LoadMonitor } from './idle.js';
import { describeMachine, type MachineFacts } from './machine.js';
import { NativeThread } from './native-thread.js';
import type { OfferedRuntime, RunnerOptions } from './options.js';
import { fileIdentityStore, fileOutbox } from './state.js';
import { Reporter, type LogSink } from './status.js';

export interface RunnerDeps {
  fetch?: typeof fetch;
  out?: LogSink;
  /** Seconds between idle samples (tests shorten it). */
  idleSampleMs?: number;
}

/** What was found at start: the machine, the sandbox, and so the runtimes this runner offers. */
export interface RunnerFacts {
  machine: MachineFacts;
  sandbox: SandboxInfo;
  runtimes: OfferedRuntime[];
  /** Runtimes asked for (--runtimes) that this machine cannot offer, with the reason. */
  missing: Record<string, string>;
}

/**
 * As root the runner runs chunks as an unprivileged uid, which must be able to pass through every folder above the
 * workspace: say so at start, not as a puzzling failure of every native chunk.
 */
async function checkReachable(workspace: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.dirname(workspace); ; dir = path.dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) throw new Error(`--workspace ${workspace}: ${dir} is not searchable by others (mode ${(mode & 0o777).toString(8)}); as root, chunks run as an unprivileged user who must reach the workspace — pick one under /var/cache or /tmp`);
    if (dir === path.dirname(dir)) return;
  }
}

export class Runner {
  private readonly reporter: Reporter;
  private contributor?: Contributor;
  private idleTimer?: ReturnType<typeof setInterval>;
  facts?: RunnerFacts;

  constructor(
    private readonly options: RunnerOptions,
    private readonly deps: RunnerDeps = {},
  ) {
    this.reporter = new Reporter(options.log, deps.out ?? process.stdout, `idle-sense runner → ${options.coordinator}`);
  }

  log(event: string, fields: Record<string, unknown> = {}): void {
    this.reporter.event(event, fields);
  }

  snapshot(): ContributorSnapshot | undefined {
    return this.contributor?.snapshot();
  }

  /** Finds what this machine offers; --runtimes narrows it, a runtime asked for but missing is named. */
  async detect(): Promise<RunnerFacts> {
    const [machine, sandbox] = await Promise.all([describeMachine({ gpu: this.options.gpu }), detectSandbox()]);
    const missing: Record<string, string> = {};
    const runtimes: OfferedRuntime[] = [];
    for (const runtime of this.options.runtimes) {
      if (runtime === 'python') runtimes.push(runtime);
      if (runtime === 'onnx') {
        try {
          await loadNodeOrt();
          runtimes.push(runtime);
        } catch (err) {
          missing.onnx = (err as Error).message;
        }
      }
      if (runtime === 'native') {
        if (sandbox.bwrap) runtimes.push(runtime);
        else missing.native = 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap';
      }
    }
    return { machine, sandbox, runtimes, missing };
  }

  capabilities(facts: RunnerFacts): ContributorCapabilities {
    return {
      host: 'runner',
      runtimes: facts.runtimes,
      cpuCores: facts.machine.cpuCores,
      memoryMb: facts.machine.memoryMb,
      ...(facts.machine.gpus.length ? { gpus: facts.machine.gpus } : {}),
      ...(facts.sandbox.containerEngine && facts.runtimes.includes('native') ? { containerEngine: facts.sandbox.containerEngine } : {}),
    };
  }

  async start(): Promise<void> {
    const { options } = this;
    await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    await mkdir(options.workspace, { recursive: true, mode: 0o700 });
    await checkReachable(options.workspace);
    const swept = (await sweepStaleWorkspaces(options.workspace)).length;
    const facts = (this.facts = await this.detect());
    if (facts.runtimes.length === 0) throw new Error(`this machine offers none of the runtimes asked for: ${Object.entries(facts.missing).map(([r, why]) => `${r}: ${why}`).join('; ')}`);
    if (options.onlyWhenIdle && !LoadMonitor.supported()) throw new Error('--only-when-idle reads /proc and works on Linux only');
    const capabilities = this.capabilities(facts);
    this.log('started', {
      coordinator: options.coordinator,
      threads: options.threads,
      capabilities,
      ...(Object.keys(facts.missing).length ? { notOffered: facts.missing } : {}),
      ...(swept ? { staleWorkspacesRemoved: swept } : {}),
      stateDir: options.stateDir,
      workspace: options.workspace,
    });

    const api = new ContributorClient({
      baseUrl: options.coordinator,
      fetch: this.deps.fetch ?? fetch,
      identity: fileIdentityStore(options.stateDir),
      agent: `idle-sense-runner (${facts.machine.platform}; ${options.name ?? 'runner'})`,
      capabilities,
    });
    const gpu = facts.machine.gpus.length > 0;
    const factories: RuntimeThreadFactories = {};
    if (facts.runtimes.includes('python')) factories.python = () => new RuntimeThread(spawnNodePythonWorker);
    if (facts.runtimes.includes('onnx')) factories.onnx = () => new RuntimeThread(spawnNodeOnnxWorker);
    if (facts.runtimes.includes('native')) {
      factories.native = () =>
        new NativeThread({
          workspaceRoot: options.workspace,
          sandbox: facts.sandbox,
          limits: { memoryMb: options.memoryMb, diskQuotaMb: options.diskQuotaMb, gpu },
          checkpointEveryMs: options.checkpointEverySec * 1000,
          onNote: (note) => this.log('note', { note }),
          onCheckpoint: (event) => this.log('checkpoint', event),
        });
    }
    // Every worker of a thread gets the same options; these are the ONNX worker's (OnnxRuntimeOptions, whose module
    // this Node-typed folder cannot import: it names the browser's Cache Storage). Pyodide finds its own files.
    const runtimeOptions: RuntimeOptions & { ortBackend: 'node'; cuda: boolean; modelBaseURL: string } = { ortBackend: 'node', cuda: gpu, modelBaseURL: `${options.coordinator}/api/blobs/` };
    const contributor = new Contributor({
      api,
      createThread: () => new PerRuntimeThread(factories),
      runtimeOptions,
      outbox: fileOutbox(options.stateDir),
      onChange: (snapshot) => this.reporter.update(snapshot),
      limits: { cpuLimit: options.cpuLimit, recycleAboveBytes: Math.min(options.memoryMb, 4096) * 1024 * 1024 },
      pauseGiveBackMs: options.giveBackAfterMs,
    });
    this.contributor = contributor;
    await contributor.restore();
    contributor.start(options.threads);
    if (options.onlyWhenIdle) this.watchIdle(contributor);
  }

  private watchIdle(contributor: Contributor): void {
    const monitor = new LoadMonitor();
    const gate = new IdleGate({ cpuPercent: this.options.idleCpuPercent, memoryMb: this.options.idleMemoryMb });
    let sampling = false;
    const sample = async () => {
      if (sampling) return;
      sampling = true;
      try {
        const reason = gate.update(await monitor.sample());
        contributor.setPauseReasons(reason ? [reason] : []);
      } catch (err) {
        contributor.setPauseReasons([`cannot tell whether the machine is idle (${(err as Error).message})`]);
      } finally {
        sampling = false;
      }
    };
    void monitor.sample(); // primes the counters
    this.idleTimer = setInterval(sample, this.deps.idleSampleMs ?? 2000);
  }

  /** Hands running chunks back, sends finished results, terminates the workers. */
  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    const contributor = this.contributor;
    if (contributor) {
      await contributor.stop();
      contributor.dispose();
      const totals = contributor.snapshot().totals;
      this.log('stopped', { ...totals, unsent: contributor.snapshot().unreported });
    }
    this.reporter.close();
  }
}
