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

describe('coordinator-wide quotas per submitter', () => {
  it('are off by default; --key-max-* set them, flags over env, MiB to bytes', () => {
    expect(configFromArgs([], {}).keyQuota).toEqual({});
    expect(configFromArgs(['--key-max-jobs', '5', '--key-max-blob-mb', '1.5'], { KEY_MAX_JOBS: '9', KEY_MAX_CHUNKS_PER_DAY: '1000' }).keyQuota).toEqual({
      jobs: 5,
      chunksPerDay: 1000,
      blobBytes: 1.5 * 1024 * 1024,
    });
    expect(configFromArgs(['--key-max-jobs', '0'], {}).keyQuota).toEqual({});
  });
  it('rejects values they cannot use, naming the flag', () => {
    expect(() => configFromArgs(['--key-max-jobs', '2.5'], {})).toThrow(/--key-max-jobs/);
    expect(() => configFromArgs([], { KEY_MAX_CHUNKS_PER_DAY: 'lots' })).toThrow(/--key-max-chunks-per-day/);
    expect(() => configFromArgs(['--key-max-blob-mb', '-1'], {})).toThrow(/--key-max-blob-mb/);
  });
});
