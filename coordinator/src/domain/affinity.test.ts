import { describe, expect, it } from 'vitest';
import { affinitySlots } from './affinity.js';

describe('affinitySlots', () => {
  it('keeps every loaded thread on its job while the job is under its fair share', () => {
    expect(affinitySlots(2, [{ available: 10, running: 0, loaded: 1 }, { available: 10, running: 1, loaded: 1 }])).toEqual([1, 1]);
  });

  it('sends threads beyond a job’s fair share to the round-robin share', () => {
    expect(affinitySlots(4, [{ available: 10, running: 0, loaded: 4 }, { available: 10, running: 0, loaded: 0 }])).toEqual([2, 0]);
  });

  it('gives a job that already holds more than its share no affinity', () => {
    expect(affinitySlots(1, [{ available: 10, running: 9, loaded: 1 }, { available: 10, running: 1, loaded: 0 }])).toEqual([0, 0]);
  });

  it('never keeps more than the job has left or than was asked for', () => {
    expect(affinitySlots(3, [{ available: 1, running: 0, loaded: 3 }])).toEqual([1]);
    expect(affinitySlots(1, [{ available: 5, running: 0, loaded: 1 }, { available: 5, running: 0, loaded: 1 }])).toEqual([1, 0]);
  });

  it('with one job and no competition every loaded thread keeps it', () => {
    expect(affinitySlots(4, [{ available: 100, running: 8, loaded: 4 }])).toEqual([4]);
  });
});
