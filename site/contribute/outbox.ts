// The tab's outbox (IndexedDB): the contributor core writes every finished result here before it is sent and removes
// it once the coordinator has answered for it (contract: contributor-core/outbox.ts). After a reload, a tab crash or a
// network outage the page sends what is left.
import { createStore, delMany, entries, set, type UseStore } from 'idb-keyval';
import { OUTBOX_MAX_AGE_MS, type Outbox, type OutboxEntry } from '../../contributor-core/outbox.js';

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
