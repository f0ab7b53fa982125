// OnnxRuntime under Node (onnxruntime-web's WASM build) against onnxruntime-node (native) on the same models and
// inputs, for every supported element type; plus the failure paths: a model ORT refuses fails the job with ORT's
// words, a damaged download is retried elsewhere, and the Node worker wrapper carries it all across Comlink.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpec, OnnxChunkOutput } from '../../protocol/index.js';
import { RuntimeThread } from '../host/thread.js';
import { FIXTURE_TYPES, mixedInput, typesInput } from './fixtures/samples.js';
import { blobName } from './models.js';
import { nativeSession, runNatively } from './native.js';
import { spawnNodeOnnxWorker } from './node.js';
import { OnnxRuntime, type OnnxChunkRun, type OnnxRuntimeOptions } from './onnx-runtime.js';
import { tensorDifference } from './tensors.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));
const TOLERANCE = { abs: 1e-5, rel: 1e-5 };

function job(model: string, extra: Partial<Extract<JobSpec, { runtime: 'onnx' }>> = {}): JobSpec {
  return { id: `job-${model.slice(7, 15)}`, name: 'onnx test', timeoutMs: 30_000, runtime: 'onnx', model, ...extra };
}

function expectClose(actual: unknown, expected: OnnxChunkOutput) {
  const output = actual as OnnxChunkOutput;
  expect(Object.keys(output).sort()).toEqual(Object.keys(expected).sort());
  for (const name of Object.keys(expected)) {
    expect(tensorDifference(output[name], expected[name], TOLERANCE), `output ${name}`).toBeUndefined();
  }
}

function ok(run: OnnxChunkRun): Extract<OnnxChunkRun, { ok: true }> {
  if (!run.ok) throw new Error(`chunk failed (${run.failure}): ${run.error}`);
  return run;
}

describe('OnnxRuntime (onnxruntime-web WASM in Node)', () => {
  const runtime = new OnnxRuntime();
  beforeAll(() => runtime.initialize({}));
  afterAll(() => runtime.dispose());

  it.each(FIXTURE_TYPES)('matches onnxruntime-node on a %s model', async (type) => {
    const bytes = fixture(`types-${type}.onnx`);
    const model = await blobName(bytes);
    await runtime.addModel(model, bytes);
    const input = typesInput(type);
    const run = ok(await runtime.run(job(model), input));
    const native = await nativeSession(bytes);
    expectClose(run.output, await runNatively(native, input));
    await native.release();
    expect(run.runtimeInfo).toMatchObject({ executionProvider: 'wasm', adapter: 'cpu', threads: '1', ort: '1.30.0' });
  });

  it('feeds several inputs of different types (base64 included) and returns only the outputs asked for', async () => {
    const bytes = fixture('mixed.onnx');
    const model = await blobName(bytes);
    await runtime.addModel(model, bytes);
    const run = ok(await runtime.run(job(model, { outputs: ['label', 'scores'] }), mixedInput()));
    const native = await nativeSession(bytes);
    expectClose(run.output, await runNatively(native, mixedInput(), ['label', 'scores']));
    await native.release();
    expect((run.output as OnnxChunkOutput).label).toEqual({ type: 'int64', dims: [3], data: expect.any(Array) });
  });

  it('fails the job with ONNX Runtime\'s message when ORT refuses the model', async () => {
    const bytes = fixture('unknown-op.onnx');
    const model = await blobName(bytes);
    await runtime.addModel(model, bytes);
    const run = await runtime.run(job(model), { x: { type: 'float32', dims: [1, 3], data: [1, 2, 3] } });
    expect(run).toMatchObject({ ok: false, failure: 'syntax', error: expect.stringMatching(/^ONNX Runtime cannot load the model: .*No Op registered for NoSuchOperator/) });
  });

  it('fails the job when the model is not a model at all', async () => {
    const bytes = fixture('mixed.onnx').slice(0, 200);
    const model = await blobName(bytes);
    await runtime.addModel(model, bytes);
    const run = await runtime.run(job(model), mixedInput());
    expect(run).toMatchObject({ ok: false, failure: 'syntax', error: expect.stringMatching(/protobuf parsing failed/) });
  });

  it('reports an input the model does not have as the chunk\'s error', async () => {
    const bytes = fixture('types-float32.onnx');
    const model = await blobName(bytes);
    await runtime.addModel(model, bytes);
    const run = await runtime.run(job(model), { y: typesInput('float32').x });
    expect(run).toMatchObject({ ok: false, failure: 'exception', error: 'the model has no input "y"; its inputs are x' });
  });

  it('gives a chunk that needs a provider this environment lacks back as a crash (retried elsewhere)', async () => {
    const bytes = fixture('types-float32.onnx');
    const run = await runtime.run(job(await blobName(bytes), { executionProviders: ['webgpu'] }), typesInput('float32'));
    expect(run).toMatchObject({ ok: false, failure: 'crash', error: expect.stringMatching(/asks for webgpu, this browser offers wasm/) });
  });
});

describe('OnnxRuntime model download', () => {
  let server: Server;
  let base: string;
  const served = new Map<string, Uint8Array>();
  let requests = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      const bytes = served.get(decodeURIComponent(req.url!.replace('/api/blobs/', '')));
      if (!bytes) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/blobs/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads a model once, checks its hash and reuses the session across chunks', async () => {
    const runtime = new OnnxRuntime();
    await runtime.initialize({ modelBaseURL: base });
    const bytes = fixture('types-int32.onnx');
    const model = await blobName(bytes);
    served.set(model, bytes);
    requests = 0;
    for (let i = 0; i < 3; i++) ok(await runtime.run(job(model), typesInput('int32')));
    expect(requests).toBe(1);
    runtime.dispose();
  });

  it('refuses a download whose bytes do not hash to the model name (a crash: retried, not a job failure)', async () => {
    const runtime = new OnnxRuntime();
    await runtime.initialize({ modelBaseURL: base });
    const model = await blobName(fixture('types-int8.onnx'));
    served.set(model, fixture('types-uint8.onnx'));
    const run = await runtime.run(job(model), typesInput('int8'));
    expect(run).toMatchObject({ ok: false, failure: 'crash', error: expect.stringMatching(/arrived damaged: its bytes hash to sha256:/) });
    runtime.dispose();
  });
});

describe('OnnxRuntime in a Node worker thread', () => {
  it('runs chunks through RuntimeThread and Comlink, runtimeInfo included', async () => {
    const bytes = fixture('types-float64.onnx');
    const model = await blobName(bytes);
    const server = createServer((_, res) => res.writeHead(200).end(bytes));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const thread = new RuntimeThread(spawnNodeOnnxWorker, { watchdog: false });
    try {
      const options: OnnxRuntimeOptions = { modelBaseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
      await thread.start(options);
      const run = (await thread.run(job(model), typesInput('float64'))) as OnnxChunkRun;
      const native = await nativeSession(bytes);
      expectClose(ok(run).output, await runNatively(native, typesInput('float64')));
      await native.release();
      expect(run.runtimeInfo?.executionProvider).toBe('wasm');
    } finally {
      thread.dispose();
      server.close();
    }
  });
});

describe('OnnxRuntime on onnxruntime-node (the headless runner)', () => {
  const runtime = new OnnxRuntime();
  const web = new OnnxRuntime();
  beforeAll(() => Promise.all([runtime.initialize({ ortBackend: 'node' }), web.initialize({})]));
  afterAll(() => {
    runtime.dispose();
    web.dispose();
  });

  it('offers the CPU class only, and names onnxruntime-node in runtimeInfo', () => {
    expect(runtime.describe()).toMatchObject({ providers: ['wasm'], ort: 'node 1.30.0' });
  });

  it.each(FIXTURE_TYPES)('agrees with the tab (onnxruntime-web WASM) within tolerance on a %s model', async (type) => {
    const bytes = fixture(`types-${type}.onnx`);
    const model = await blobName(bytes);
    await runtime.addModel(model, bytes);
    await web.addModel(model, bytes);
    const input = typesInput(type);
    const run = ok(await runtime.run(job(model), input));
    expectClose(run.output, ok(await web.run(job(model), input)).output as OnnxChunkOutput);
    expect(run.runtimeInfo).toMatchObject({ executionProvider: 'cpu', adapter: 'cpu', ort: 'node 1.30.0' });
  });

  it('falls back to the CPU when CUDA is asked for but this build or machine has none', async () => {
    const cuda = new OnnxRuntime();
    await cuda.initialize({ ortBackend: 'node', cuda: true });
    const bytes = fixture('types-float32.onnx');
    const model = await blobName(bytes);
    await cuda.addModel(model, bytes);
    const run = ok(await cuda.run(job(model), typesInput('float32')));
    expect(['cpu', 'cuda']).toContain(run.runtimeInfo?.executionProvider);
    cuda.dispose();
  });

  it('refuses a WebGPU-only job with a clear error rather than computing it on the CPU', async () => {
    const bytes = fixture('types-float32.onnx');
    const model = await blobName(bytes);
    await runtime.addModel(model, bytes);
    const run = await runtime.run(job(model, { executionProviders: ['webgpu'] }), typesInput('float32'));
    expect(run).toMatchObject({ ok: false, failure: 'crash' });
  });
});
