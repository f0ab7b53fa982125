// The container path with real podman (or docker): a busybox image built here with `import` (no registry), a chunk
// that reads /work/input.json and writes output.json, no network, a read-only root, pause/resume, kill.
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from './detect.js';
import type { NativeLimits } from './limits.js';
import { runNativeChunk, startNativeChunk, type NativeJob } from './run.js';
import { createWorkspace, removeWorkspace } from './workspace.js';

const sandbox = await detectSandbox();
const engine = sandbox.container;
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((path) => {
  try {
    execFileSync(path, ['true']);
    return true;
  } catch {
    return false;
  }
});
const skip = !engine ? 'no container engine (podman or docker) answers `info` here' : !busybox ? 'busybox-static is not installed' : undefined;
const image = `localhost/idle-sense-test-busybox:${process.pid}`;
const root = await mkdtemp(join(tmpdir(), 'idle-sense-container-test-'));
const limits: NativeLimits = { timeoutMs: 20_000, memoryMb: 128, fileSizeMb: 16, maxProcesses: 32, diskQuotaMb: 32, cpus: 1 };

describe.skipIf(skip)(`native chunks in a container (${skip ?? engine?.engine})`, () => {
  beforeAll(async () => {
    const rootfs = join(root, 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    for (const dir of ['work', 'tmp', 'etc', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, dir));
    await chmod(join(rootfs, 'tmp'), 0o1777); // podman's tmpfs /tmp takes the image's mode, as in real images
    await copyFile(busybox!, join(rootfs, 'bin/busybox'));
    for (const applet of ['sh', 'cat', 'echo', 'touch', 'sleep', 'nc', 'ls', 'id', 'seq']) await symlink('busybox', join(rootfs, 'bin', applet));
    execFileSync('tar', ['-C', rootfs, '-cf', join(root, 'rootfs.tar'), '.']);
    execFileSync(engine!.engine, [...engine!.extraFlags, 'import', join(root, 'rootfs.tar'), image], { stdio: 'pipe' });
  });
  afterAll(async () => {
    execFileSync(engine!.engine, [...engine!.extraFlags, 'rmi', '-f', image], { stdio: 'pipe' });
    await rm(root, { recursive: true, force: true });
  });

  const job = (script: string): NativeJob => ({ image, command: ['sh', '-c', script] });

  it('runs sh in the image: sees /work/input.json, writes output.json and attachments, cannot write its root', async () => {
    const workspaceDir = await createWorkspace(root);
    const run = await runNativeChunk({
      job: job('echo "{\\"seen\\": $(cat /work/input.json)}" > output.json; echo hi > out/a.txt; touch /etc/x 2>/dev/null && echo root-writable; touch /tmp/ok && echo tmp-writable'),
      input: { n: 7 },
      workspaceDir,
      limits,
      sandbox,
    });
    expect(run).toMatchObject({ ok: true, output: { seen: { n: 7 } }, stdout: 'tmp-writable\n', backend: 'container' });
    expect(run.files).toEqual([{ name: 'a.txt', size: 3, path: join(workspaceDir, 'out/a.txt') }]);
    await removeWorkspace(workspaceDir);
  });

  it('has no network: only loopback, and the host port is unreachable', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const workspaceDir = await createWorkspace(root);
    const run = await runNativeChunk({
      job: job(`ls /sys/class/net; echo x | nc -w 1 127.0.0.1 ${port} && echo connected || echo refused`),
      input: null,
      workspaceDir,
      limits,
      sandbox,
    });
    server.close();
    expect(run).toMatchObject({ ok: true, output: 'lo\nrefused\n' });
    expect(connections).toBe(0);
  });

  it('a nonzero exit is an error; a timeout kills and removes the container', async () => {
    const failed = await runNativeChunk({ job: job('echo bad >&2; exit 4'), input: null, workspaceDir: await createWorkspace(root), limits, sandbox });
    expect(failed).toMatchObject({ ok: false, failure: 'exception', exitCode: 4, error: expect.stringMatching(/exit status 4\nbad/) });
    let name = '';
    const started = startNativeChunk({ job: job('sleep 600'), input: null, workspaceDir: await createWorkspace(root), limits: { ...limits, timeoutMs: 1500 }, sandbox });
    name = (started as unknown as { containerName: string }).containerName;
    expect(await started.result).toMatchObject({ ok: false, failure: 'timeout' });
    expect(execFileSync(engine!.engine, [...engine!.extraFlags, 'ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' })).not.toContain(name || 'x');
  });

  it('pause stops the container and unpause continues it', async () => {
    const workspaceDir = await createWorkspace(root);
    const started = startNativeChunk({
      job: job('i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo $i > count.tmp; cat count.tmp > count; sleep 0.02; done; echo done'),
      input: null,
      workspaceDir,
      limits,
      sandbox,
    });
    const count = async () => Number((await readFile(join(workspaceDir, 'count'), 'utf8').catch(() => '0')) || 0);
    for (let i = 0; i < 500 && (await count()) < 5; i++) await new Promise((r) => setTimeout(r, 20));
    await started.suspend();
    const before = await count();
    await new Promise((r) => setTimeout(r, 500));
    expect((await count()) - before).toBeLessThanOrEqual(1);
    await started.resume();
    for (let i = 0; i < 500 && (await count()) < before + 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await count()).toBeGreaterThanOrEqual(before + 5);
    await started.kill();
    expect(await started.result).toMatchObject({ ok: false, givenBack: true });
  });
});
