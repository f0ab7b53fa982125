// ONNX submission checks through the HTTP API: chunks that cannot feed the model, unknown and corrupt models and
// malformed tensors are refused with a 400 that names the chunk, the input and the mismatch.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { MemoryStore } from '../store/memory.js';

const FIXTURES = fileURLToPath(new URL('../../../wasm-runtimes/onnx/fixtures/', import.meta.url));
const nameOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function setup() {
  const store = new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 1_000 });
  const { app } = createApp({ store });
  const upload = async (bytes: Uint8Array) => {
    const name = nameOf(bytes);
    const res = await app.request(`/api/blobs/${name}`, { method: 'PUT', body: bytes });
    expect(res.status).toBeLessThan(300);
    return name;
  };
  const submit = async (body: object) => {
    const res = await app.request('/api/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime: 'onnx', ...body }) });
    return { status: res.status, json: (await res.json()) as any };
  };
  return { upload, submit };
}

const fixture = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));
/** A chunk that fits mixed.onnx: pixels float32 [batch, 4], offsets int64 [batch], gate bool [1]. */
const good = (batch = 2) => ({
  pixels: { type: 'float32', dims: [batch, 4], data: Array.from({ length: batch * 4 }, (_, i) => i / 2) },
  offsets: { type: 'int64', dims: [batch], data: Array.from({ length: batch }, (_, i) => i) },
  gate: { type: 'bool', dims: [1], data: [true] },
});

describe('POST /api/jobs with runtime onnx', () => {
  it('accepts chunks that fit the model, with tolerance validation by default', async () => {
    const { upload, submit } = setup();
    const model = await upload(fixture('mixed.onnx'));
    const base64 = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer).toString('base64');
    const res = await submit({ model, inputs: [good(2), good(5), { ...good(1), pixels: { type: 'float32', dims: [1, 4], base64 } }], outputs: ['label'] });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({ runtime: 'onnx', total: 3, verification: { validation: { kind: 'tolerance', abs: 1e-4, rel: 1e-3 } } });
  });

  it('hands the model, outputs and providers to contributors that lease the chunks', async () => {
    const store = new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 1_000 });
    const { app } = createApp({ store });
    const bytes = fixture('mixed.onnx');
    const model = nameOf(bytes);
    await app.request(`/api/blobs/${model}`, { method: 'PUT', body: bytes });
    const post = (path: string, body: object, headers: Record<string, string> = {}) =>
      app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const job: any = await (await post('/api/jobs', { runtime: 'onnx', model, inputs: [good()], outputs: ['label'], executionProviders: ['wasm'] })).json();
    const { contributorId, token }: any = await (await post('/api/contributors', {})).json();
    const auth = { Authorization: `Bearer ${token}` };
    expect(((await (await post(`/api/contributors/${contributorId}/leases`, { max: 1, runtimes: ['python'] }, auth)).json()) as any).leases).toEqual([]);
    const batch: any = await (await post(`/api/contributors/${contributorId}/leases`, { max: 1, runtimes: ['onnx'] }, auth)).json();
    expect(batch.leases[0].input).toEqual(good());
    expect(batch.jobs[job.id]).toMatchObject({ runtime: 'onnx', model, outputs: ['label'], executionProviders: ['wasm'] });
  });

  it.each([
    ['a wrong input name', { pixel: good().pixels }, /chunk 1: "pixel" is not an input of the model \(its inputs: "pixels", "offsets", "gate"\)/],
    ['a missing input', { offsets: undefined }, /chunk 1: missing input "offsets" \(int64 \[batch\]\)/],
    ['a wrong element type', { pixels: { type: 'int32', dims: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] } }, /chunk 1, input "pixels": type int32 does not match the model's float32/],
    ['a wrong static dim', { pixels: { type: 'float32', dims: [2, 3], data: [1, 2, 3, 4, 5, 6] } }, /chunk 1, input "pixels": dims \[2, 3\] do not fit the model's \[batch, 4\] \(dimension 1 must be 4\)/],
    ['a wrong rank', { pixels: { type: 'float32', dims: [8], data: [1, 2, 3, 4, 5, 6, 7, 8] } }, /chunk 1, input "pixels": dims \[8\] do not fit the model's \[batch, 4\] \(the model needs rank 2, not 1\)/],
    ['a batch size that differs between inputs', { offsets: { type: 'int64', dims: [3], data: [1, 2, 3] } }, /chunk 1, input "offsets": dims \[3\] do not fit the model's \[batch\] \(dimension 0 is "batch", which is 2 in input "pixels"\)/],
    ['an initializer fed as an input', { scale: { type: 'float32', dims: [1], data: [3] } }, /chunk 1: "scale" is not an input of the model/],
  ])('rejects %s, naming the chunk, the input and the mismatch', async (_, change, message) => {
    const { upload, submit } = setup();
    const model = await upload(fixture('mixed.onnx'));
    const res = await submit({ model, inputs: [good(), { ...good(), ...change }] });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_REQUEST');
    expect(res.json.error.message).toMatch(message);
  });

  it('rejects an unknown model hash with a 400 that says to upload it', async () => {
    const { submit } = setup();
    const res = await submit({ model: `sha256:${'ab'.repeat(32)}`, inputs: [good()] });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/model: no blob sha256:(ab){32}: upload the model first \(PUT \/api\/blobs\/sha256:/);
  });

  it('rejects a corrupt model with the reason it cannot be read', async () => {
    const { upload, submit } = setup();
    const bytes = fixture('mixed.onnx');
    const model = await upload(bytes.subarray(0, bytes.length - 30));
    const res = await submit({ model, inputs: [good()] });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/^the request is invalid: model: sha256:[0-9a-f]{64} is not a readable ONNX model \(.+\)$/);
  });

  it('rejects models whose weights live in external files', async () => {
    const { upload, submit } = setup();
    const model = await upload(fixture('external-data.onnx'));
    const res = await submit({ model, inputs: [{ x: { type: 'float32', dims: [1, 3], data: [1, 2, 3] } }] });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/external data files/);
  });

  it('rejects outputs the model does not have', async () => {
    const { upload, submit } = setup();
    const model = await upload(fixture('mixed.onnx'));
    const res = await submit({ model, inputs: [good()], outputs: ['label', 'logits'] });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/outputs: the model has no output "logits" \(its outputs: "scores", "label", "gate_off"\)/);
  });

  it.each([
    ['data of the wrong length', { type: 'float32', dims: [2, 4], data: [1, 2, 3] }, /inputs\.0\.pixels\.data: has 3 elements, but dims \[2, 4\] need 8/],
    ['base64 of the wrong length', { type: 'float32', dims: [2, 4], base64: 'AAAAAA==' }, /inputs\.0\.pixels\.base64: holds 4 bytes, but 8 float32 elements need 32/],
    ['both data and base64', { type: 'float32', dims: [1], data: [1], base64: 'AAAAAA==' }, /inputs\.0\.pixels: needs exactly one of "data" or "base64"/],
    ['an element of the wrong kind', { type: 'float32', dims: [2], data: [1, 'one'] }, /inputs\.0\.pixels\.data\.1: "one" is not a valid float32/],
    ['an unknown element type', { type: 'complex64', dims: [1], data: [1] }, /inputs\.0\.pixels\.type/],
  ])('rejects a tensor with %s before looking at the model', async (_, pixels, message) => {
    const { upload, submit } = setup();
    const model = await upload(fixture('mixed.onnx'));
    const res = await submit({ model, inputs: [{ ...good(), pixels }] });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(message);
  });
});
