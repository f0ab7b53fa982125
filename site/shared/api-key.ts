// The submitter's API key kept in this browser (`--auth keys`): localStorage, so it is asked for once per browser and
// every page (and tab) of this origin shares it; pages subscribe to changes to show or hide "Forget key".

const KEY_STORAGE = 'idle-sense:api-key';
const CHANGED = 'idle-sense:api-key-changed';

/** The API key the pages keep, if any (for requests that cannot go through keyedFetch, like an upload with progress). */
export function storedApiKey(): string | null {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null; // storage blocked: the page asks each time instead
  }
}

/** Keeps `key` for the next requests from any page of this coordinator. */
export function rememberApiKey(key: string): void {
  try {
    localStorage.setItem(KEY_STORAGE, key);
  } catch {
    // storage blocked or full: the key still serves the request that asked for it
  }
  dispatchEvent(new CustomEvent(CHANGED));
}

/** Forgets the stored API key; the next call that needs one asks again. */
export function forgetApiKey(): void {
  try {
    localStorage.removeItem(KEY_STORAGE);
  } catch {
    // nothing was stored
  }
  dispatchEvent(new CustomEvent(CHANGED));
}

/**
 * Calls `listener` with the key whenever it is kept or forgotten, in this tab or another one (the `storage` event).
 * Returns a function that unsubscribes.
 */
export function onApiKeyChange(listener: (key: string | null) => void): () => void {
  const here = () => listener(storedApiKey());
  const elsewhere = (event: StorageEvent) => {
    if (event.key === KEY_STORAGE || event.key === null) listener(storedApiKey());
  };
  addEventListener(CHANGED, here);
  addEventListener('storage', elsewhere);
  return () => {
    removeEventListener(CHANGED, here);
    removeEventListener('storage', elsewhere);
  };
}
