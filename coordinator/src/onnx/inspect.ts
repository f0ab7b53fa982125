// What the coordinator knows about an ONNX model blob: its interface (model-proto.ts), read from disk once per hash.
// A blob's name is the hash of its bytes, so an inspection (or its failure) never goes stale; only whether the
// blob exists in this coordinator's store is asked each time.
import { closeSync, openSync, readSync } from 'node:fs';
import type { BlobStore } from '../blobs/blob-store.js';
import { ModelFormatError, readModelInfo, type ByteSource, type ModelInfo } from './model-proto.js';

export type Inspection = { ok: true; info: ModelInfo } | { ok: false; reason: 'missing' | 'corrupt'; message: string };

const CACHED = 256;
const inspections = new Map<string, { ok: true; info: ModelInfo } | { ok: false; reason: 'corrupt'; message: string }>();

/**
 * @example
 * const inspection = await inspectModel(blobs, 'sha256:…');
 * if (inspection.ok) inspection.info.inputs; // [{ name: 'pixels', type: 'float32', dims: ['batch', 64], ... }]
 */
export async function inspectModel(blobs: BlobStore, name: string): Promise<Inspection> {
  const blob = await blobs.stat(name);
  if (!blob) return { ok: false, reason: 'missing', message: `no blob ${name}: upload the model first (PUT /api/blobs/${name})` };
  let inspection = inspections.get(name);
  if (inspection) {
    inspections.delete(name); // most recently used last
  } else {
    inspection = readFromDisk(blobs.path(name), blob.size);
  }
  inspections.set(name, inspection);
  if (inspections.size > CACHED) inspections.delete(inspections.keys().next().value!);
  return inspection;
}

function readFromDisk(path: string, size: number): { ok: true; info: ModelInfo } | { ok: false; reason: 'corrupt'; message: string } {
  const fd = openSync(path, 'r');
  try {
    const source: ByteSource = {
      size,
      read(position, length) {
        const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - position)));
        const read = readSync(fd, buffer, 0, buffer.length, position);
        return buffer.subarray(0, read);
      },
    };
    return { ok: true, info: readModelInfo(source) };
  } catch (err) {
    if (err instanceof ModelFormatError) return { ok: false, reason: 'corrupt', message: err.message };
    throw err;
  } finally {
    closeSync(fd);
  }
}
