// keyedFetch's key rules, with the key form and the coordinator faked: when it asks, what it keeps, what it drops.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { KeyRefusal } from './key-form.js';

const asked: KeyRefusal[] = [];
let typed: (string | null)[] = [];
vi.mock('./key-form.js', () => ({
  askForApiKey: async (refusal: KeyRefusal) => {
    asked.push(refusal);
    return typed.shift() ?? null;
  },
}));

const { keyedFetch, storedApiKey } = await import('./api.js');

const storage = new Map<string, string>();
vi.stubGlobal('localStorage', {
  getItem: (k: string) => storage.get(k) ?? null,
  setItem: (k: string, v: string) => void storage.set(k, v),
  removeItem: (k: string) => void storage.delete(k),
});
const events = new EventTarget();
vi.stubGlobal('dispatchEvent', (event: Event) => events.dispatchEvent(event));
vi.stubGlobal('addEventListener', events.addEventListener.bind(events));
vi.stubGlobal('removeEventListener', events.removeEventListener.bind(events));

/** A coordinator where `alice` owns the job, `bob` is a live key that does not, and anything else is unknown. */
const sent: (string | null)[] = [];
vi.stubGlobal('fetch', async (_url: string, init: RequestInit = {}) => {
  const key = (init.headers as Record<string, string> | undefined)?.Authorization?.replace('Bearer ', '') ?? null;
  sent.push(key);
  const refuse = (status: number, code: string) => new Response(JSON.stringify({ error: { code, message: code } }), { status });
  if (key === 'alice') return new Response('{"ok":true}');
  if (key === 'bob') return refuse(403, 'NOT_JOB_OWNER');
  return refuse(401, 'API_KEY_REQUIRED');
});

beforeEach(() => {
  storage.clear();
  asked.length = 0;
  sent.length = 0;
  typed = [];
});

describe('keyedFetch', () => {
  it('asks once, retries with the key typed and keeps it only once the coordinator accepts it', async () => {
    typed = ['nobody', 'bob', 'alice'];
    const response = await keyedFetch('/api/jobs/j1');
    expect(response.status).toBe(200);
    expect(asked).toEqual([
      { status: 401, keySent: false },
      { status: 401, keySent: true },
      { status: 403, keySent: true },
    ]);
    expect(sent).toEqual([null, 'nobody', 'bob', 'alice']);
    expect(storedApiKey()).toBe('alice');
    // Kept: the next request asks nothing.
    expect((await keyedFetch('/api/jobs/j1')).status).toBe(200);
    expect(asked).toHaveLength(3);
  });

  it('returns the refusal and keeps nothing when the form is cancelled', async () => {
    typed = ['bob', null];
    const response = await keyedFetch('/api/jobs/j1');
    expect([response.status, storedApiKey()]).toEqual([403, null]);
  });

  it('drops a stored key the coordinator no longer knows (revoked), so cancelling leaves requests keyless', async () => {
    storage.set('idle-sense:api-key', 'revoked');
    const response = await keyedFetch('/api/jobs/j1');
    expect(response.status).toBe(401);
    expect(asked).toEqual([{ status: 401, keySent: true }]);
    expect(storedApiKey()).toBeNull();
  });

  it('keeps a live stored key that merely does not own this job', async () => {
    storage.set('idle-sense:api-key', 'bob');
    expect((await keyedFetch('/api/jobs/j1')).status).toBe(403);
    expect(asked).toEqual([{ status: 403, keySent: true }]);
    expect(storedApiKey()).toBe('bob');
  });
});
