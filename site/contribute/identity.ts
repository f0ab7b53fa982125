// Keeps the contributor's identity across reloads (IndexedDB via idb-keyval), so a reload does not register a new contributor.
import { del, get, set } from 'idb-keyval';
import type { RegisterResponse } from '../../protocol/index.js';

/** Where the contributor client keeps its credentials. */
export interface IdentityStore {
  load(): Promise<RegisterResponse | undefined>;
  save(credentials: RegisterResponse): Promise<void>;
  clear(): Promise<void>;
}

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

/** In-memory store, for tests and for browsers without IndexedDB. */
export function memoryIdentityStore(initial?: RegisterResponse): IdentityStore {
  let value = initial;
  return {
    load: async () => value,
    save: async (credentials) => {
      value = credentials;
    },
    clear: async () => {
      value = undefined;
    },
  };
}
