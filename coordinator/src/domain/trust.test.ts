import { describe, expect, it } from 'vitest';
import { TRUST_THRESHOLD, isQuarantined, mayStandAlone, newTrust, recordValidation, type Trust } from './trust.js';

const after = (validations: string): Trust =>
  [...validations].reduce((trust, v) => recordValidation(trust, v === 'v'), newTrust());

describe('trust for adaptive replication', () => {
  it('never lets a result stand alone below 10 valid results in a row', () => {
    expect(mayStandAlone(after('v'.repeat(TRUST_THRESHOLD - 1)), 0.999)).toBe(false);
  });
  it('from 10 in a row, lets a result stand alone with probability 1 - 1/n', () => {
    const trust = after('v'.repeat(20));
    expect(mayStandAlone(trust, 1 / 20)).toBe(true);
    expect(mayStandAlone(trust, 1 / 20 - 1e-9)).toBe(false);
  });
  it('resets the streak on an invalid result', () => {
    expect(after('v'.repeat(30) + 'i').consecutiveValid).toBe(0);
    expect(mayStandAlone(after('v'.repeat(30) + 'i'), 0.99)).toBe(false);
  });
  it('quarantines after 2 invalid among the last 10, and lifts it once they age out', () => {
    expect(isQuarantined(after('vvvivvvvv'))).toBe(false);
    expect(isQuarantined(after('ivvvvivvv'))).toBe(true);
    expect(isQuarantined(after('ivvvvi' + 'v'.repeat(9)))).toBe(false);
  });
  it('never lets a quarantined contributor stand alone, even with a long streak', () => {
    const trust: Trust = { consecutiveValid: 50, recent: 'iivvvvvvvv' };
    expect(mayStandAlone(trust, 0.99)).toBe(false);
  });
});
