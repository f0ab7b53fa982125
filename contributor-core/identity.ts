// Where the contributor client keeps its credentials, so a restart does not register a new contributor. Hosts bring
// the durable store (the tab: IndexedDB, site/contribute/identity.ts).
import type { RegisterResponse } from '../protocol/index.js';

/** Where the contributor client keeps its credentials. */
export interface IdentityStore {
  load(): Promise<RegisterResponse | undefined>;
  save(credentials: RegisterResponse): Promise<void>;
  clear(): Promise<void>;
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
