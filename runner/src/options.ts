// The runner's command line: flags, their defaults and the --help text, in one place. Flags may also come from
// IDLE_SENSE_* environment variables (a service unit sets them), and flags win over the environment.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export type OfferedRuntime = 'python' | 'onnx' | 'native';
export const ALL_RUNTIMES: OfferedRuntime[] = ['python', 'onnx', 'native'];

export interface RunnerOptions {
  coordinator: string;
  threads: number;
  /** Memory a chunk may use, MiB (native: address space limit and container memory; Pyodide: worker recycling). */
  memoryMb: number;
  /** Percent of one core per thread (100: no limit). */
  cpuLimit: number;
  workspace: string;
  stateDir: string;
  onlyWhenIdle: boolean;
  /** Other programs' CPU use (percent of the whole machine) above which the runner pauses. */
  idleCpuPercent: number;
  /** Free memory (MiB) below which the runner pauses. */
  idleMemoryMb: number;
  /** A pause longer than this gives running chunks back (ms). */
  giveBackAfterMs: number;
  gpu: boolean;
  runtimes: OfferedRuntime[];
  /** Disk a native chunk may fill in its workspace (MiB). */
  diskQuotaMb: number;
  /** `text`: a live status line (default on a TTY); `json`: JSON lines on stdout (default otherwise). */
  log: 'text' | 'json';
  /** Seconds between checkpoint uploads of a running native chunk. */
  checkpointEverySec: number;
  name?: string;
}

export class UsageError extends Error {}

const DEFAULT_THREADS = Math.max(1, os.availableParallelism() - 1);

export const HELP = `idle-sense-runner — give this machine's idle time to an idle-sense coordinator.

Usage: idle-sense-runner --coordinator URL [options]
       npm run runner -- --coordinator URL [options]

  --coordinator URL        the coordinator to join (env IDLE_SENSE_COORDINATOR), e.g. http://host:8080
  --threads N              chunks run at once (default ${DEFAULT_THREADS}: all cores but one)
  --memory MB              memory one chunk may use (default 2048)
  --cpu-limit PERCENT      share of one core each thread may use, 1-100 (default 100)
  --workspace DIR          where chunk workspaces live, one folder per chunk, deleted after it
                           (default ~/.cache/idle-sense/work; as root /var/cache/idle-sense/work)
  --state-dir DIR          identity and unsent results, kept across restarts
                           (default ~/.local/state/idle-sense-runner; as root /var/lib/idle-sense-runner)
  --disk-quota MB          disk one native chunk may fill in its workspace (default 1024)
  --runtimes LIST          runtimes to offer, comma-separated: python,onnx,native (default: all this machine has)
  --gpu / --no-gpu         offer this machine's GPUs to jobs that ask for one (default --gpu when one is found)
  --only-when-idle         take work only while other programs leave the machine idle; pause when they don't
  --idle-cpu PERCENT       with --only-when-idle: other programs' CPU use that counts as busy (default 25)
  --idle-memory MB         with --only-when-idle: free memory below which the runner pauses (default 1024)
  --give-back-after SEC    a pause longer than this hands running chunks back (default 600)
  --checkpoint-every SEC   how often a running chunk's /work/checkpoint/ is uploaded (default 60)
  --log text|json          a live status line (default on a terminal) or JSON lines (default otherwise)
  --name TEXT              a name the coordinator shows for this runner (default: the host name)
  -h, --help               this text

Ctrl-C (SIGINT) or SIGTERM: running chunks are handed back, finished results are sent, then the runner exits.
A second Ctrl-C exits at once; unsent results stay in the state directory and go out at the next start.`;

/**
 * A runner started as root runs chunks as an unprivileged uid (RLIMIT_NPROC does not bind root), which must be able
 * to reach its workspace: root's home (mode 0700) will not do, so root's defaults live under /var.
 */
const AS_ROOT = process.getuid?.() === 0;

function workspaceDefault(): string {
  if (AS_ROOT) return '/var/cache/idle-sense/work';
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'idle-sense', 'work');
}
function stateDefault(): string {
  if (AS_ROOT) return '/var/lib/idle-sense-runner';
  return path.join(process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'idle-sense-runner');
}

function int(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${text}")`);
  return value;
}

/** Parses argv (without node and the script); throws UsageError with a one-line message. `undefined`: --help asked. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): RunnerOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      allowNegative: true,
      options: {
        coordinator: { type: 'string' },
        threads: { type: 'string' },
        memory: { type: 'string' },
        'cpu-limit': { type: 'string' },
        workspace: { type: 'string' },
        'state-dir': { type: 'string' },
        'disk-quota': { type: 'string' },
        runtimes: { type: 'string' },
        gpu: { type: 'boolean' },
        'only-when-idle': { type: 'boolean' },
        'idle-cpu': { type: 'string' },
        'idle-memory': { type: 'string' },
        'give-back-after': { type: 'string' },
        'checkpoint-every': { type: 'string' },
        log: { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  if (v.help) return undefined;
  const pick = (flag: string | undefined, envName: string) => flag ?? (env[envName] || undefined);
  const coordinator = pick(v.coordinator, 'IDLE_SENSE_COORDINATOR');
  if (!coordinator) throw new UsageError('--coordinator URL is required (e.g. --coordinator http://localhost:8080)');
  let url: URL;
  try {
    url = new URL(coordinator);
  } catch {
    throw new UsageError(`--coordinator must be a URL like http://host:8080 (got "${coordinator}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--coordinator must be an http or https URL (got "${coordinator}")`);
  const runtimesText = pick(v.runtimes, 'IDLE_SENSE_RUNTIMES');
  let runtimes = ALL_RUNTIMES;
  if (runtimesText !== undefined) {
    runtimes = [...new Set(runtimesText.split(',').map((r) => r.trim()).filter(Boolean))] as OfferedRuntime[];
    const unknown = runtimes.filter((r) => !ALL_RUNTIMES.includes(r));
    if (unknown.length || runtimes.length === 0) throw new UsageError(`--runtimes takes a comma-separated list of ${ALL_RUNTIMES.join(', ')} (got "${runtimesText}")`);
  }
  const log = v.log ?? (process.stdout.isTTY ? 'text' : 'json');
  if (log !== 'text' && log !== 'json') throw new UsageError(`--log must be text or json (got "${log}")`);
  return {
    coordinator: url.href.replace(/\/$/, ''),
    threads: int('threads', pick(v.threads, 'IDLE_SENSE_THREADS'), DEFAULT_THREADS, 1, 1024),
    memoryMb: int('memory', pick(v.memory, 'IDLE_SENSE_MEMORY_MB'), 2048, 64, 16 * 1024 * 1024),
    cpuLimit: int('cpu-limit', v['cpu-limit'], 100, 1, 100),
    workspace: path.resolve(pick(v.workspace, 'IDLE_SENSE_WORKSPACE') ?? workspaceDefault()),
    stateDir: path.resolve(pick(v['state-dir'], 'IDLE_SENSE_STATE_DIR') ?? stateDefault()),
    diskQuotaMb: int('disk-quota', v['disk-quota'], 1024, 1, 16 * 1024 * 1024),
    runtimes,
    gpu: v.gpu ?? true,
    onlyWhenIdle: v['only-when-idle'] ?? env.IDLE_SENSE_ONLY_WHEN_IDLE === '1',
    idleCpuPercent: int('idle-cpu', v['idle-cpu'], 25, 1, 100),
    idleMemoryMb: int('idle-memory', v['idle-memory'], 1024, 0, 16 * 1024 * 1024),
    giveBackAfterMs: int('give-back-after', v['give-back-after'], 600, 1, 7 * 24 * 3600) * 1000,
    checkpointEverySec: int('checkpoint-every', v['checkpoint-every'], 60, 1, 24 * 3600),
    log,
    name: v.name ?? os.hostname(),
  };
}
