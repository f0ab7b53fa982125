// Keeps the contributor's identity across reloads (IndexedDB via idb-keyval), so a reload does not register a new contributor
// (the IdentityStore contract: contributor-core/identity.ts).
import { del, get, set } from 'idb-keyval';
import type { IdentityStore } from '../../contributor-core/identity.js';
import type { RegisterResponse } from '../../protocol/index.js';

const KEY = 'idle-sense.contributor';

/** IndexedDB-backed store. Storage failures (private browsing, quota) only cost persistence, never contributing. */
export function browserIdentityStore(): IdentityStore {
  return {
    async load() {
      try {
        const value = await get<RegisterResponse>(KEY);
        return value && typeof value.contributorId === 'string' && typeof value.token === 'string' ? value : undefined;
      } catch {
        return undefined;
      }
    },
    async save(credentials) {
      await set(KEY, credentials).catch(() => undefined);
    },
    async clear() {
      await del(KEY).catch(() => undefined);
    },
  };
}
