// Workspace helpers: fresh private folders, removal whatever the chunk did to permissions, sweeping only our own.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFileName, createWorkspace, listFiles, prepareWorkspace, removeWorkspace, sweepStaleWorkspaces, WORKSPACE_PREFIX } from './workspace.js';

const root = await mkdtemp(join(tmpdir(), 'idle-sense-ws-test-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('workspaces', () => {
  it('creates a unique folder of mode 0700 per chunk', async () => {
    const a = await createWorkspace(root);
    const b = await createWorkspace(root);
    expect(a).not.toBe(b);
    expect((await stat(a)).mode & 0o777).toBe(0o700);
    expect(a.startsWith(join(root, WORKSPACE_PREFIX))).toBe(true);
  });

  it('removes a workspace the chunk made read-only, with folders of mode 000', async () => {
    const dir = await createWorkspace(root);
    await mkdir(join(dir, 'locked/inner'), { recursive: true });
    await writeFile(join(dir, 'locked/inner/f'), 'x');
    await chmod(join(dir, 'locked/inner/f'), 0o400);
    await chmod(join(dir, 'locked/inner'), 0o000);
    await chmod(join(dir, 'locked'), 0o000);
    await removeWorkspace(dir);
    await expect(stat(dir)).rejects.toThrow();
  });

  it('a non-root owner can remove folders of mode 000 too', async () => {
    if (process.getuid?.() !== 0) return; // the previous test already ran as a non-root user
    const ownRoot = await mkdtemp(join(root, 'nobody-'));
    const dir = await createWorkspace(ownRoot);
    await chmod(root, 0o711);
    await mkdir(join(dir, 'locked'));
    await writeFile(join(dir, 'locked/f'), 'x');
    execFileSync('chown', ['-R', '65534:65534', ownRoot]);
    await chmod(join(dir, 'locked'), 0o000);
    const module = JSON.stringify(new URL('./workspace.ts', import.meta.url).pathname);
    const script = `import(${module}).then((m) => m.removeWorkspace(${JSON.stringify(dir)})).catch((e) => { console.error(e); process.exit(1); });`;
    const tsx = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
    execFileSync(tsx, ['--eval', script], { uid: 65534, gid: 65534, cwd: '/tmp', env: { PATH: process.env.PATH, HOME: '/tmp' }, stdio: 'pipe' });
    await expect(stat(dir)).rejects.toThrow();
  });

  it('sweeps only folders named with the prefix', async () => {
    const sweepRoot = await mkdtemp(join(tmpdir(), 'idle-sense-sweep-test-'));
    const stale = await createWorkspace(sweepRoot);
    await writeFile(join(stale, 'x'), 'x');
    await mkdir(join(sweepRoot, 'not-ours'));
    await writeFile(join(sweepRoot, `${WORKSPACE_PREFIX}file`), 'a file, not a folder');
    expect(await sweepStaleWorkspaces(sweepRoot)).toHaveLength(1);
    expect((await readdir(sweepRoot)).sort()).toEqual([`${WORKSPACE_PREFIX}file`, 'not-ours']);
    await rm(sweepRoot, { recursive: true });
  });

  it('lays out main.py, files, input.json, out/ and checkpoint/', async () => {
    const dir = await createWorkspace(root);
    await prepareWorkspace(dir, { source: 'print(1)', files: { 'lib/util.py': 'X = 1' } }, { n: 3 });
    expect((await readdir(dir)).sort()).toEqual(['checkpoint', 'input.json', 'lib', 'main.py', 'out']);
  });

  it('refuses file names that escape or clash with the contract', async () => {
    for (const bad of ['../x', '/etc/passwd', 'a/../../x', 'out/x', 'checkpoint/x', 'input.json', 'main.py', 'a//b', './a']) {
      expect(checkFileName(bad), bad).toBeDefined();
    }
    expect(checkFileName('data/table.csv')).toBeUndefined();
    const dir = await createWorkspace(root);
    await expect(prepareWorkspace(dir, { files: { '../escape': 'x' } }, null)).rejects.toThrow(/job file "..\/escape"/);
    await expect(stat(join(root, 'escape'))).rejects.toThrow();
  });

  it('lists regular files under out/ and skips symlinks', async () => {
    const dir = await createWorkspace(root);
    await prepareWorkspace(dir, {}, null);
    await mkdir(join(dir, 'out/sub'));
    await writeFile(join(dir, 'out/sub/a.bin'), 'abc');
    execFileSync('ln', ['-s', '/etc/hostname', join(dir, 'out/link')]);
    expect(await listFiles(dir)).toEqual([{ name: 'sub/a.bin', size: 3, path: join(dir, 'out/sub/a.bin') }]);
  });
});
