import { describe, expect, it } from 'vitest';
import { OnnxChunkInput } from '../../protocol/index.js';
import { chunkArrays, describeModelValue, matchNpyFiles, parseJsonChunks, toBase64 } from './onnx-inputs.js';

describe('describeModelValue', () => {
  it('shows symbolic, fixed and unknown dims', () => {
    expect(describeModelValue({ name: 'pixels', elemType: 1, type: 'float32', dims: ['batch', 64, null] })).toBe('pixels: float32 [batch, 64, ?]');
    expect(describeModelValue({ name: 'x', elemType: 1, type: 'float32' })).toBe('x: float32 any shape');
  });
});

describe('parseJsonChunks', () => {
  it('takes an array of chunks, or one chunk', () => {
    const chunk = { x: { type: 'float32', dims: [1], data: [1] } };
    expect(parseJsonChunks(JSON.stringify([chunk, chunk]))).toEqual({ ok: true, inputs: [chunk, chunk] });
    expect(parseJsonChunks(JSON.stringify(chunk))).toEqual({ ok: true, inputs: [chunk] });
  });
  it('says what is wrong', () => {
    expect(parseJsonChunks('[1, 2]')).toMatchObject({ ok: false, error: expect.stringContaining('chunk 0 is not an object') });
    expect(parseJsonChunks('[')).toMatchObject({ ok: false, error: expect.stringContaining('not valid JSON') });
    expect(parseJsonChunks('[]')).toMatchObject({ ok: false });
  });
});

describe('matchNpyFiles', () => {
  it('feeds the only input from the only file, and otherwise matches names', () => {
    expect(matchNpyFiles(['digits.npy'], ['pixels'])).toEqual({ ok: true, inputs: new Map([['digits.npy', 'pixels']]) });
    expect(matchNpyFiles(['a.npy', 'b.npy'], ['b', 'a'])).toEqual({ ok: true, inputs: new Map([['a.npy', 'a'], ['b.npy', 'b']]) });
  });
  it('names a file without an input and an input without a file', () => {
    expect(matchNpyFiles(['a.npy', 'c.npy'], ['a', 'b'])).toMatchObject({ ok: false, error: expect.stringContaining('c.npy: the model has no input "c"') });
    expect(matchNpyFiles(['a.npy'], ['a', 'b'])).toMatchObject({ ok: false, error: 'no file for model input "b" (add b.npy)' });
  });
});

describe('chunkArrays', () => {
  const rows = (n: number, width: number) => ({ type: 'uint8' as const, shape: [n, width], bytes: Uint8Array.from({ length: n * width }, (_, i) => i % 256) });

  it('splits along the first axis into batches, the last one shorter, as valid base64 tensors', () => {
    const parsed = chunkArrays({ pixels: rows(5, 3), offsets: { type: 'int64', shape: [5], bytes: new Uint8Array(40) } }, 2);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.inputs.map((chunk) => chunk.pixels.dims)).toEqual([[2, 3], [2, 3], [1, 3]]);
    expect(parsed.inputs.map((chunk) => chunk.offsets.dims)).toEqual([[2], [2], [1]]);
    expect(parsed.inputs[1].pixels.base64).toBe(toBase64(Uint8Array.from([6, 7, 8, 9, 10, 11])));
    for (const chunk of parsed.inputs) expect(OnnxChunkInput.safeParse(chunk).success).toBe(true);
  });

  it('refuses arrays that cannot be split together', () => {
    expect(chunkArrays({ a: rows(4, 1), b: rows(3, 1) }, 2)).toMatchObject({ ok: false, error: expect.stringContaining('a has 4, b has 3') });
    expect(chunkArrays({ a: { type: 'float32', shape: [], bytes: new Uint8Array(4) } }, 2)).toMatchObject({ ok: false, error: expect.stringContaining('0-dimensional') });
    expect(chunkArrays({ a: rows(4, 1) }, 0)).toMatchObject({ ok: false, error: expect.stringContaining('batch size') });
  });

  it('encodes large arrays to base64 without overflowing the call stack', () => {
    const bytes = new Uint8Array(300_000).fill(65);
    expect(toBase64(bytes)).toBe('QUFB'.repeat(100_000));
  });
});
