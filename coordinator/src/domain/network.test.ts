import { describe, expect, it } from 'vitest';
import { networkMayTake } from './network.js';

describe('networks', () => {
  it('refuses a second replica on the same network while another network is asking for work', () => {
    expect(networkMayTake('a', ['a'], ['a', 'b'])).toBe(false);
    expect(networkMayTake('b', ['a'], ['a', 'b'])).toBe(true);
  });
  it('allows the same network when the pool has no other (one machine, one NAT)', () => {
    expect(networkMayTake('a', ['a'], ['a'])).toBe(true);
    expect(networkMayTake('a', ['a', 'b'], ['a', 'b'])).toBe(true);
    expect(networkMayTake(undefined, ['a'], ['a', 'b'])).toBe(true);
  });
});
