import { describe, expect, it } from 'vitest';
import { errorSummary, outputText, preview, tensorsText } from './results-view.js';

describe('outputText', () => {
  it('shows JSON output, strings as they are', () => {
    expect(outputText({ index: 0, status: 'ok', output: { count: 3 } })).toBe('{"count":3}');
    expect(outputText({ index: 0, status: 'ok', output: 'hi' })).toBe('hi');
    expect(outputText({ index: 0, status: 'ok', output: 0 })).toBe('0');
  });
  it('shows printed text when there is no output (script mode)', () => {
    expect(outputText({ index: 0, status: 'ok', output: null, stdout: 'line\n' })).toBe('line');
    expect(outputText({ index: 0, status: 'ok' })).toBe('');
  });
});

describe('errorSummary', () => {
  it('takes the last line of a traceback', () => {
    const traceback = 'Traceback (most recent call last):\n  File "main.py", line 2, in main\nZeroDivisionError: division by zero\n';
    expect(errorSummary(traceback)).toBe('ZeroDivisionError: division by zero');
  });
  it('says something when there is no message', () => expect(errorSummary(undefined)).toBe('failed without an error message'));
});

describe('preview', () => {
  it('keeps short text whole', () => expect(preview('abc')).toEqual({ head: 'abc', truncated: false }));
  it('cuts long or many-line text', () => {
    expect(preview('x'.repeat(300), 10)).toEqual({ head: 'x'.repeat(10), truncated: true });
    expect(preview('1\n2\n3\n4\n5\n6').truncated).toBe(true);
  });
});

describe('tensorsText', () => {
  it('writes an ONNX output as one line per tensor: type, dims and values', () => {
    const output = {
      label: { type: 'int64', dims: [3], data: [4, 0, '9007199254740993'] },
      probabilities: { type: 'float32', dims: [3, 1], data: [0.25, 'NaN', 1] },
    };
    expect(outputText({ index: 0, status: 'ok', output })).toBe('label: int64 [3] = [4, 0, 9007199254740993]\nprobabilities: float32 [3, 1] = [0.25, NaN, 1]');
    expect(tensorsText({ x: { type: 'uint8', dims: [4], data: [1, 2, 3, 4] } }, 2)).toBe('x: uint8 [4] = [1, 2, … 2 more]');
  });
  it('leaves other outputs alone', () => {
    expect(tensorsText({ a: 1 })).toBeUndefined();
    expect(tensorsText([1])).toBeUndefined();
    expect(outputText({ index: 0, status: 'ok', output: { a: 1 } })).toBe('{"a":1}');
  });
});
