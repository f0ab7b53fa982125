import { describe, expect, it } from 'vitest';
import { indent } from './editor.js';

describe('indent (Tab in the code box)', () => {
  it('inserts four spaces at the cursor', () => {
    expect(indent({ value: 'ab', selectionStart: 1, selectionEnd: 1 }, false)).toEqual({ value: 'a    b', selectionStart: 5, selectionEnd: 5 });
  });

  it('replaces a selection within one line by four spaces', () => {
    expect(indent({ value: 'abcd', selectionStart: 1, selectionEnd: 3 }, false)).toEqual({ value: 'a    d', selectionStart: 5, selectionEnd: 5 });
  });

  it('indents every line of a multi-line selection', () => {
    const value = 'x\nif a:\nb\nc';
    const result = indent({ value, selectionStart: 3, selectionEnd: 9 }, false);
    expect(result.value).toBe('x\n    if a:\n    b\nc');
    expect(result.value.slice(result.selectionStart, result.selectionEnd)).toBe('f a:\n    b');
  });

  it('outdents up to four spaces per line with Shift+Tab', () => {
    const result = indent({ value: '      a\n  b\nc', selectionStart: 0, selectionEnd: 12 }, true);
    expect(result.value).toBe('  a\nb\nc');
  });

  it('outdents the current line when nothing is selected', () => {
    expect(indent({ value: 'x\n        y', selectionStart: 10, selectionEnd: 10 }, true)).toEqual({ value: 'x\n    y', selectionStart: 6, selectionEnd: 6 });
  });
});
