import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatDuration, formatRate } from './format.js';

describe('formatDuration', () => {
  it('picks a readable unit', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4_250)).toBe('4.3 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(7_800_000)).toBe('2 h 10 min');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('formatRate', () => {
  it('keeps two significant digits or so', () => {
    expect(formatRate(12.4)).toBe('12 chunks/s');
    expect(formatRate(1.25)).toBe('1.3 chunks/s');
    expect(formatRate(0.345)).toBe('0.34 chunks/s');
    expect(formatRate(0)).toBe('—');
  });
});

describe('formatAgo', () => {
  it('says how long ago, relative to the given now', () => {
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(formatAgo('2024-01-01T11:59:50Z', now)).toBe('just now');
    expect(formatAgo('2024-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo('2024-01-01T09:00:00Z', now)).toBe('3 h ago');
  });
});

describe('formatBytes', () => {
  it('uses binary units with about two significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(4_300)).toBe('4.2 KiB');
    expect(formatBytes(13 * 1024 * 1024 + 5)).toBe('13 MiB');
    expect(formatBytes(-1)).toBe('—');
  });
});
