import { describe, expect, it } from 'vitest';
import { networkMayTake, networkOf } from './network.js';

describe('networks', () => {
  it('groups IPv4 addresses by /24 and IPv6 by /48, IPv4-mapped IPv6 as IPv4', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:127.0.3.9')).toBe('127.0.3.0/24');
    expect(networkOf('2001:db8:1:2::5')).toBe('2001:db8:1::/48');
    expect(networkOf('2001:0db8:0001:ffff:0:0:0:1')).toBe('2001:db8:1::/48');
    expect(networkOf('::1')).toBe('0:0:0::/48');
    expect(networkOf('fe80::1')).toBe('fe80:0:0::/48');
    expect(networkOf('not an ip')).toBeUndefined();
    expect(networkOf(undefined)).toBeUndefined();
  });
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
