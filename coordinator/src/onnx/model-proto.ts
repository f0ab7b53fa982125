// Reads what a submission check needs from an ONNX model (a protobuf ModelProto): the graph's inputs and outputs
// with element types and dims, and whether weights live in external files. It walks the protobuf without decoding
// the rest: nodes and weights are skipped by length, so a 1 GB model costs a few reads, never 1 GB of memory.
// Pure (no Node APIs): the bytes come through `ByteSource`, so the submit page can reuse it on a dropped file.
//
// Field numbers are from onnx/onnx.proto3: ModelProto.graph = 7; GraphProto.initializer = 5, input = 11,
// output = 12, sparse_initializer = 15; ValueInfoProto.name = 1, type = 2; TypeProto.tensor_type = 1;
// TypeProto.Tensor.elem_type = 1, shape = 2; TensorShapeProto.dim = 1; Dimension.dim_value = 1, dim_param = 2;
// TensorProto.name = 8, data_location = 14 (1 = EXTERNAL); SparseTensorProto.values = 1.

/** Random access to the model's bytes; reads may return fewer bytes only at the end. */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Uint8Array;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, position + length) };
}

/** A dim: a number when fixed, the parameter's name when symbolic (e.g. "batch"), null when unknown. */
export type ModelDim = number | string | null;

export interface ModelValue {
  name: string;
  /** ONNX TensorProto.DataType number; `type` is its onnxruntime-web name. Non-tensor values have elemType 0. */
  elemType: number;
  type: string;
  /** Undefined when the model declares no shape (any rank). */
  dims?: ModelDim[];
}

export interface ModelInfo {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  /** Inputs a caller must or may feed: graph inputs that are not initializers (ONNX Runtime's `inputNames`). */
  inputs: ModelValue[];
  outputs: ModelValue[];
  /** Names of initializers whose data lives in files outside the model (unusable from one blob). */
  externalData: string[];
}

export class ModelFormatError extends Error {}

/** ONNX TensorProto.DataType → onnxruntime-web type name. */
export const ONNX_ELEMENT_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
  17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** A cursor over [position, end) of a ByteSource, reading through a small window. */
class Cursor {
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;

  constructor(
    private readonly source: ByteSource,
    public position: number,
    readonly end: number,
  ) {}

  get done(): boolean {
    return this.position >= this.end;
  }

  private byte(): number {
    if (this.position >= this.end) throw new ModelFormatError(`truncated at byte ${this.position}`);
    const offset = this.position - this.windowStart;
    if (offset < 0 || offset >= this.window.length) {
      this.windowStart = this.position;
      this.window = this.source.read(this.position, Math.min(64 * 1024, this.end - this.position));
      if (this.window.length === 0) throw new ModelFormatError(`truncated at byte ${this.position}`);
    }
    this.position++;
    return this.window[this.position - 1 - this.windowStart];
  }

  /** A varint as a number; values beyond 2^53 (never meaningful here) lose precision, which is harmless. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new ModelFormatError(`malformed varint at byte ${this.position}`);
  }

  /** A signed int64 varint (two's complement over 64 bits) as a number. */
  int64(): number {
    const value = this.varint();
    return value >= 2 ** 63 ? value - 2 ** 64 : value;
  }

  tag(): { field: number; wire: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw new ModelFormatError(`invalid field number 0 at byte ${this.position}`);
    return { field, wire: key % 8 };
  }

  /** The body of a length-delimited field as a sub-cursor; this cursor moves past it. */
  sub(): Cursor {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.end) throw new ModelFormatError(`a field of ${length} bytes at byte ${start} runs past its end (${this.end})`);
    this.position = start + length;
    return new Cursor(this.source, start, start + length);
  }

  string(): string {
    const body = this.sub();
    return new TextDecoder('utf-8', { fatal: false }).decode(this.source.read(body.position, body.end - body.position));
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.jump(8);
        return;
      case WIRE_LEN:
        this.sub();
        return;
      case WIRE_I32:
        this.jump(4);
        return;
      default:
        throw new ModelFormatError(`unsupported protobuf wire type ${wire} at byte ${this.position}`);
    }
  }

  private jump(bytes: number): void {
    if (this.position + bytes > this.end) throw new ModelFormatError(`truncated at byte ${this.position}`);
    this.position += bytes;
  }
}

function expectWire(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new ModelFormatError(`${what} has protobuf wire type ${actual}, expected ${expected}`);
}

/**
 * Reads a model's interface. Throws ModelFormatError when the bytes are not an ONNX model (not protobuf, truncated,
 * or no graph).
 *
 * @example
 * readModelInfo(bytesSource(bytes)).inputs // [{ name: 'pixels', type: 'float32', elemType: 1, dims: ['batch', 64] }]
 */
export function readModelInfo(source: ByteSource): ModelInfo {
  if (source.size === 0) throw new ModelFormatError('the model is empty');
  const model = new Cursor(source, 0, source.size);
  let irVersion = 0;
  const opsets: ModelInfo['opsets'] = [];
  let graph: Cursor | undefined;
  while (!model.done) {
    const { field, wire } = model.tag();
    if (field === 1 && wire === WIRE_VARINT) irVersion = model.varint();
    else if (field === 7) {
      expectWire(wire, WIRE_LEN, 'ModelProto.graph');
      graph = model.sub();
    } else if (field === 8 && wire === WIRE_LEN) opsets.push(readOpset(model.sub()));
    else model.skip(wire);
  }
  if (!graph) throw new ModelFormatError('no graph: this is not an ONNX model');
  if (irVersion === 0) throw new ModelFormatError('no ir_version: this is not an ONNX model');

  const declared: ModelValue[] = [];
  const outputs: ModelValue[] = [];
  const initializers = new Set<string>();
  const externalData: string[] = [];
  while (!graph.done) {
    const { field, wire } = graph.tag();
    if (field === 11 || field === 12) {
      expectWire(wire, WIRE_LEN, field === 11 ? 'GraphProto.input' : 'GraphProto.output');
      (field === 11 ? declared : outputs).push(readValueInfo(graph.sub()));
    } else if (field === 5) {
      expectWire(wire, WIRE_LEN, 'GraphProto.initializer');
      const tensor = readTensorHeader(graph.sub());
      initializers.add(tensor.name);
      if (tensor.external) externalData.push(tensor.name);
    } else if (field === 15) {
      expectWire(wire, WIRE_LEN, 'GraphProto.sparse_initializer');
      const sparse = graph.sub();
      while (!sparse.done) {
        const inner = sparse.tag();
        if (inner.field === 1 && inner.wire === WIRE_LEN) initializers.add(readTensorHeader(sparse.sub()).name);
        else sparse.skip(inner.wire);
      }
    } else graph.skip(wire);
  }
  return { irVersion, opsets, inputs: declared.filter((value) => !initializers.has(value.name)), outputs, externalData };
}

function readOpset(cursor: Cursor): { domain: string; version: number } {
  let domain = '';
  let version = 0;
  while (!cursor.done) {
    const { field, wire } = cursor.tag();
    if (field === 1 && wire === WIRE_LEN) domain = cursor.string();
    else if (field === 2 && wire === WIRE_VARINT) version = cursor.int64();
    else cursor.skip(wire);
  }
  return { domain, version };
}

function readValueInfo(cursor: Cursor): ModelValue {
  let name = '';
  let elemType = 0;
  let dims: ModelDim[] | undefined;
  while (!cursor.done) {
    const { field, wire } = cursor.tag();
    if (field === 1 && wire === WIRE_LEN) name = cursor.string();
    else if (field === 2 && wire === WIRE_LEN) {
      const type = cursor.sub();
      while (!type.done) {
        const t = type.tag();
        if (t.field === 1 && t.wire === WIRE_LEN) ({ elemType, dims } = readTensorType(type.sub()));
        else type.skip(t.wire);
      }
    } else cursor.skip(wire);
  }
  return { name, elemType, type: ONNX_ELEMENT_TYPES[elemType] ?? (elemType === 0 ? 'non-tensor' : `type ${elemType}`), dims };
}

function readTensorType(cursor: Cursor): { elemType: number; dims?: ModelDim[] } {
  let elemType = 0;
  let dims: ModelDim[] | undefined;
  while (!cursor.done) {
    const { field, wire } = cursor.tag();
    if (field === 1 && wire === WIRE_VARINT) elemType = cursor.varint();
    else if (field === 2 && wire === WIRE_LEN) {
      dims = [];
      const shape = cursor.sub();
      while (!shape.done) {
        const s = shape.tag();
        if (s.field === 1 && s.wire === WIRE_LEN) dims.push(readDim(shape.sub()));
        else shape.skip(s.wire);
      }
    } else cursor.skip(wire);
  }
  return { elemType, dims };
}

function readDim(cursor: Cursor): ModelDim {
  let dim: ModelDim = null;
  while (!cursor.done) {
    const { field, wire } = cursor.tag();
    if (field === 1 && wire === WIRE_VARINT) dim = cursor.int64();
    else if (field === 2 && wire === WIRE_LEN) dim = cursor.string() || null;
    else cursor.skip(wire);
  }
  // Exporters write -1 or 0 for "unknown" in some versions; treat every non-positive size as unknown.
  return typeof dim === 'number' && dim <= 0 ? null : dim;
}

/** An initializer's name and whether its data is external; its (possibly huge) data is skipped, not read. */
function readTensorHeader(cursor: Cursor): { name: string; external: boolean } {
  let name = '';
  let external = false;
  while (!cursor.done) {
    const { field, wire } = cursor.tag();
    if (field === 8 && wire === WIRE_LEN) name = cursor.string();
    else if (field === 14 && wire === WIRE_VARINT) external = cursor.varint() === 1;
    else cursor.skip(wire);
  }
  return { name, external };
}
