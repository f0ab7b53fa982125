// The protobuf reader must see every model the way ONNX Runtime does (same inputs, types and dims), and must refuse
// bytes that are not a model with a message instead of crashing or hanging.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bytesSource, ModelFormatError, readModelInfo } from './model-proto.js';

const FIXTURES = fileURLToPath(new URL('../../../wasm-runtimes/onnx/fixtures/', import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

describe('readModelInfo', () => {
  const loadable = readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx') && !['unknown-op.onnx', 'external-data.onnx'].includes(f));

  it.each(loadable)('reads %s as onnxruntime-node does', async (file) => {
    const info = readModelInfo(bytesSource(fixture(file)));
    const session = await ort.InferenceSession.create(fixture(file), { logSeverityLevel: 3 });
    try {
      const asOrt = (values: typeof info.inputs) => values.map((v) => ({ name: v.name, type: v.type, shape: v.dims }));
      const fromOrt = (metadata: readonly unknown[]) =>
        metadata.map((m) => {
          const { name, type, shape } = m as { name: string; type: string; shape: (number | string)[] };
          return { name, type, shape };
        });
      expect(asOrt(info.inputs)).toEqual(fromOrt(session.inputMetadata));
      expect(asOrt(info.outputs)).toEqual(fromOrt(session.outputMetadata));
    } finally {
      await session.release();
    }
  });

  it('leaves initializers listed among graph inputs out of the inputs, as ONNX Runtime does', () => {
    const info = readModelInfo(bytesSource(fixture('mixed.onnx')));
    expect(info.inputs.map((i) => i.name)).toEqual(['pixels', 'offsets', 'gate']);
    expect(info.inputs[0]).toEqual({ name: 'pixels', elemType: 1, type: 'float32', dims: ['batch', 4] });
    expect(info.opsets).toEqual([{ domain: '', version: 17 }]);
  });

  it('notices weights stored in external data files', () => {
    expect(readModelInfo(bytesSource(fixture('external-data.onnx'))).externalData).toEqual(['w', 'b']);
  });

  it('refuses empty, random, truncated and non-ONNX protobuf bytes with a message', () => {
    const model = fixture('types-float32.onnx');
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251);
    const cases = [new Uint8Array(0), random, model.subarray(0, model.length - 20), model.subarray(0, 40), new TextEncoder().encode('{"model": 1}')];
    for (const bytes of cases) {
      expect(() => readModelInfo(bytesSource(bytes))).toThrow(ModelFormatError);
    }
  });

  it('reads only the start of a large model: weights are skipped, not read', () => {
    // A model followed by an unknown 8 MB field: the reader must jump over it with one length read.
    const model = fixture('types-float32.onnx');
    const padding = new Uint8Array(8 * 1024 * 1024 + 6);
    padding.set([0xfa, 0x01, 0x80, 0x80, 0x80, 0x04]); // field 31, wire 2, length 8 MiB
    const bytes = new Uint8Array(model.length + padding.length);
    bytes.set(model);
    bytes.set(padding, model.length);
    let read = 0;
    const info = readModelInfo({ size: bytes.length, read: (p, l) => ((read += Math.min(l, bytes.length - p)), bytes.subarray(p, p + l)) });
    expect(info.inputs.map((i) => i.name)).toEqual(['x']);
    expect(read).toBeLessThan(256 * 1024);
  });
});
