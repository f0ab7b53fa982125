// The keys CLI: create prints the key once, list shows no secret, revoke stops the key; quotas are set at creation,
// changed with set-quota and listed with their usage. The real script on a data dir, and runKeysCommand in-process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newJobFrom } from './domain/policy.js';
import { runKeysCommand } from './keys.js';
import { MemoryStore } from './store/memory.js';
import { SqliteStore } from './store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'idle-sense-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keys = (...args: string[]) =>
  execFileSync('npx', ['tsx', 'coordinator/src/keys.ts', ...args, '--data-dir', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('npm run keys', () => {
  it('creates a key printed once, lists it without the secret, and revokes it, on the coordinator database', async () => {
    const created = keys('create', 'alice', '--admin');
    const secret = /key \(shown once, keep it\): (isk_\S+)/.exec(created)?.[1];
    expect(secret).toBeDefined();
    const listed = keys('list');
    expect(listed).toMatch(/alice .*\(admin\)/);
    expect(listed).not.toContain(secret);

    const store = new SqliteStore({ file: join(dir, 'idle-sense.db') });
    expect(await store.findApiKey(secret!)).toMatchObject({ name: 'alice', admin: true });
    expect(keys('revoke', 'alice')).toMatch(/^revoked /);
    expect(await store.findApiKey(secret!)).toBeUndefined();
    await store.close();
    expect(() => keys('revoke', 'alice')).toThrow(/no live key/);
  }, 60_000);
});

describe('npm run keys quotas', () => {
  it('creates a key with quotas, lists them with the usage the coordinator sees, and changes them with set-quota', async () => {
    const created = keys('create', 'bob', '--max-jobs', '2', '--max-chunks-per-day', '1000', '--max-blob-mb', '1.5');
    expect(created).toMatch(/jobs 0\/2  chunks\/24h 0\/1000  blob MiB 0\.0\/1\.5/);
    const secret = /key \(shown once, keep it\): (isk_\S+)/.exec(created)![1];

    // The coordinator's store, as it would record bob's submissions and uploads.
    const store = new SqliteStore({ file: join(dir, 'idle-sense.db') });
    const bob = (await store.findApiKey(secret))!;
    expect(bob.quota).toEqual({ jobs: 2, chunksPerDay: 1000, blobBytes: 1.5 * 1024 * 1024 });
    await store.createJob({ ...newJobFrom({ runtime: 'python', source: 'def main(x): return x', inputs: [1, 2, 3] }), owner: bob.id }, Date.now());
    await store.settleBlobHold(await store.holdBlobBytes(bob.id, {}, undefined, Date.now()), { name: 'sha256:ab', size: 512 * 1024 }, Date.now());
    await store.close();

    expect(keys('list')).toMatch(/bob .*\n  jobs 1\/2  chunks\/24h 3\/1000  blob MiB 0\.5\/1\.5/);
    expect(keys('set-quota', 'bob', '--max-jobs', 'unlimited', '--max-chunks-per-day', 'default')).toMatch(/jobs 1\/unlimited  chunks\/24h 3\/default  blob MiB 0\.5\/1\.5/);
    const reopened = new SqliteStore({ file: join(dir, 'idle-sense.db') });
    expect((await reopened.findApiKey(secret))?.quota).toEqual({ jobs: 0, blobBytes: 1.5 * 1024 * 1024 });
    await reopened.close();
    expect(() => keys('set-quota', 'nobody', '--max-jobs', '1')).toThrow(/no live key/);
  }, 60_000);

  it('prints its help, quotas included', () => {
    const help = execFileSync('npx', ['tsx', 'coordinator/src/keys.ts', '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/set-quota ID\|NAME QUOTAS/);
    expect(help).toMatch(/--max-chunks-per-day N/);
  }, 30_000);
});

describe('runKeysCommand', () => {
  const run = (store: MemoryStore, ...args: string[]) => runKeysCommand(store, args, 0);

  it('shows an admin key without its own quota as unlimited and other keys as following the default', async () => {
    const store = new MemoryStore();
    await run(store, 'create', 'root', '--admin');
    await run(store, 'create', 'plain');
    const lines = await run(store, 'list');
    expect(lines[1]).toBe('  jobs 0/unlimited  chunks/24h 0/unlimited  blob MiB 0.0/unlimited');
    expect(lines[3]).toBe('  jobs 0/default  chunks/24h 0/default  blob MiB 0.0/default');
  });

  it('refuses quota values it cannot use, naming the flag', async () => {
    const store = new MemoryStore();
    await expect(run(store, 'create', 'a', '--max-jobs=-1')).rejects.toThrow(/--max-jobs must be/);
    await expect(run(store, 'create', 'a', '--max-jobs', '1.5')).rejects.toThrow(/--max-jobs must be a whole number/);
    await expect(run(store, 'create', 'a', '--max-blob-mb', 'lots')).rejects.toThrow(/--max-blob-mb/);
    await expect(run(store, 'create', 'a', '--max-jobs', 'default')).rejects.toThrow(/new key follows the coordinator's default/);
    await run(store, 'create', 'a');
    await expect(run(store, 'set-quota', 'a')).rejects.toThrow(/needs at least one/);
    await expect(run(store, 'list', '--max-jobs', '3')).rejects.toThrow(/goes with create or set-quota/);
    expect(await store.listApiKeys()).toHaveLength(1);
  });
});
