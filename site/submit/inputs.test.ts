import { describe, expect, it } from 'vitest';
import { MAX_CHUNKS } from '../../protocol/index.js';
import { formatInputs, parseInputs } from './inputs.js';

describe('parseInputs', () => {
  it('reads a JSON array as one chunk per element, even across lines', () => {
    expect(parseInputs('[1, "two", {"n": 3}]')).toEqual({ ok: true, inputs: [1, 'two', { n: 3 }], format: 'array' });
    expect(parseInputs('[\n  1,\n  2\n]')).toEqual({ ok: true, inputs: [1, 2], format: 'array' });
  });

  it('reads one JSON value per line, skipping blank lines', () => {
    expect(parseInputs('1\n\n"a"\n{"x": [1]}\n')).toEqual({ ok: true, inputs: [1, 'a', { x: [1] }], format: 'lines' });
  });

  it('treats several array lines as one array input per line', () => {
    expect(parseInputs('[1, 2]\n[3, 4]')).toEqual({ ok: true, inputs: [[1, 2], [3, 4]], format: 'lines' });
  });

  it('expands range A..B inclusively, with negatives and spaces', () => {
    expect(parseInputs('range 1..5')).toEqual({ ok: true, inputs: [1, 2, 3, 4, 5], format: 'range' });
    expect(parseInputs('  RANGE -2 .. 1 ')).toEqual({ ok: true, inputs: [-2, -1, 0, 1], format: 'range' });
    expect(parseInputs('range 7..7')).toMatchObject({ ok: true, inputs: [7] });
  });

  it('rejects backwards, malformed and oversized ranges', () => {
    expect(parseInputs('range 5..1')).toMatchObject({ ok: false, error: expect.stringContaining('larger than its end') });
    expect(parseInputs('range 1-5')).toMatchObject({ ok: false, error: expect.stringContaining('range A..B') });
    expect(parseInputs(`range 1..${MAX_CHUNKS + 1}`)).toMatchObject({ ok: false, error: expect.stringContaining('limit') });
  });

  it('names the bad line, and hints at missing quotes', () => {
    const result = parseInputs('1\n2\nhello');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatch(/^Line 3 is not valid JSON \(text needs double quotes\)/);
    }
  });

  it('reports a broken multi-line array as an array error, not a line error', () => {
    expect(parseInputs('[1,\n2,\n3')).toMatchObject({ ok: false, error: expect.stringMatching(/^Not a valid JSON array/) });
  });

  it('rejects empty input and empty arrays', () => {
    expect(parseInputs('  \n ')).toMatchObject({ ok: false });
    expect(parseInputs('[]')).toMatchObject({ ok: false, error: 'Enter at least one input.' });
  });
});

describe('formatInputs', () => {
  it('writes consecutive integers as a range and round-trips', () => {
    expect(formatInputs([3, 4, 5, 6])).toBe('range 3..6');
    expect(parseInputs(formatInputs([3, 4, 5, 6]))).toMatchObject({ inputs: [3, 4, 5, 6] });
  });

  it('writes short values one per line and round-trips arrays as single inputs', () => {
    const inputs = [['--start', '1'], { lo: 0 }, 'x'];
    expect(formatInputs(inputs)).toBe('["--start","1"]\n{"lo":0}\n"x"');
    expect(parseInputs(formatInputs(inputs))).toMatchObject({ ok: true, inputs });
  });

  it('falls back to a JSON array for long values', () => {
    const inputs = ['a'.repeat(500)];
    expect(parseInputs(formatInputs(inputs))).toMatchObject({ ok: true, inputs, format: 'array' });
  });
});
