// The ONNX examples, run with onnxruntime-node, pass their checks; the coordinator accepts their jobs; and each check
// rejects results that are wrong the way a broken or dishonest contributor would make them wrong.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChunkResult, OnnxChunkInput, OnnxChunkOutput } from '../../protocol/index.js';
import { createApp } from '../../coordinator/src/app.js';
import { MemoryStore } from '../../coordinator/src/store/memory.js';
import { nativeSession, runNatively } from '../../wasm-runtimes/onnx/native.js';
import { loadOnnxExamples, type OnnxExample } from './onnx-examples.js';

const examples = loadOnnxExamples();

async function runExample(example: OnnxExample): Promise<ChunkResult[]> {
  const session = await nativeSession(example.model);
  try {
    const results: ChunkResult[] = [];
    for (const [index, input] of example.job.inputs.entries()) {
      results.push({ index, status: 'ok', output: await runNatively(session, input as OnnxChunkInput, example.job.outputs) });
    }
    return results;
  } finally {
    await session.release();
  }
}

const out = (results: ChunkResult[], index: number) => results[index].output as OnnxChunkOutput;
type Corruption = [string, (results: ChunkResult[]) => void];
const corruptions: Record<OnnxExample['slug'], Corruption[]> = {
  'onnx-digits': [
    ['a label that is not a near tie', (r) => ((out(r, 3).label.data as number[])[5] = ((out(r, 3).label.data as number[])[5] + 1) % 10)],
    ['probabilities off by 1e-3', (r) => ((out(r, 7).probabilities.data as number[])[12] += 1e-3)],
    ['two chunks swapped', (r) => ([r[1].output, r[2].output] = [r[2].output, r[1].output])],
  ],
  'onnx-digits-batch': [
    ['every label of a chunk shifted by one', (r) => (out(r, 2).label.data = (out(r, 2).label.data as number[]).map((d) => (d + 1) % 10))],
    ['a chunk cut short', (r) => Object.assign(out(r, 0).label, { dims: [10], data: (out(r, 0).label.data as number[]).slice(0, 10) })],
  ],
};

describe.each(examples)('ONNX example $slug', (example) => {
  let results: ChunkResult[];
  beforeAll(async () => {
    results = await runExample(example);
  }, 60_000);

  it('passes its check when run with onnxruntime-node', () => {
    expect(() => example.check(results)).not.toThrow();
  });

  it('is accepted by the coordinator once its model is uploaded', async () => {
    const { app } = createApp({ store: new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 1_000 }) });
    expect((await app.request(`/api/blobs/${example.job.model}`, { method: 'PUT', body: example.model })).status).toBe(201);
    const res = await app.request('/api/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(example.job) });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({ total: example.job.inputs.length, runtime: 'onnx' });
  });

  const cases: Corruption[] = [
    ...corruptions[example.slug],
    ['a missing chunk', (r) => r.pop()],
    ['a failed chunk', (r) => Object.assign(r[0], { status: 'error', error: 'ONNX Runtime failed', output: undefined })],
  ];
  it.each(cases)('rejects results with %s', (_, corrupt) => {
    const copy = structuredClone(results);
    corrupt(copy);
    expect(() => example.check(copy)).toThrow();
  });
});
