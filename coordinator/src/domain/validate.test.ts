// Validators and what replicas must agree on.
import { describe, expect, it } from 'vitest';
import type { ComparedField } from '../../../protocol/index.js';
import { agreement, unverifiedFields, validator } from './validate.js';

describe('exact validation', () => {
  const same = validator({ kind: 'exact' });
  it('ignores object key order and compares numbers by value', () => {
    expect(same({ a: 1, b: [1, 2, { c: 'x' }] }, { b: [1, 2, { c: 'x' }], a: 1.0 })).toBe(true);
  });
  it('tells apart values that differ anywhere', () => {
    expect(same({ a: 1 }, { a: 1.0000001 })).toBe(false);
    expect(same([1, 2], [2, 1])).toBe(false);
    expect(same({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(same('out\n', 'out')).toBe(false);
    expect(same(null, 0)).toBe(false);
    expect(same([], {})).toBe(false);
  });
});

describe('tolerance validation', () => {
  it('accepts numbers within abs, and rejects just beyond', () => {
    const same = validator({ kind: 'tolerance', abs: 0.01 });
    expect(same(1.0, 1.0099)).toBe(true);
    expect(validator({ kind: 'tolerance', abs: 0.25 })(0.5, 0.75)).toBe(true);
    expect(same(1.0, 1.0101)).toBe(false);
    expect(same({ x: [0.5, 'label'] }, { x: [0.509, 'label'] })).toBe(true);
    expect(same({ x: [0.5, 'label'] }, { x: [0.5, 'Label'] })).toBe(false);
  });
  it('measures rel against the larger magnitude', () => {
    const same = validator({ kind: 'tolerance', rel: 1e-3 });
    expect(same(1000, 1001)).toBe(true);
    expect(same(1000, 1001.1)).toBe(false);
    expect(same(0, 1e-12)).toBe(false);
  });
  it('passes when either bound holds', () => {
    const same = validator({ kind: 'tolerance', abs: 1e-6, rel: 1e-3 });
    expect(same(0, 1e-7)).toBe(true);
    expect(same(100, 100.05)).toBe(true);
  });
  it('never treats NaN as close to a number, only to NaN', () => {
    const same = validator({ kind: 'tolerance', abs: 1 });
    expect(same(Number.NaN, 0)).toBe(false);
    expect(same(Number.NaN, Number.NaN)).toBe(true);
  });
});

describe('agreement', () => {
  const all = { validation: { kind: 'exact' as const }, compared: ['output', 'stdout', 'stderr', 'attachments'] as ComparedField[] };
  const file = (name: string, hex: string) => ({ name, size: 3, sha256: `sha256:${hex.repeat(64)}` });
  it('compares stdout, stderr and attachments exactly besides the output', () => {
    const agree = agreement(all);
    expect(agree({ output: 1, stdout: 'a' }, { output: 1, stdout: 'a' })).toBe(true);
    expect(agree({ output: 1, stdout: 'a' }, { output: 1, stdout: 'b' })).toBe(false);
    expect(agree({ output: 1, stderr: 'warn' }, { output: 1 })).toBe(false);
    expect(agree({ output: 1, stdout: '' }, { output: 1 })).toBe(true);
    expect(agree({ output: 1, attachments: [file('a', 'a'), file('b', 'b')] }, { output: 1, attachments: [file('b', 'b'), file('a', 'a')] })).toBe(true);
    expect(agree({ output: 1, attachments: [file('a', 'a')] }, { output: 1, attachments: [file('a', 'c')] })).toBe(false);
    expect(agree({ output: 1, attachments: [file('a', 'a')] }, { output: 1 })).toBe(false);
  });
  it('in function mode leaves stdout and stderr out, and says so for what a verified result publishes', () => {
    const fn = { ...all, compared: ['output', 'attachments'] as ComparedField[] };
    expect(agreement(fn)({ output: 1, stdout: 'a' }, { output: 1, stdout: 'b' })).toBe(true);
    expect(unverifiedFields({ output: 1, stdout: 'a', attachments: [file('a', 'a')] }, fn)).toEqual(['stdout']);
    expect(unverifiedFields({ output: 1, stdout: 'a', stderr: 'b' }, all)).toEqual([]);
  });
});
