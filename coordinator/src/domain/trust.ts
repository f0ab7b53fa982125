// Per-contributor, per-runtime trust for adaptive replication. BOINC's rule is the floor, not the goal: trust grows
// with consecutive valid results, but only results validated on *other submitters'* jobs count (a contributor cannot
// farm trust on trivial jobs of its own), it decays with time, and however high it grows a result is spot-checked
// with at least `spotCheckFloor` probability. Whether a result is spot-checked is drawn when it is reported, so
// nothing a contributor sees while it computes depends on it. A contributor with 2 or more invalid results among its
// last 10 validated ones is quarantined: its results are always replicated and never decide a quorum alone.

export const TRUST_THRESHOLD = 10;
const WINDOW = 10;
const QUARANTINE_INVALID = 2;

export interface Trust {
  /** Valid results in a row. */
  consecutiveValid: number;
  /** The last validations, oldest first: 'v' valid, 'i' invalid. */
  recent: string;
  /** When the last validation was recorded; the streak decays from there. */
  validatedAt?: number;
}

export interface TrustPolicy {
  /** The least share of results of a trusted contributor that is still cross-checked (0.1 = 10 %). */
  spotCheckFloor: number;
  /** The streak counts half as much after this long without a validated result. */
  halfLifeMs: number;
}

export const defaultTrustPolicy: TrustPolicy = { spotCheckFloor: 0.1, halfLifeMs: 7 * 24 * 3600_000 };

export const newTrust = (): Trust => ({ consecutiveValid: 0, recent: '' });

export function recordValidation(trust: Trust, valid: boolean, now: number): Trust {
  return {
    consecutiveValid: valid ? trust.consecutiveValid + 1 : 0,
    recent: (trust.recent + (valid ? 'v' : 'i')).slice(-WINDOW),
    validatedAt: now,
  };
}

export function isQuarantined(trust: Trust): boolean {
  let invalid = 0;
  for (const c of trust.recent) if (c === 'i') invalid++;
  return invalid >= QUARANTINE_INVALID;
}

/** The streak as it counts at `now`: halved for every `halfLifeMs` since the last validation. */
export function effectiveStreak(trust: Trust, now: number, policy: TrustPolicy): number {
  const idle = Math.max(0, now - (trust.validatedAt ?? now));
  return trust.consecutiveValid * 0.5 ** (idle / policy.halfLifeMs);
}

/** Whether a replica issued to this contributor now may stand alone if it is not drawn for a spot check. */
export function isTrusted(trust: Trust, now: number, policy: TrustPolicy): boolean {
  return !isQuarantined(trust) && effectiveStreak(trust, now, policy) >= TRUST_THRESHOLD;
}

/** The probability that a trusted contributor's result is cross-checked: 1/n (BOINC), never below the floor. */
export function spotCheckRate(trust: Trust, now: number, policy: TrustPolicy): number {
  return Math.max(policy.spotCheckFloor, 1 / Math.max(1, effectiveStreak(trust, now, policy)));
}

/**
 * Whether a result reported now stands alone. `random` is uniform in [0, 1), drawn by the caller so that this stays
 * a pure function.
 */
export function standsAlone(trust: Trust, now: number, random: number, policy: TrustPolicy): boolean {
  return isTrusted(trust, now, policy) && random >= spotCheckRate(trust, now, policy);
}

/**
 * Whether a valid result earns its contributor trust: not on a job whose submitter is the contributor's own
 * network (see networkSubmitter in network.ts). Invalid results always count against it.
 */
export function earnsTrust(jobOwner: string | undefined, contributorSubmitter: string | undefined): boolean {
  return !jobOwner || !contributorSubmitter || jobOwner !== contributorSubmitter;
}
