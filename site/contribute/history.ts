// Local history: chunks and CPU time this browser has given, over all sessions. Kept in IndexedDB, never sent.
import { get, set } from 'idb-keyval';
import type { HistoryStore, LifetimeTotals } from '../../contributor-core/contributor.js';

const KEY = 'idle-sense.history';

export function browserHistoryStore(): HistoryStore {
  return {
    async load(): Promise<LifetimeTotals> {
      const saved = await get<LifetimeTotals>(KEY).catch(() => undefined);
      return { chunks: saved?.chunks ?? 0, cpuMs: saved?.cpuMs ?? 0 };
    },
    async save(totals) {
      await set(KEY, totals).catch(() => undefined);
    },
  };
}
