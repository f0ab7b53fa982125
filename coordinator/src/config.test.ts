import { describe, expect, it } from 'vitest';
import { configFromArgs } from './config.js';

describe('coordinator flags for adaptive replication', () => {
  it('defaults to a 10% spot-check floor and distinct networks on', () => {
    expect(configFromArgs([], {})).toMatchObject({ spotCheckFloor: 0.1, distinctNetworks: true });
  });
  it('takes --spot-check and --distinct-networks, flags over env', () => {
    expect(configFromArgs(['--spot-check', '0.25', '--distinct-networks', 'off'], { SPOT_CHECK: '0.5' })).toMatchObject({
      spotCheckFloor: 0.25,
      distinctNetworks: false,
    });
    expect(configFromArgs([], { SPOT_CHECK: '0.5', DISTINCT_NETWORKS: 'off' })).toMatchObject({ spotCheckFloor: 0.5, distinctNetworks: false });
  });
  it('rejects values it cannot use, naming the flag', () => {
    expect(() => configFromArgs(['--spot-check', '2'], {})).toThrow(/--spot-check/);
    expect(() => configFromArgs(['--spot-check', '-1'], {})).toThrow(/--spot-check/);
    expect(() => configFromArgs(['--distinct-networks', 'maybe'], {})).toThrow(/--distinct-networks/);
  });
});
