// The runner's state directory: its contributor identity and its outbox (finished results not yet acknowledged),
// as files written atomically (temp file, fsync, rename), so a crash or a restart loses nothing a tab would keep.
//   <state>/identity.json           the credentials (mode 0600: they let anyone report as this contributor)
//   <state>/outbox/<lease>.json     one finished result: its report and the names of its attachment files
//   <state>/outbox/<lease>.<i>.bin  attachment bytes, uploaded before the report
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RegisterResponse } from '../../protocol/index.js';
import type { IdentityStore } from '../../contributor-core/identity.js';
import { OUTBOX_MAX_AGE_MS, type Outbox, type OutboxEntry } from '../../contributor-core/outbox.js';

/** Writes `bytes` to `file` so that readers see the old or the new content, never a torn one. */
export async function writeFileAtomic(file: string, bytes: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The credentials in `<dir>/identity.json`. */
export function fileIdentityStore(dir: string): IdentityStore {
  const file = path.join(dir, 'identity.json');
  return {
    async load() {
      try {
        const value = JSON.parse(await readFile(file, 'utf8')) as RegisterResponse;
        return typeof value?.contributorId === 'string' && typeof value.token === 'string' ? value : undefined;
      } catch {
        return undefined;
      }
    },
    async save(credentials) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, JSON.stringify(credentials));
    },
    async clear() {
      await rm(file, { force: true });
    },
  };
}

function safeName(leaseId: string): string {
  return leaseId.replace(/[^A-Za-z0-9_-]/g, '_');
}

interface StoredEntry {
  leaseId: string;
  report: OutboxEntry['report'];
  finishedAt: number;
  blobs: { name: string; file: string }[];
}

/**
 * The outbox in `<dir>/outbox/`. `put` returns once the entry is on disk (fsynced), so a result the runner has
 * finished survives a crash from then on; `remove` runs only after the coordinator answered for the lease.
 */
export function fileOutbox(dir: string, now: () => number = Date.now): Outbox {
  const root = path.join(dir, 'outbox');
  const ready = mkdir(root, { recursive: true, mode: 0o700 });
  return {
    async load() {
      await ready;
      const names = (await readdir(root)).filter((name) => name.endsWith('.json'));
      const entries: OutboxEntry[] = [];
      for (const name of names) {
        let stored: StoredEntry;
        try {
          stored = JSON.parse(await readFile(path.join(root, name), 'utf8')) as StoredEntry;
        } catch {
          continue; // not ours, or unreadable: leave it for the operator, never crash on it
        }
        if (now() - stored.finishedAt > OUTBOX_MAX_AGE_MS) {
          await removeEntry(root, stored.leaseId, stored.blobs.length);
          continue;
        }
        try {
          const blobs = await Promise.all(stored.blobs.map(async (blob) => ({ name: blob.name, bytes: new Uint8Array(await readFile(path.join(root, blob.file))) })));
          entries.push({ leaseId: stored.leaseId, report: stored.report, finishedAt: stored.finishedAt, blobs });
        } catch {
          // an attachment file went missing: the report alone would be refused (ATTACHMENT_MISSING); drop the entry
          await removeEntry(root, stored.leaseId, stored.blobs.length);
        }
      }
      return entries.sort((a, b) => a.finishedAt - b.finishedAt);
    },
    async put(entry) {
      await ready;
      const base = safeName(entry.leaseId);
      const blobs = [];
      for (const [i, blob] of entry.blobs.entries()) {
        const file = `${base}.${i}.bin`;
        await writeFileAtomic(path.join(root, file), blob.bytes);
        blobs.push({ name: blob.name, file });
      }
      const stored: StoredEntry = { leaseId: entry.leaseId, report: entry.report, finishedAt: entry.finishedAt, blobs };
      await writeFileAtomic(path.join(root, `${base}.json`), JSON.stringify(stored));
    },
    async remove(leaseIds) {
      await ready;
      for (const leaseId of leaseIds) await removeEntry(root, leaseId);
    },
  };
}

async function removeEntry(root: string, leaseId: string, blobCount?: number): Promise<void> {
  const base = safeName(leaseId);
  await rm(path.join(root, `${base}.json`), { force: true });
  if (blobCount !== undefined) {
    for (let i = 0; i < blobCount; i++) await rm(path.join(root, `${base}.${i}.bin`), { force: true });
    return;
  }
  for (const name of await readdir(root)) if (name.startsWith(`${base}.`) && name.endsWith('.bin')) await rm(path.join(root, name), { force: true });
}
