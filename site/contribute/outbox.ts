// The outbox: every finished result is written here (IndexedDB) before it is sent, and removed only once the
// coordinator has answered for it. After a reload, a tab crash or a network outage the page sends what is left, so
// nothing computed is lost while its lease is valid. Re-sending is safe: the coordinator answers `duplicate`.
import { createStore, delMany, entries, set, type UseStore } from 'idb-keyval';
import type { ResultReport } from '../../protocol/index.js';

export interface OutboxEntry {
  leaseId: string;
  report: ResultReport;
  /** Attachment bytes to upload (PUT /api/blobs/<name>) before the report; uploading again is harmless. */
  blobs: { name: string; bytes: Uint8Array }[];
  /** When the chunk finished (epoch ms). */
  finishedAt: number;
}

export interface Outbox {
  /** Entries left from earlier sessions, oldest first. */
  load(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  remove(leaseIds: string[]): Promise<void>;
}

/** Results older than this are dropped at load: their leases are long gone. */
export const OUTBOX_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** IndexedDB-backed outbox (its own database, so nothing else on the page shares its transactions). */
export function browserOutbox(now: () => number = Date.now): Outbox {
  let store: UseStore | undefined;
  const db = () => (store ??= createStore('idle-sense-outbox', 'results'));
  return {
    async load() {
      try {
        const all = (await entries<string, OutboxEntry>(db())).map(([, entry]) => entry);
        const stale = all.filter((entry) => now() - entry.finishedAt > OUTBOX_MAX_AGE_MS).map((entry) => entry.leaseId);
        if (stale.length) await delMany(stale, db());
        return all.filter((entry) => !stale.includes(entry.leaseId)).sort((a, b) => a.finishedAt - b.finishedAt);
      } catch {
        return []; // no IndexedDB (private browsing): results then live in memory only
      }
    },
    async put(entry) {
      await set(entry.leaseId, entry, db()).catch(() => undefined);
    },
    async remove(leaseIds) {
      if (leaseIds.length) await delMany(leaseIds, db()).catch(() => undefined);
    },
  };
}

/** In-memory outbox, for tests (pass the same instance to a second Contributor to simulate a reload). */
export function memoryOutbox(): Outbox & { entries: Map<string, OutboxEntry> } {
  const stored = new Map<string, OutboxEntry>();
  return {
    entries: stored,
    load: async () => [...stored.values()].sort((a, b) => a.finishedAt - b.finishedAt),
    put: async (entry) => {
      stored.set(entry.leaseId, entry);
    },
    remove: async (leaseIds) => {
      for (const id of leaseIds) stored.delete(id);
    },
  };
}
