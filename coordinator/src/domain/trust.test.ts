import { describe, expect, it } from 'vitest';
import {
  TRUST_THRESHOLD,
  defaultTrustPolicy,
  earnsTrust,
  effectiveStreak,
  isQuarantined,
  isTrusted,
  newTrust,
  recordValidation,
  spotCheckRate,
  standsAlone,
  type Trust,
} from './trust.js';

const T0 = Date.UTC(2026, 0, 1);
const policy = defaultTrustPolicy;
const after = (validations: string, now = T0): Trust =>
  [...validations].reduce((trust, v) => recordValidation(trust, v === 'v', now), newTrust());

describe('trust for adaptive replication', () => {
  it('never lets a result stand alone below 10 valid results in a row', () => {
    expect(isTrusted(after('v'.repeat(TRUST_THRESHOLD - 1)), T0, policy)).toBe(false);
    expect(standsAlone(after('v'.repeat(TRUST_THRESHOLD - 1)), T0, 0.999, policy)).toBe(false);
  });
  it('from 10 in a row, lets a result stand alone with probability 1 - 1/n', () => {
    const trust = after('v'.repeat(10));
    expect(spotCheckRate(trust, T0, policy)).toBe(0.1);
    expect(standsAlone(after('v'.repeat(8) + 'vv'), T0, 0.1, policy)).toBe(true);
    expect(standsAlone(after('v'.repeat(8) + 'vv'), T0, 0.1 - 1e-9, policy)).toBe(false);
  });
  it('keeps spot-checking at least the floor however long the streak grows', () => {
    const trust = after('v'.repeat(10_000));
    expect(spotCheckRate(trust, T0, policy)).toBe(0.1);
    expect(standsAlone(trust, T0, 0.0999, policy)).toBe(false);
    expect(spotCheckRate(trust, T0, { ...policy, spotCheckFloor: 0.25 })).toBe(0.25);
  });
  it('decays the streak with time: a contributor idle for long must earn its trust again', () => {
    const trust = after('v'.repeat(40));
    expect(effectiveStreak(trust, T0 + policy.halfLifeMs, policy)).toBeCloseTo(20);
    expect(isTrusted(trust, T0 + policy.halfLifeMs, policy)).toBe(true);
    expect(isTrusted(trust, T0 + 3 * policy.halfLifeMs, policy)).toBe(false);
  });
  it('resets the streak on an invalid result', () => {
    expect(after('v'.repeat(30) + 'i').consecutiveValid).toBe(0);
    expect(standsAlone(after('v'.repeat(30) + 'i'), T0, 0.99, policy)).toBe(false);
  });
  it('quarantines after 2 invalid among the last 10, and lifts it once they age out', () => {
    expect(isQuarantined(after('vvvivvvvv'))).toBe(false);
    expect(isQuarantined(after('ivvvvivvv'))).toBe(true);
    expect(isQuarantined(after('ivvvvi' + 'v'.repeat(9)))).toBe(false);
  });
  it('never lets a quarantined contributor stand alone, even with a long streak', () => {
    const trust: Trust = { consecutiveValid: 50, recent: 'iivvvvvvvv', validatedAt: T0 };
    expect(standsAlone(trust, T0, 0.99, policy)).toBe(false);
  });
  it('earns no trust from valid results on jobs submitted from the contributor’s own network', () => {
    expect(earnsTrust('net:203.0.113.0/24', 'net:203.0.113.0/24')).toBe(false);
    expect(earnsTrust('net:203.0.113.0/24', 'net:198.51.100.0/24')).toBe(true);
    // Unknown on either side (a job from before owners, a contributor with no address): nothing to compare.
    expect(earnsTrust(undefined, 'net:203.0.113.0/24')).toBe(true);
    expect(earnsTrust('key:alice', undefined)).toBe(true);
  });
});
