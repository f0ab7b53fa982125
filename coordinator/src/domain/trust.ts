// Per-contributor, per-runtime trust for adaptive replication (BOINC's rule): trust grows with consecutive valid
// results; below 10 in a row a result never stands alone, above it stands alone with probability 1 − 1/n (the rest
// are spot-checked). An invalid result resets the streak. A contributor with 2 or more invalid results among its
// last 10 validated ones is quarantined: its results are always replicated and never decide a quorum alone.

export const TRUST_THRESHOLD = 10;
const WINDOW = 10;
const QUARANTINE_INVALID = 2;

export interface Trust {
  /** Valid results in a row. */
  consecutiveValid: number;
  /** The last validations, oldest first: 'v' valid, 'i' invalid. */
  recent: string;
}

export const newTrust = (): Trust => ({ consecutiveValid: 0, recent: '' });

export function recordValidation(trust: Trust, valid: boolean): Trust {
  return {
    consecutiveValid: valid ? trust.consecutiveValid + 1 : 0,
    recent: (trust.recent + (valid ? 'v' : 'i')).slice(-WINDOW),
  };
}

export function isQuarantined(trust: Trust): boolean {
  let invalid = 0;
  for (const c of trust.recent) if (c === 'i') invalid++;
  return invalid >= QUARANTINE_INVALID;
}

/**
 * Whether a result this contributor is about to compute may stand alone. `random` is uniform in [0, 1), drawn by
 * the caller so that this stays a pure function.
 */
export function mayStandAlone(trust: Trust, random: number): boolean {
  const n = trust.consecutiveValid;
  if (n < TRUST_THRESHOLD || isQuarantined(trust)) return false;
  return random >= 1 / n;
}
