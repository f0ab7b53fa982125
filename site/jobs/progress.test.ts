import { describe, expect, it } from 'vitest';
import { averageRate, etaMs, jobIdFrom, segmentPercents, ThroughputMeter } from './progress.js';

describe('ThroughputMeter', () => {
  it('measures chunks per second between observations', () => {
    const meter = new ThroughputMeter();
    meter.observe(0, 10);
    meter.observe(5_000, 60);
    expect(meter.rate(5_000)).toBe(10);
  });

  it('knows no rate until enough time has passed', () => {
    const meter = new ThroughputMeter(30_000, 2_000);
    meter.observe(0, 0);
    meter.observe(1_000, 50);
    expect(meter.rate(1_000)).toBeUndefined();
  });

  it('only looks at the recent window', () => {
    const meter = new ThroughputMeter(10_000);
    meter.observe(0, 0);
    meter.observe(20_000, 1_000); // a fast start...
    for (let t = 21_000; t <= 40_000; t += 1_000) meter.observe(t, 1_000 + (t - 20_000) / 1_000); // ...then 1 chunk/s
    expect(meter.rate(40_000)).toBeCloseTo(1, 1);
  });

  it('falls to zero when a job stalls and is observed on a timer', () => {
    const meter = new ThroughputMeter(10_000);
    meter.observe(0, 0);
    meter.observe(5_000, 100);
    for (let t = 6_000; t <= 30_000; t += 1_000) meter.observe(t, 100);
    expect(meter.rate(30_000)).toBe(0);
  });
});

describe('etaMs', () => {
  it('divides the remaining chunks by the rate', () => expect(etaMs(100, 4)).toBe(25_000));
  it('is zero when nothing remains', () => expect(etaMs(0, undefined)).toBe(0));
  it('is unknown without a positive rate', () => {
    expect(etaMs(10, undefined)).toBeUndefined();
    expect(etaMs(10, 0)).toBeUndefined();
  });
});

describe('averageRate', () => {
  it('uses creation to finish for finished jobs', () => {
    expect(averageRate({ createdAt: '2024-01-01T00:00:00Z', finishedAt: '2024-01-01T00:00:10Z', completed: 45, failed: 5 }, 0)).toBe(5);
  });
  it('uses now for running jobs, and is unknown before the first result', () => {
    const createdAt = '2024-01-01T00:00:00Z';
    expect(averageRate({ createdAt, completed: 20, failed: 0 }, Date.parse(createdAt) + 4_000)).toBe(5);
    expect(averageRate({ createdAt, completed: 0, failed: 0 }, Date.parse(createdAt) + 4_000)).toBeUndefined();
  });
});

describe('segmentPercents', () => {
  it('sizes the segments as shares of the total', () => {
    expect(segmentPercents({ total: 200, completed: 100, failed: 20, running: 10, queued: 70 })).toEqual({ completed: 50, failed: 10, running: 5 });
  });
  it('draws an empty bar for an empty job', () => {
    expect(segmentPercents({ total: 0, completed: 0, failed: 0, running: 0, queued: 0 })).toEqual({ completed: 0, failed: 0, running: 0 });
  });
});

describe('jobIdFrom', () => {
  it('reads /jobs/<id>, then ?id=', () => {
    expect(jobIdFrom({ pathname: '/jobs/abc%20d', search: '' })).toBe('abc d');
    expect(jobIdFrom({ pathname: '/jobs/abc/', search: '' })).toBe('abc');
    expect(jobIdFrom({ pathname: '/job.html', search: '?id=xyz' })).toBe('xyz');
    expect(jobIdFrom({ pathname: '/jobs', search: '' })).toBeUndefined();
  });
});
