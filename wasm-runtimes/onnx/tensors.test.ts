// The tensor wire encoding round-trips every supported type exactly, in both encodings, and rounds float16 as IEEE does.
import { describe, expect, it } from 'vitest';
import { OnnxTensor, type TensorType } from '../../protocol/index.js';
import { decodeTensor, encodeTensor, halfBitsToNumber, numberToHalfBits, tensorDifference, tensorNumbers } from './tensors.js';

const SAMPLES: Record<TensorType, unknown[]> = {
  float32: [0.1, -2.5, 3.4028234663852886e38, 1.401298464324817e-45, 'NaN', 'Infinity', '-Infinity', 0],
  float16: [0.0999755859375, -2.5, 65504, 5.960464477539063e-8, 'NaN', 'Infinity', '-Infinity', 0],
  float64: [0.1, -2.5, Number.MAX_VALUE, Number.MIN_VALUE, 'NaN', 'Infinity', '-Infinity', 1 / 3],
  int8: [-128, 127, 0, 1, -1, 5, 100, -100],
  uint8: [0, 255, 1, 128, 2, 3, 4, 5],
  int32: [-(2 ** 31), 2 ** 31 - 1, 0, 1, -1, 7, 65536, -65536],
  int64: ['-9223372036854775808', '9223372036854775807', Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, '9007199254740993', 0, 1, -1],
  bool: [true, false, false, true, true, true, false, false],
};

describe('tensor encoding', () => {
  it.each(Object.entries(SAMPLES) as [TensorType, unknown[]][])('round-trips %s through data and base64 exactly', (type, data) => {
    const wire = { type, dims: [2, 4], data };
    expect(OnnxTensor.safeParse(wire).success).toBe(true);
    const decoded = decodeTensor(wire);
    // Bit-exact through data (floats may come back in a shorter decimal that reads as the same float) ...
    expect(decodeTensor(encodeTensor(decoded))).toEqual(decoded);
    if (!type.startsWith('float')) expect(encodeTensor(decoded)).toEqual(wire);
    // ... and through base64.
    const base64 = encodeTensor(decoded, 'base64');
    expect(OnnxTensor.safeParse(base64).success).toBe(true);
    expect(decodeTensor(base64)).toEqual(decoded);
  });

  it('writes float32 outputs as the shortest decimal that reads back to the same float', () => {
    const out = encodeTensor({ type: 'float32', dims: [3], data: new Float32Array([0.1, 1 / 3, 16777217]) });
    expect(out.data).toEqual([0.1, 0.33333334, 16777216]);
  });

  it('keeps int64 beyond 2^53 exact as decimal strings, and safe ones as numbers', () => {
    const out = encodeTensor({ type: 'int64', dims: [2], data: new BigInt64Array([2n ** 60n, -3n]) });
    expect(out.data).toEqual(['1152921504606846976', -3]);
  });

  it('rounds numbers to float16 like IEEE 754 (ties to even, overflow to infinity, subnormals)', () => {
    expect(numberToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(numberToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(numberToHalfBits(65519)).toBe(0x7bff);
    expect(numberToHalfBits(65520)).toBe(0x7c00);
    expect(numberToHalfBits(-0)).toBe(0x8000);
    expect(numberToHalfBits(2 ** -25)).toBe(0); // half the smallest subnormal: tie → 0
    expect(numberToHalfBits(3 * 2 ** -26)).toBe(1);
    expect(numberToHalfBits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normals
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfBitsToNumber(bits);
      if (Number.isNaN(value)) expect(numberToHalfBits(value)).toBe(0x7e00);
      else expect(numberToHalfBits(value)).toBe(bits);
    }
  });

  it('compares within tolerance the way the coordinator does', () => {
    const a = { type: 'float32' as const, dims: [3], data: [1, 'NaN', 100] };
    expect(tensorDifference(a, { ...a, data: [1.00005, 'NaN', 100.05] }, { abs: 1e-4, rel: 1e-3 })).toBeUndefined();
    expect(tensorDifference(a, { ...a, data: [1.01, 'NaN', 100] }, { abs: 1e-4, rel: 1e-3 })).toMatch(/element 0/);
    expect(tensorDifference(a, { ...a, dims: [1, 3] })).toMatch(/dims/);
    expect(tensorNumbers(a)).toEqual([1, NaN, 100]);
  });
});
