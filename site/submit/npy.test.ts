import { describe, expect, it } from 'vitest';
import { NpyError, parseNpy, writeNpy } from './npy.js';

/** A .npy file with the given header text and data bytes (version `major`). */
function npy(header: string, data: number[] = [], major = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const prefix = major === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, prefix);
  out.set(data, prefix + text.length);
  return out;
}

describe('parseNpy', () => {
  it('reads what numpy.save writes for each supported dtype', () => {
    const f4 = new Uint8Array(new Float32Array([1.5, -2, 3, 4, 5, 6]).buffer);
    expect(parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", [...f4]))).toEqual({ type: 'float32', shape: [2, 3], bytes: f4 });
    expect(parseNpy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", [0, 7, 255]))).toMatchObject({ type: 'uint8', shape: [3] });
    expect(parseNpy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", [1, 0, 0, 0, 0, 0, 0, 0])).type).toBe('int64');
    expect(parseNpy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", [1, 0])).type).toBe('bool');
    expect(parseNpy(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (), }", [0, 0x3c]))).toMatchObject({ type: 'float16', shape: [] });
  });

  it('reads format versions 2 and 3 (4-byte header length, UTF-8 header)', () => {
    const header = "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }";
    expect(parseNpy(npy(header, [7, 0, 0, 0], 2))).toMatchObject({ type: 'int32', shape: [1], bytes: new Uint8Array([7, 0, 0, 0]) });
    expect(parseNpy(npy(header, [7, 0, 0, 0], 3)).type).toBe('int32');
  });

  it('swaps big-endian data to little-endian', () => {
    const array = parseNpy(npy("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 1, 2]));
    expect([...array.bytes]).toEqual([2, 1, 0, 0]);
  });

  it('refuses what it cannot pass on, saying why', () => {
    const bad = (header: string, data: number[] = []) => () => parseNpy(npy(header, data));
    expect(bad("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", Array(16).fill(0))).toThrow(/Fortran .*ascontiguousarray/);
    expect(bad("{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }", [0, 0])).toThrow('has dtype <u2 (uint16), which ONNX jobs do not support');
    expect(bad("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }")).toThrow('(strings)');
    expect(bad("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }")).toThrow('structured array');
    expect(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", [0, 0, 0, 0])).toThrow('needs 16 bytes of data, the file has 4');
    expect(() => parseNpy(new TextEncoder().encode('{"not": "npy"}'))).toThrow(NpyError);
  });

  it('round-trips through writeNpy, with the data 64-byte aligned', () => {
    const bytes = new Uint8Array(new Float64Array([1, 2, 3, 4]).buffer);
    const file = writeNpy({ type: 'float64', shape: [2, 2], bytes });
    expect((file.length - bytes.length) % 64).toBe(0);
    expect(parseNpy(file)).toEqual({ type: 'float64', shape: [2, 2], bytes });
  });
});
