import { describe, expect, it } from 'vitest';
import { backoffDelay, jittered } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles per failure within the upper half of the ceiling', () => {
    expect(backoffDelay(1, () => 0)).toBe(500);
    expect(backoffDelay(1, () => 1)).toBe(1_000);
    expect(backoffDelay(3, () => 0)).toBe(2_000);
    expect(backoffDelay(3, () => 1)).toBe(4_000);
  });

  it('is capped at 30 s however many failures', () => {
    expect(backoffDelay(50, () => 1)).toBe(30_000);
    expect(backoffDelay(50, () => 0)).toBe(15_000);
  });
});

describe('jittered', () => {
  it('spreads a pause by ±20%', () => {
    expect(jittered(5_000, () => 0)).toBe(4_000);
    expect(jittered(5_000, () => 1)).toBe(6_000);
  });
});
