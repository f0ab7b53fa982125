// Starts the real runner as a child process (`node --import tsx runner/src/main.ts`) for tests, e2e and benches, and
// follows its JSON-lines log: wait for an event, read the identity it registered, stop it with a signal or kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface LogEvent {
  time: string;
  event: string;
  [field: string]: unknown;
}

export interface RunningRunner {
  process: ChildProcess;
  stateDir: string;
  workspace: string;
  events: LogEvent[];
  /** Everything the runner wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the first event (from the start) that matches; rejects after `timeoutMs` or if the runner exits. */
  waitFor(match: (event: LogEvent) => boolean, timeoutMs?: number, what?: string): Promise<LogEvent>;
  contributorId(): string | undefined;
  /** SIGINT (or another signal) and wait for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill(): Promise<void>;
  exited(): Promise<number | null>;
}

const ROOT = new URL('../../', import.meta.url).pathname;

export function startRunner(coordinatorUrl: string, args: string[] = [], options: { stateDir?: string; workspace?: string; env?: NodeJS.ProcessEnv } = {}): RunningRunner {
  const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'runner-state-'));
  const workspace = options.workspace ?? mkdtempSync(path.join(tmpdir(), 'runner-work-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'runner/src/main.ts', '--coordinator', coordinatorUrl, '--state-dir', stateDir, '--workspace', workspace, '--log', 'json', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  const events: LogEvent[] = [];
  const waiters = new Set<() => void>();
  let text = '';
  let partial = '';
  child.stdout!.on('data', (data: Buffer) => {
    text += data;
    partial += data;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        events.push(JSON.parse(line) as LogEvent);
      } catch {
        // not a log line
      }
    }
    for (const waiter of waiters) waiter();
  });
  child.stderr!.on('data', (data) => (text += data));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    for (const waiter of waiters) waiter();
    resolve(code);
  }));
  return {
    process: child,
    stateDir,
    workspace,
    events,
    output: () => text,
    waitFor(match, timeoutMs = 60_000, what = 'event') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            cleanup();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`the runner exited (${child.exitCode ?? child.signalCode}) before ${what}:\n${text.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${what} from the runner within ${timeoutMs} ms:\n${text.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    contributorId() {
      try {
        return (JSON.parse(readFileSync(path.join(stateDir, 'identity.json'), 'utf8')) as { contributorId: string }).contributorId;
      } catch {
        return undefined;
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
    exited: () => exit,
  };
}
