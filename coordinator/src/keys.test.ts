// The keys CLI: create prints the key once, list shows no secret, revoke stops the key; the real script on a data dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
