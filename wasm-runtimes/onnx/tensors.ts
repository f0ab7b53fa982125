// Tensor encoding of ONNX jobs (protocol/jobs.ts `OnnxTensor`) to and from typed arrays. Environment-neutral: the
// contributor's worker, the Node tests and benches, and the submit page (.npy files) share it.
//
// Outputs are always encoded as `data`: JSON numbers compare within tolerance on the coordinator (replicas computed
// on WebGPU and on WASM round differently), where base64 would only ever compare bit for bit.
import { TENSOR_TYPE_BYTES, type OnnxTensor, type TensorType } from '../../protocol/index.js';

/** The typed array holding each element type (float16 as its IEEE binary16 bits, bool as 0/1 bytes). */
export type TensorArray = Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export interface DecodedTensor {
  type: TensorType;
  dims: number[];
  data: TensorArray;
}

const ARRAY_OF: Record<TensorType, { new (buffer: ArrayBuffer): TensorArray; new (length: number): TensorArray }> = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

/**
 * Wire tensor → typed array. The tensor is assumed valid against the `OnnxTensor` schema (lengths and element
 * kinds were checked at submission); anything else throws.
 *
 * @example decodeTensor({ type: 'float16', dims: [2], data: [1, 0.5] }).data // Uint16Array [0x3c00, 0x3800]
 */
export function decodeTensor(tensor: OnnxTensor): DecodedTensor {
  const count = elementCount(tensor.dims);
  if (tensor.base64 !== undefined) {
    if (!LITTLE_ENDIAN) throw new Error('base64 tensors need a little-endian machine');
    const bytes = base64ToBytes(tensor.base64);
    const expected = count * TENSOR_TYPE_BYTES[tensor.type];
    if (bytes.length !== expected) throw new Error(`base64 holds ${bytes.length} bytes, ${tensor.type} [${tensor.dims}] needs ${expected}`);
    return { type: tensor.type, dims: [...tensor.dims], data: new ARRAY_OF[tensor.type](bytes.buffer as ArrayBuffer) };
  }
  const values = tensor.data ?? [];
  if (values.length !== count) throw new Error(`data has ${values.length} elements, [${tensor.dims}] needs ${count}`);
  const data = new ARRAY_OF[tensor.type](count);
  for (let i = 0; i < count; i++) data[i] = toElement(tensor.type, values[i]) as never;
  return { type: tensor.type, dims: [...tensor.dims], data };
}

/**
 * Typed array → wire tensor. `data` (the default, and what chunk outputs use): floats as the shortest decimal that
 * reads back to the same float32/float16/float64 value, non-finite floats as "NaN"/"Infinity"/"-Infinity", int64 as
 * numbers when safe and decimal strings beyond 2^53, bool as true/false. `base64`: the raw little-endian bytes.
 */
export function encodeTensor(tensor: DecodedTensor, encoding: 'data' | 'base64' = 'data'): OnnxTensor {
  const { type, dims, data } = tensor;
  if (encoding === 'base64') {
    if (!LITTLE_ENDIAN) throw new Error('base64 tensors need a little-endian machine');
    return { type, dims: [...dims], base64: bytesToBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
  }
  const out: unknown[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = fromElement(type, data[i]);
  return { type, dims: [...dims], data: out };
}

/** Element values as plain numbers (bool 0/1, int64 possibly inexact beyond 2^53), for comparisons and checks. */
export function tensorNumbers(tensor: OnnxTensor | DecodedTensor): number[] {
  const decoded = 'data' in tensor && ArrayBuffer.isView(tensor.data) ? (tensor as DecodedTensor) : decodeTensor(tensor as OnnxTensor);
  const out = new Array<number>(decoded.data.length);
  for (let i = 0; i < decoded.data.length; i++) {
    const value = decoded.data[i];
    out[i] = decoded.type === 'float16' ? halfBitsToNumber(value as number) : Number(value);
  }
  return out;
}

function toElement(type: TensorType, value: unknown): number | bigint {
  switch (type) {
    case 'float32':
    case 'float64':
      return typeof value === 'string' ? Number(value) : (value as number);
    case 'float16':
      return numberToHalfBits(typeof value === 'string' ? Number(value) : (value as number));
    case 'int64':
      return BigInt(value as number | string);
    case 'bool':
      return value ? 1 : 0;
    default:
      return value as number;
  }
}

function fromElement(type: TensorType, value: number | bigint): unknown {
  switch (type) {
    case 'float32':
      return finiteOr(value as number, shortestFloat32);
    case 'float64':
      return finiteOr(value as number, (v) => v);
    case 'float16':
      return finiteOr(halfBitsToNumber(value as number), (v) => shortestHalf(v, value as number));
    case 'int64': {
      const big = value as bigint;
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
    }
    case 'bool':
      return value !== 0;
    default:
      return value;
  }
}

function finiteOr(value: number, finite: (v: number) => number): number | string {
  if (Number.isFinite(value)) return finite(value);
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** The shortest decimal that reads back (through Math.fround) to the same float32: 0.1f → 0.1, not 0.10000000149. */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function shortestHalf(value: number, bits: number): number {
  for (let digits = 1; digits < 5; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (numberToHalfBits(candidate) === bits) return candidate;
  }
  return value;
}

// ---- float16 (IEEE binary16), exact round-to-nearest-even from a double ----

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** A number as the bits of the nearest float16 (ties to even), as Math.f16round would round it. */
export function numberToHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00; // 65504 is the largest half; the midpoint to 2^16 rounds up to ∞
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude * 2 ** 24); // subnormal (1024 is the smallest normal)
  let exponent = Math.floor(Math.log2(magnitude));
  if (2 ** exponent > magnitude) exponent--;
  if (2 ** (exponent + 1) <= magnitude) exponent++;
  let mantissa = roundHalfEven((magnitude / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | mantissa;
}

export function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// ---- base64 (atob/btoa exist in browsers, workers and Node 16+) ----

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(binary);
}

/**
 * Where two tensors differ beyond tolerance (numbers: |a − b| ≤ abs or ≤ rel·max(|a|, |b|), the coordinator's
 * rule; NaN equals NaN), or undefined when they agree. Type and dims must be equal.
 */
export function tensorDifference(a: OnnxTensor, b: OnnxTensor, tolerance: { abs?: number; rel?: number } = {}): string | undefined {
  if (a.type !== b.type) return `type ${a.type} vs ${b.type}`;
  if (a.dims.join() !== b.dims.join()) return `dims [${a.dims}] vs [${b.dims}]`;
  const x = tensorNumbers(a);
  const y = tensorNumbers(b);
  const abs = tolerance.abs ?? 0;
  const rel = tolerance.rel ?? 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) {
      if (Number.isNaN(x[i]) && Number.isNaN(y[i])) continue;
    } else if (x[i] === y[i]) continue;
    const diff = Math.abs(x[i] - y[i]);
    if (diff <= abs || diff <= rel * Math.max(Math.abs(x[i]), Math.abs(y[i]))) continue;
    return `element ${i}: ${x[i]} vs ${y[i]}`;
  }
  return undefined;
}
