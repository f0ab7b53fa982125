// Waiting policy of the contributor loop: exponential backoff when the coordinator fails, jittered pauses when it has no work.
// Jitter keeps many open tabs from asking the coordinator at the same moment.

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 30_000;

/**
 * Delay before retry number `failures` (1 for the first failure): base·2^(failures-1), capped, then "equal jitter"
 * (a random point in the upper half), so the wait never collapses to zero.
 * Example: failures 1 → 0.5–1 s, 3 → 2–4 s, 10 → 15–30 s.
 */
export function backoffDelay(failures: number, random: () => number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** `ms` spread by ±20%, for polite periodic polling. */
export function jittered(ms: number, random: () => number): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
