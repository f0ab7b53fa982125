// onnxruntime-node (native, CPU) on wire tensors: the reference the tests and the benchmark hold every in-tab
// execution provider to. Node only.
import { createRequire } from 'node:module';
import type { OnnxChunkInput, OnnxChunkOutput, TensorType } from '../../protocol/index.js';
import { decodeTensor, encodeTensor, type TensorArray } from './tensors.js';

type OrtNode = typeof import('onnxruntime-node');
let ort: OrtNode | undefined;

/** onnxruntime-node, loaded on first use (it is a 45 MB native library). */
export function nativeOrt(): OrtNode {
  ort ??= createRequire(import.meta.url)('onnxruntime-node') as OrtNode;
  return ort;
}

/** A native session; `logSeverityLevel: 3` keeps ORT's warnings about benign model quirks out of test output. */
export function nativeSession(model: Uint8Array, threads = 1) {
  return nativeOrt().InferenceSession.create(model, { logSeverityLevel: 3, intraOpNumThreads: threads, interOpNumThreads: 1 });
}

/** Runs one chunk natively: the output the in-tab runtime should produce, within tolerance. */
export async function runNatively(
  session: Awaited<ReturnType<typeof nativeSession>>,
  input: OnnxChunkInput,
  outputs?: string[],
): Promise<OnnxChunkOutput> {
  const { Tensor } = nativeOrt();
  const feeds: Record<string, InstanceType<OrtNode['Tensor']>> = {};
  for (const [name, wire] of Object.entries(input)) {
    const decoded = decodeTensor(wire);
    feeds[name] = new Tensor(decoded.type, decoded.data as never, decoded.dims);
  }
  const results = await session.run(feeds, outputs ?? [...session.outputNames]);
  const encoded: OnnxChunkOutput = {};
  for (const [name, tensor] of Object.entries(results)) {
    encoded[name] = encodeTensor({ type: tensor.type as TensorType, dims: [...tensor.dims], data: tensor.data as TensorArray });
  }
  return encoded;
}
