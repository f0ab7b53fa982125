// Reads NumPy .npy files (format versions 1, 2 and 3) on the submit page, so a submitter can give an ONNX job its
// inputs as arrays saved with `numpy.save`. Pure: bytes in, a typed tensor (little-endian bytes) or a clear error out.
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import type { TensorType } from '../../protocol/index.js';

export interface NpyArray {
  type: TensorType;
  shape: number[];
  /** The elements in row-major order as little-endian bytes (big-endian files are swapped). */
  bytes: Uint8Array;
}

export class NpyError extends Error {}

/** NumPy dtype (kind + size, without byte order) → tensor type. */
const DTYPES: Record<string, TensorType> = {
  f4: 'float32', f8: 'float64', f2: 'float16', i1: 'int8', u1: 'uint8', i4: 'int32', i8: 'int64', b1: 'bool',
};
const SUPPORTED = 'float32 (<f4), float64 (<f8), float16 (<f2), int8, uint8, int32 (<i4), int64 (<i8) and bool';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * @example
 * parseNpy(bytes) // { type: 'float32', shape: [600, 64], bytes: Uint8Array(153600) }
 */
export function parseNpy(file: Uint8Array): NpyArray {
  if (file.length < 10 || MAGIC.some((byte, i) => file[i] !== byte)) throw new NpyError('is not a .npy file (it does not start with \\x93NUMPY)');
  const major = file[6];
  if (major !== 1 && major !== 2 && major !== 3) throw new NpyError(`uses .npy format version ${major}.${file[7]}, which is not known (1, 2 and 3 are)`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > file.length) throw new NpyError('is truncated: its header runs past the end of the file');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(file.subarray(headerStart, dataStart));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr === undefined) {
    throw new NpyError(/'descr'\s*:\s*\[/.test(header) ? 'holds a structured array (record dtype); save one plain array per model input' : `has an unreadable header: ${header.trim()}`);
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  if (fortran === undefined) throw new NpyError(`has an unreadable header (no fortran_order): ${header.trim()}`);
  if (fortran === 'True') throw new NpyError('is in Fortran (column-major) order; save it with numpy.save(path, numpy.ascontiguousarray(array))');
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) throw new NpyError(`has an unreadable header (no shape): ${header.trim()}`);
  const shape = shapeText.split(',').map((part) => part.trim()).filter(Boolean).map(Number);
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) throw new NpyError(`has an unreadable shape (${shapeText})`);

  const order = descr[0];
  const kind = descr.slice(1);
  const type = DTYPES[kind];
  if (!'<>|='.includes(order) || !type) {
    throw new NpyError(`has dtype ${descr}${dtypeName(kind)}, which ONNX jobs do not support; they take ${SUPPORTED}`);
  }
  const size = Number(kind.slice(1));
  const count = shape.reduce((product, dim) => product * dim, 1);
  const byteLength = count * size;
  if (dataStart + byteLength > file.length) {
    throw new NpyError(`is truncated: shape (${shape.join(', ')}) of ${descr} needs ${byteLength} bytes of data, the file has ${file.length - dataStart}`);
  }
  const bytes = file.slice(dataStart, dataStart + byteLength);
  if (order === '>' && size > 1) swapBytes(bytes, size);
  if (type === 'bool' && bytes.some((b) => b > 1)) throw new NpyError('holds bool values other than 0 and 1');
  return { type, shape, bytes };
}

/** Writes a .npy file (version 1.0): for tests and for tools that make inputs in the browser. */
export function writeNpy(array: NpyArray): Uint8Array {
  const kind = Object.entries(DTYPES).find(([, type]) => type === array.type)![0];
  const descr = `${kind.endsWith('1') ? '|' : '<'}${kind}`;
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n'; // data starts on a 64-byte boundary
  const out = new Uint8Array(10 + header.length + array.bytes.length);
  out.set([...MAGIC, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(array.bytes, 10 + header.length);
  return out;
}

function dtypeName(kind: string): string {
  const names: Record<string, string> = { i2: 'int16', u2: 'uint16', u4: 'uint32', u8: 'uint64', c8: 'complex64', c16: 'complex128', O: 'object' };
  if (names[kind]) return ` (${names[kind]})`;
  if (kind.startsWith('U') || kind.startsWith('S')) return ' (strings)';
  return '';
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let at = 0; at < bytes.length; at += size) bytes.subarray(at, at + size).reverse();
}
