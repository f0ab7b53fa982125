// The state directory keeps identity and unsent results across restarts, and a torn write never corrupts them.
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultReport } from '../../protocol/index.js';
import { fileIdentityStore, fileOutbox } from './state.js';

const report = (leaseId: string): ResultReport => ({ leaseId, leaseToken: 't', status: 'ok', output: { n: 1 } }) as ResultReport;

describe('runner state directory', () => {
  it('keeps the identity across instances, private to the user', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runner-state-'));
    await fileIdentityStore(dir).save({ contributorId: 'c1', token: 'secret' } as never);
    expect(await fileIdentityStore(dir).load()).toMatchObject({ contributorId: 'c1', token: 'secret' });
    expect(statSync(path.join(dir, 'identity.json')).mode & 0o077).toBe(0);
    await fileIdentityStore(dir).clear();
    expect(await fileIdentityStore(dir).load()).toBeUndefined();
  });

  it('reads a damaged identity file as none, so the runner registers again instead of crashing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runner-state-'));
    writeFileSync(path.join(dir, 'identity.json'), '{"contributorId": "c1", "tok');
    expect(await fileIdentityStore(dir).load()).toBeUndefined();
  });

  it('keeps unsent results and their attachments for the next start, oldest first, until removed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runner-state-'));
    const first = fileOutbox(dir);
    await first.put({ leaseId: 'l/2', report: report('l/2'), blobs: [{ name: 'sha256:aa', bytes: new Uint8Array([1, 2, 3]) }], finishedAt: Date.now() });
    await first.put({ leaseId: 'l1', report: report('l1'), blobs: [], finishedAt: Date.now() - 1000 });
    const second = fileOutbox(dir);
    const loaded = await second.load();
    expect(loaded.map((e) => e.leaseId)).toEqual(['l1', 'l/2']);
    expect([...loaded[1].blobs[0].bytes]).toEqual([1, 2, 3]);
    expect(loaded[1].report).toEqual(report('l/2'));
    await second.remove(['l/2']);
    expect((await fileOutbox(dir).load()).map((e) => e.leaseId)).toEqual(['l1']);
    expect(readdirSync(path.join(dir, 'outbox')).filter((n) => n.endsWith('.bin'))).toEqual([]);
  });

  it('drops results older than a week (their leases are long gone) and skips files it cannot read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runner-state-'));
    const outbox = fileOutbox(dir);
    await outbox.put({ leaseId: 'old', report: report('old'), blobs: [], finishedAt: Date.now() - 8 * 24 * 3600 * 1000 });
    writeFileSync(path.join(dir, 'outbox', 'garbage.json'), 'not json');
    expect(await fileOutbox(dir).load()).toEqual([]);
    expect(readdirSync(path.join(dir, 'outbox'))).toEqual(['garbage.json']);
  });
});
