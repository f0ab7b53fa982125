// The ONNX half of the submit page's logic, pure so it is tested without a page: the model's declared interface as
// text, chunk inputs from JSON, and chunk inputs from .npy files (one per model input, split along the first axis).
import type { OnnxChunkInput, OnnxTensor } from '../../protocol/index.js';
import type { ModelValue } from '../../coordinator/src/onnx/model-proto.js';
import type { NpyArray } from './npy.js';

/** "pixels: float32 [batch, 64]"; unknown dims are "?", a value without a declared shape is "any shape". */
export function describeModelValue(value: ModelValue): string {
  const dims = value.dims ? `[${value.dims.map((dim) => (dim === null ? '?' : String(dim))).join(', ')}]` : 'any shape';
  return `${value.name}: ${value.type} ${dims}`;
}

export type ParsedChunks = { ok: true; inputs: OnnxChunkInput[] } | { ok: false; error: string };

/**
 * Chunk inputs written as JSON: an array of chunks, each `{inputName: {type, dims, data | base64}}`; a single object
 * is one chunk. Tensors are checked by the job schema on submit, with the coordinator's messages.
 */
export function parseJsonChunks(text: string): ParsedChunks {
  if (text.trim() === '') return { ok: false, error: 'give the chunk inputs as JSON or .npy files' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const chunks = Array.isArray(value) ? value : [value];
  const bad = chunks.findIndex((chunk) => typeof chunk !== 'object' || chunk === null || Array.isArray(chunk));
  if (bad >= 0) return { ok: false, error: `chunk ${bad} is not an object of named tensors ({"input": {"type", "dims", "data"}})` };
  if (chunks.length === 0) return { ok: false, error: 'the array has no chunks' };
  return { ok: true, inputs: chunks as OnnxChunkInput[] };
}

/** The file name without its folder and `.npy` ("pixels.npy" → "pixels"). */
export function npyStem(fileName: string): string {
  return fileName.replace(/^.*[\\/]/, '').replace(/\.npy$/i, '');
}

/**
 * Which model input each .npy file feeds: the input named like the file; with one model input and one file, that
 * input whatever the file's name. Returns the input name by file name, or an error naming the mismatch.
 */
export function matchNpyFiles(fileNames: string[], modelInputs: string[]): { ok: true; inputs: Map<string, string> } | { ok: false; error: string } {
  if (fileNames.length === 1 && modelInputs.length === 1) return { ok: true, inputs: new Map([[fileNames[0], modelInputs[0]]]) };
  const inputs = new Map<string, string>();
  for (const file of fileNames) {
    const stem = npyStem(file);
    if (!modelInputs.includes(stem)) {
      return { ok: false, error: `${file}: the model has no input "${stem}" (name each file after an input: ${modelInputs.map((n) => `${n}.npy`).join(', ')})` };
    }
    inputs.set(file, stem);
  }
  const missing = modelInputs.filter((name) => ![...inputs.values()].includes(name));
  if (missing.length) return { ok: false, error: `no file for model input ${missing.map((n) => `"${n}"`).join(', ')} (add ${missing.map((n) => `${n}.npy`).join(', ')})` };
  return { ok: true, inputs };
}

const BYTES: Record<string, number> = { float32: 4, float64: 8, float16: 2, int8: 1, uint8: 1, int32: 4, int64: 8, bool: 1 };

/**
 * Splits arrays (model input name → array) along their first axis into chunks of `batchSize` rows; every array
 * must have the same number of rows. Each chunk's tensors are base64, the compact encoding.
 * @example
 * chunkArrays({ pixels: { type: 'float32', shape: [600, 64], bytes } }, 20) // 30 chunks of pixels [20, 64]
 */
export function chunkArrays(arrays: Record<string, NpyArray>, batchSize: number): ParsedChunks {
  const names = Object.keys(arrays);
  if (names.length === 0) return { ok: false, error: 'no .npy files' };
  if (!Number.isInteger(batchSize) || batchSize < 1) return { ok: false, error: 'the batch size must be a whole number, at least 1' };
  for (const name of names) {
    if (arrays[name].shape.length === 0) return { ok: false, error: `${name}: a 0-dimensional array cannot be split into chunks; give it a first (batch) axis` };
  }
  const rows = arrays[names[0]].shape[0];
  const uneven = names.find((name) => arrays[name].shape[0] !== rows);
  if (uneven) {
    return { ok: false, error: `the arrays must have the same first dimension to be split together: ${names.map((n) => `${n} has ${arrays[n].shape[0]}`).join(', ')}` };
  }
  if (rows === 0) return { ok: false, error: 'the arrays have no rows (first dimension 0)' };
  const inputs: OnnxChunkInput[] = [];
  for (let start = 0; start < rows; start += batchSize) {
    const count = Math.min(batchSize, rows - start);
    const chunk: Record<string, OnnxTensor> = {};
    for (const name of names) {
      const { type, shape, bytes } = arrays[name];
      const rowBytes = (bytes.length / rows) | 0;
      const dims = [count, ...shape.slice(1)];
      const slice = bytes.subarray(start * rowBytes, (start + count) * rowBytes);
      if (slice.length !== dims.reduce((p, d) => p * d, BYTES[type])) return { ok: false, error: `${name}: its data does not fit its shape` };
      chunk[name] = { type, dims, base64: toBase64(slice) };
    }
    inputs.push(chunk);
  }
  return { ok: true, inputs };
}

/** Standard base64 of `bytes`, in slices so large arrays do not overflow the argument list of fromCharCode. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  return btoa(binary);
}
