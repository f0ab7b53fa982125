// The outbox contract: every finished result is written to an outbox before it is sent, and removed only once the
// coordinator has answered for it, so a reload, crash or outage loses nothing computed while its lease is valid.
// Re-sending is safe: the coordinator answers `duplicate`. Hosts bring the durable store (the tab: IndexedDB,
// site/contribute/outbox.ts); `memoryOutbox` keeps results for one process only.
import type { ResultReport } from '../protocol/index.js';

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
