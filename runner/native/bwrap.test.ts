// The bubblewrap sandbox, with real bwrap: the chunk contract (stdout, output.json, argv, attachments, failures) and
// one test per protection against a hostile chunk, each of which fails when that protection is taken away.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectSandbox } from './detect.js';
import type { NativeLimits } from './limits.js';
import { runNativeChunk, startNativeChunk, type NativeChunk, type NativeJob, type RunNativeOptions } from './run.js';
import { createWorkspace, removeWorkspace } from './workspace.js';

const sandbox = await detectSandbox();
const root = await mkdtemp(join(tmpdir(), 'idle-sense-bwrap-test-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const limits: NativeLimits = { timeoutMs: 10_000, memoryMb: 512, fileSizeMb: 16, maxProcesses: 32, diskQuotaMb: 32 };

async function chunk(job: NativeJob, input: unknown = null, more: Partial<RunNativeOptions> = {}) {
  const workspaceDir = await createWorkspace(root);
  const run = await runNativeChunk({ job, input, workspaceDir, limits: { ...limits, ...more.limits }, sandbox, ...more });
  return { run, workspaceDir };
}

/** Processes on this machine whose command line holds `token`. */
function processesWith(token: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs python3 `source` and prints what each attempt did: "ok" or the exception's name. */
const probe = (attempts: Record<string, string>) => `
import json
results = {}
${Object.entries(attempts)
  .map(([name, code]) => `try:\n    ${code}\n    results[${JSON.stringify(name)}] = "ok"\nexcept Exception as e:\n    results[${JSON.stringify(name)}] = type(e).__name__`)
  .join('\n')}
print(json.dumps(results))
`;

describe.skipIf(!sandbox.bwrap)('native chunks under bubblewrap', () => {
  it('prints what the same python3 program prints run directly', async () => {
    const source = [
      'import json, sys',
      'data = json.load(open("input.json"))',
      'primes = [n for n in range(2, data["n"]) if all(n % d for d in range(2, int(n ** 0.5) + 1))]',
      'print(len(primes), sum(primes), sys.argv[1:])',
      'print("é ✓", file=sys.stdout)',
    ].join('\n');
    const input = { n: 5000 };
    const { run, workspaceDir } = await chunk({ command: ['python3', 'main.py'], source }, input);
    const direct = await mkdtemp(join(root, 'direct-'));
    await writeFile(join(direct, 'main.py'), source);
    await writeFile(join(direct, 'input.json'), JSON.stringify(input));
    const expected = execFileSync('/usr/bin/python3', ['main.py'], { cwd: direct, encoding: 'utf8' });
    expect(run).toMatchObject({ ok: true, output: expected, stdout: expected });
    expect(expected).toContain('669 1548136');
    await removeWorkspace(workspaceDir);
  });

  it('takes output.json as the output and lists files under out/ as attachments', async () => {
    const source = 'import json, os\nos.makedirs("out/deep")\nopen("out/deep/w.bin", "wb").write(b"12345")\njson.dump({"sum": 3}, open("output.json", "w"))\nprint("ignored")';
    const { run } = await chunk({ command: ['python3', 'main.py'], source });
    expect(run).toMatchObject({ ok: true, output: { sum: 3 }, stdout: 'ignored\n' });
    expect(run.files).toEqual([{ name: 'deep/w.bin', size: 5, path: expect.stringMatching(/out\/deep\/w\.bin$/) }]);
  });

  it('passes an array input of scalars as arguments', async () => {
    const { run } = await chunk({ command: ['python3', '-c', 'import sys, json; print(json.dumps(sys.argv[1:]))'] }, ['a b', 2, true, null]);
    expect(run).toMatchObject({ ok: true, output: '["a b", "2", "true", "null"]\n' });
  });

  it('fails with output when output.json is not JSON', async () => {
    const { run } = await chunk({ command: ['sh', '-c', 'echo "{nope" > output.json'] });
    expect(run).toMatchObject({ ok: false, failure: 'output', error: expect.stringMatching(/output\.json is not valid JSON/) });
  });

  it('a nonzero exit is an error naming the status, with the stderr tail', async () => {
    const { run } = await chunk({ command: ['python3', '-c', 'import sys; print("boom happened", file=sys.stderr); sys.exit(3)'] });
    expect(run).toMatchObject({ ok: false, failure: 'exception', exitCode: 3, stderr: 'boom happened\n' });
    expect(run.ok || run.error).toMatch(/exit status 3\nboom happened/);
  });

  it('caps stdout with a visible marker', async () => {
    const { run } = await chunk({ command: ['python3', '-c', 'print("x" * 3000, end="")'] }, null, { outputCapBytes: 1000 });
    expect(run.stdout).toBe('x'.repeat(1000) + '\n[... output truncated: 2000 more bytes ...]\n');
  });

  it('a timeout fails the chunk and kills its whole process tree', async () => {
    const { run } = await chunk({ command: ['sh', '-c', 'sleep 987601 & setsid sleep 987602 & sleep 987603'] }, null, {
      limits: { ...limits, timeoutMs: 500 },
    });
    expect(run).toMatchObject({ ok: false, failure: 'timeout', error: 'timed out after 500 ms' });
    expect(processesWith('98760')).toEqual([]);
  });

  it('cancelling through the signal kills the chunk and gives it back', async () => {
    const controller = new AbortController();
    const workspaceDir = await createWorkspace(root);
    const started = startNativeChunk({ job: { command: ['sleep', '987611'] }, input: null, workspaceDir, limits, sandbox, signal: controller.signal, onSpawn: () => controller.abort() });
    expect(await started.result).toMatchObject({ ok: false, givenBack: true, error: 'cancelled' });
    expect(processesWith('987611')).toEqual([]);
  });

  describe('hostile chunks', () => {
    it("cannot read the runner's home, /etc/shadow or the host's /etc", async () => {
      const fakeHome = await mkdtemp(join(tmpdir(), 'idle-sense-home-'));
      await writeFile(join(fakeHome, 'secret.txt'), 'the runner user secret');
      const { run } = await chunk({
        command: ['python3', 'main.py'],
        source: probe({
          marker: `open(${JSON.stringify(join(fakeHome, 'secret.txt'))}).read()`,
          home: `open(${JSON.stringify(join(homedir(), '.bashrc'))}).read() if __import__("os").path.exists(${JSON.stringify(homedir())}) and __import__("os").listdir(${JSON.stringify(homedir())}) is not None else 1/0`,
          shadow: 'open("/etc/shadow").read()',
          hostname: 'open("/etc/hostname").read()',
        }),
      });
      expect(run.ok, run.ok ? '' : run.error).toBe(true);
      const results = JSON.parse(String(run.ok && run.output));
      expect(results).toEqual({ marker: 'FileNotFoundError', home: expect.not.stringMatching(/^ok$/), shadow: 'FileNotFoundError', hostname: 'FileNotFoundError' });
      await rm(fakeHome, { recursive: true });
    });

    it('cannot write outside /work: host /tmp, /usr, the runner cwd, the sandbox root', async () => {
      const token = `idle-sense-escape-${process.pid}-${Date.now()}`;
      const hostTmp = join(tmpdir(), token);
      const cwdFile = join(process.cwd(), token);
      const { run } = await chunk({
        command: ['python3', 'main.py'],
        source: probe({
          tmp: `open(${JSON.stringify(hostTmp)}, "w").write("x")`,
          usr: `open("/usr/${token}", "w").write("x")`,
          cwd: `open(${JSON.stringify(cwdFile)}, "w").write("x")`,
          root: `open("/${token}", "w").write("x")`,
          etc: `open("/etc/${token}", "w").write("x")`,
          work: `open("/work/${token}", "w").write("x")`,
        }),
      });
      const results = JSON.parse(String(run.ok && run.output));
      expect(results).toMatchObject({ usr: 'OSError', root: 'OSError', etc: 'OSError', work: 'ok' });
      // The sandbox's /tmp is its own tmpfs: writing there may succeed but never reaches the host.
      for (const path of [hostTmp, cwdFile, `/usr/${token}`, `/${token}`, `/etc/${token}`]) expect(existsSync(path), path).toBe(false);
    });

    it("cannot open a socket to a port on the host's loopback", async () => {
      let connections = 0;
      const server = createServer((socket) => {
        connections++;
        socket.end('coordinator here');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const { run } = await chunk({
        command: ['python3', 'main.py'],
        source: probe({ tcp: `__import__("socket").create_connection(("127.0.0.1", ${port}), timeout=2).recv(100)` }),
      });
      server.close();
      expect(JSON.parse(String(run.ok && run.output))).toEqual({ tcp: 'ConnectionRefusedError' });
      expect(connections).toBe(0);
    });

    it('cannot start more processes than maxProcesses', async () => {
      const { run } = await chunk({
        command: ['python3', '-c', 'import subprocess\nstarted = 0\ntry:\n    for _ in range(64):\n        subprocess.Popen(["sleep", "987621"]); started += 1\nexcept OSError:\n    pass\nprint(started)'],
      });
      expect(run.ok, run.ok ? '' : run.error).toBe(true);
      expect(Number(run.ok && run.output)).toBeLessThan(limits.maxProcesses);
      expect(processesWith('987621')).toEqual([]);
    });

    it('a fork bomb is contained, the runner stays responsive, and nothing of it survives', async () => {
      const workspaceDir = await createWorkspace(root);
      let peak = 0;
      let handle: NativeChunk | undefined;
      const result = runNativeChunk({
        job: { command: ['python3', '-c', 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass'] },
        input: null,
        workspaceDir,
        limits: { ...limits, timeoutMs: 2500, maxProcesses: 16 },
        sandbox,
        onSpawn: (chunk) => (handle = chunk),
      });
      const lags: number[] = [];
      let last = performance.now();
      const ticker = setInterval(() => {
        lags.push(performance.now() - last - 50);
        last = performance.now();
        peak = Math.max(peak, handle?.namespacePids().length ?? 0);
      }, 50);
      const run = await result;
      clearInterval(ticker);
      expect(run).toMatchObject({ ok: false, failure: 'timeout' });
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(16);
      // The runner's event loop kept ticking: no 50 ms tick came more than a second late.
      expect(Math.max(...lags)).toBeLessThan(1000);
      expect(execFileSync('/bin/echo', ['still here'], { encoding: 'utf8', timeout: 5000 })).toBe('still here\n');
    });

    it('filling the disk past the quota fails the chunk with a quota error; the files go with the workspace', async () => {
      // 40 files of 1 MiB, each under fileSizeMb: only the workspace quota (8 MiB) stops it.
      const { run, workspaceDir } = await chunk(
        { command: ['python3', '-c', 'import time\nfor i in range(40):\n    open(f"fill-{i}", "wb").write(b"x" * 2**20)\n    time.sleep(0.02)'] },
        null,
        { limits: { ...limits, diskQuotaMb: 8, fileSizeMb: 4 } },
      );
      expect(run).toMatchObject({ ok: false, failure: 'output', error: expect.stringMatching(/disk quota exceeded: .* more than the 8 MiB allowed/) });
      await removeWorkspace(workspaceDir);
      await expect(stat(workspaceDir)).rejects.toThrow();
    });

    it('a file larger than fileSizeMb cannot be written', async () => {
      const { run } = await chunk({ command: ['python3', '-c', 'open("big", "wb").write(b"x" * (5 * 2**20))'] }, null, {
        limits: { ...limits, fileSizeMb: 4 },
      });
      expect(run).toMatchObject({ ok: false, failure: 'exception', error: expect.stringMatching(/File too large/) });
    });

    it('leaves no background process running after the chunk exits', async () => {
      const daemon = 'import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.execvp("sleep", ["sleep", "987631"])\n    os._exit(0)\nprint("parent done")';
      const { run } = await chunk({ command: ['sh', '-c', `sleep 987632 & nohup sleep 987633 >/dev/null 2>&1 & python3 -c '${daemon}'; echo hi`] });
      expect(run).toMatchObject({ ok: true, output: 'parent done\nhi\n' });
      expect(processesWith('98763')).toEqual([]);
    });

    it("cannot read another chunk's workspace", async () => {
      const a = await createWorkspace(root);
      await writeFile(join(a, 'secret-of-a.txt'), 'A only');
      const { run } = await chunk({
        command: ['python3', 'main.py'],
        source: probe({
          direct: `open(${JSON.stringify(join(a, 'secret-of-a.txt'))}).read()`,
          listParent: `[n for n in __import__("os").listdir("/work/..") if "secret" in n or "idle-sense-chunk" in n][0]`,
          walk: `[p for top in __import__("os").listdir("/") if top not in ("proc", "usr", "sys") for p, d, f in __import__("os").walk("/" + top) if "secret-of-a.txt" in f][0]`,
        }),
      });
      expect(JSON.parse(String(run.ok && run.output))).toEqual({ direct: 'FileNotFoundError', listParent: 'IndexError', walk: 'IndexError' });
    });
  });

  it('suspend stops the chunk (its CPU time does not advance) and resume continues it', async () => {
    const workspaceDir = await createWorkspace(root);
    const source = 'import os, time\nwhile time.process_time() < 1.2:\n    open("cpu.tmp", "w").write(str(time.process_time()))\n    os.replace("cpu.tmp", "cpu")\nprint("done")';
    const started = startNativeChunk({ job: { command: ['python3', 'main.py'], source }, input: null, workspaceDir, limits, sandbox });
    const cpu = async () => Number((await readFile(join(workspaceDir, 'cpu'), 'utf8').catch(() => '0')) || 0);
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 400 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(async () => (await cpu()) > 0.2);
    await started.suspend();
    await new Promise((r) => setTimeout(r, 100)); // the last write lands
    const before = await cpu();
    await new Promise((r) => setTimeout(r, 500));
    expect((await cpu()) - before).toBeLessThan(0.02);
    expect(started.namespacePids().every((pid) => /^\S+ \(.*\) [tT]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')))).toBe(true);
    await started.resume();
    await until(async () => (await cpu()) > before + 0.1);
    expect(await cpu()).toBeGreaterThan(before + 0.1);
    const run = await started.result;
    expect(run).toMatchObject({ ok: true, output: 'done\n' });
    expect(run.pausedMs).toBeGreaterThanOrEqual(550);
  });
});


describe('device nodes (GPUs) for chunks that need them', () => {
  it('binds only the devices asked for and present; a chunk without them sees the minimal /dev', async () => {
    const sandbox = await detectSandbox();
    const { bwrapCommand } = await import('./bwrap.js');
    const limits: NativeLimits = { timeoutMs: 1000, memoryMb: 256, fileSizeMb: 1, maxProcesses: 16, diskQuotaMb: 1 };
    const plain = bwrapCommand(sandbox, '/tmp/x', ['true'], limits).args;
    expect(plain).not.toContain('--dev-bind');
    const gpu = bwrapCommand(sandbox, '/tmp/x', ['true'], { ...limits, devices: ['/dev/null', '/dev/no-such-gpu'] }).args;
    const at = gpu.indexOf('--dev-bind');
    expect(gpu.slice(at, at + 3)).toEqual(['--dev-bind', '/dev/null', '/dev/null']);
    expect(gpu).not.toContain('/dev/no-such-gpu');
  });
});
