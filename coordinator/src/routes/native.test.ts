// API tests for the runner's side of the protocol: native jobs, `requires` validated at submission, lease calls that
// advertise capabilities, and checkpoints (PUT /api/contributors/:id/leases/:leaseId/checkpoint). app.request() only.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChunkResult, ContributorCapabilities, LeaseResponse, RegisterResponse } from '../../../protocol/index.js';
import { createApp } from '../app.js';
import { MemoryStore } from '../store/memory.js';

const RUNNER: ContributorCapabilities = { runtimes: ['python', 'onnx', 'native'], host: 'runner', cpuCores: 4, memoryMb: 8_000 };
const NATIVE = { runtime: 'native', command: ['python3', 'main.py'], source: 'import json\nprint(json.load(open("input.json")))\n' };

function setup() {
  let now = Date.UTC(2026, 5, 1);
  const clock = { now: () => now };
  const store = new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 1_000 });
  const { app } = createApp({ store, clock });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const register = async () => {
    const r = (await call('POST', '/api/contributors', { agent: 'vitest' })).json as RegisterResponse;
    const auth = { Authorization: `Bearer ${r.token}` };
    return {
      ...r,
      auth,
      lease: async (body: object) => (await call('POST', `/api/contributors/${r.contributorId}/leases`, { max: 4, ...body }, auth)).json as LeaseResponse,
      report: (results: unknown[]) => call('POST', `/api/contributors/${r.contributorId}/results`, { results }, auth),
      checkpoint: (leaseId: string, body: object) => call('PUT', `/api/contributors/${r.contributorId}/leases/${leaseId}/checkpoint`, body, auth),
      release: (leaseId: string, leaseToken: string) => call('POST', `/api/contributors/${r.contributorId}/leases/${leaseId}/release`, { leaseToken }, auth),
    };
  };
  const putBlob = async (text: string) => {
    const bytes = new TextEncoder().encode(text);
    const name = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const res = await app.request(`/api/blobs/${name}`, { method: 'PUT', body: bytes });
    expect(res.status).toBeLessThan(300);
    return { name, size: bytes.length };
  };
  return { call, register, putBlob, advance: (ms: number) => (now += ms) };
}

describe('native jobs over the API', () => {
  it('run end to end: submit, lease by a runner offering native, report, results; a tab is never offered them', async () => {
    const { call, register } = setup();
    const created = await call('POST', '/api/jobs', { ...NATIVE, files: { 'lib/util.py': 'X = 1\n' }, inputs: [{ n: 1 }, { n: 2 }] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ runtime: 'native', status: 'queued', total: 2, verification: { validation: { kind: 'exact' } } });
    expect(created.json).not.toHaveProperty('requires');

    const tab = await register();
    expect((await tab.lease({})).leases).toEqual([]);
    expect((await tab.lease({ runtimes: ['python', 'onnx'] })).leases).toEqual([]);
    // `runtimes` alone names what a tab runs; native jobs still need the runner's capabilities to say so.
    expect((await tab.lease({ capabilities: { runtimes: ['python', 'onnx'], webgpu: true, host: 'tab' } })).leases).toEqual([]);

    const runner = await register();
    const batch = await runner.lease({ capabilities: { runtimes: ['native'] } });
    expect(batch.leases.map((l) => l.chunkIndex)).toEqual([0, 1]);
    expect(batch.jobs[created.json.id]).toEqual({
      id: created.json.id,
      name: created.json.name,
      timeoutMs: 60_000,
      runtime: 'native',
      command: ['python3', 'main.py'],
      source: NATIVE.source,
      files: { 'lib/util.py': 'X = 1\n' },
    });
    const outcome = await runner.report(
      batch.leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok', output: l.input, stdout: 'done\n', durationMs: 5 })),
    );
    expect(outcome.json.results.map((r: { outcome: string }) => r.outcome)).toEqual(['accepted', 'accepted']);
    expect((await call('GET', `/api/jobs/${created.json.id}`)).json).toMatchObject({ status: 'completed', completed: 2 });
    const results = (await call('GET', `/api/jobs/${created.json.id}/results`)).text.trim().split('\n').map((l) => JSON.parse(l) as ChunkResult);
    expect(results.map((r) => [r.index, r.status, r.output, r.stdout])).toEqual([
      [0, 'ok', { n: 1 }, 'done\n'],
      [1, 'ok', { n: 2 }, 'done\n'],
    ]);
    expect((await call('GET', `/api/jobs/${created.json.id}/source`)).json).toMatchObject({ runtime: 'native', command: ['python3', 'main.py'] });
  });

  it('refuses malformed native jobs with 400 naming the field', async () => {
    const { call } = setup();
    const refused = async (body: object) => {
      const res = await call('POST', '/api/jobs', { ...NATIVE, inputs: [1], ...body });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('INVALID_REQUEST');
      return res.json.error.message as string;
    };
    expect(await refused({ command: [] })).toContain('command: needs at least the program to run');
    expect(await refused({ command: [''] })).toContain('command.0: must not be empty');
    expect(await refused({ command: Array(257).fill('x') })).toContain('command: at most 256 arguments');
    expect(await refused({ command: ['x'.repeat(4097)] })).toContain('command.0: must be at most 4096 characters');
    expect(await refused({ command: 'python3 main.py' })).toMatch(/command: .*array/);
    expect(await refused({ source: '' })).toContain('source: must not be empty');
    expect(await refused({ files: { '../escape.py': 'x' } })).toContain('files.../escape.py: file name must not contain ..');
    expect(await refused({ files: { '/etc/passwd': 'x' } })).toContain('must be relative');
    expect(await refused({ files: { 'input.json': '{}' } })).toContain('files.input.json: is written by the runner itself');
    expect(await refused({ files: { 'main.py': 'x' } })).toContain('files.main.py: is written by the runner itself');
    expect(await refused({ files: { 'out/x': 'x' } })).toContain('files.out/x: must not be under out/');
    expect(await refused({ files: { 'checkpoint/state': 'x' } })).toContain('must not be under checkpoint/');
    expect(await refused({ files: { 'a//b': 'x' } })).toContain('empty or . segment');
    expect(await refused({ files: { big: 'x'.repeat(10 * 1024 * 1024 + 1) } })).toContain('more than 10485760');
    expect(await refused({ image: '--privileged' })).toContain('image: must be a container image reference');
    expect(await refused({ image: 'busy box' })).toContain('image: must be a container image reference');
    expect(await refused({ entry: 'main' })).toContain('unknown field "entry"');
  });

  it('validates requires at submission: webgpu only for onnx, gpuMemoryMb needs a GPU, an image a container engine', async () => {
    const { call } = setup();
    const message = async (body: object) => {
      const res = await call('POST', '/api/jobs', { ...NATIVE, inputs: [1], ...body });
      expect(res.status).toBe(400);
      return res.json.error.message as string;
    };
    expect(await message({ requires: { webgpu: true } })).toContain('requires.webgpu: is for onnx jobs only');
    expect(await message({ requires: { gpu: false, gpuMemoryMb: 8000 } })).toContain('requires.gpuMemoryMb: needs a GPU');
    expect(await message({ image: 'localhost/busybox:latest', requires: { containerEngine: false } })).toContain('requires.containerEngine:');
    expect(await message({ requires: { containerEngine: true } })).toContain('requires.containerEngine: only a native job with an image');
    expect(await message({ requires: { runtime: 'python' } })).toContain("requires.runtime: must be the job's own runtime (native)");
    expect(await message({ requires: { memoryMb: 0 } })).toContain('requires.memoryMb');
    expect(await message({ requires: { cpuCores: 1.5 } })).toContain('requires.cpuCores');
    expect(await message({ requires: { gpus: 1 } })).toContain('requires: unknown field "gpus"');

    const ok = await call('POST', '/api/jobs', { ...NATIVE, image: 'localhost/busybox:latest', inputs: [1], requires: { runtime: 'native', gpuMemoryMb: 8000 } });
    expect(ok.status).toBe(201);
    expect(ok.json.requires).toEqual({ gpu: true, gpuMemoryMb: 8000, containerEngine: true });
  });

  it('leases a job with requires only to a lease call whose capabilities meet them; lease capabilities are validated', async () => {
    const { call, register } = setup();
    const job = (await call('POST', '/api/jobs', { ...NATIVE, inputs: [1], requires: { gpu: true, memoryMb: 4000 } })).json;
    const runner = await register();
    expect((await runner.lease({ capabilities: RUNNER })).leases).toEqual([]);
    const gpu = await runner.lease({ capabilities: { ...RUNNER, gpus: [{ name: 'NVIDIA H200', memoryMb: 143_771 }] } });
    expect(gpu.leases.map((l) => l.jobId)).toEqual([job.id]);
    expect(gpu.jobs[job.id].requires).toEqual({ gpu: true, memoryMb: 4000 });

    const bad = await call('POST', `/api/contributors/${runner.contributorId}/leases`, { max: 1, capabilities: { runtimes: ['fortran'] } }, runner.auth);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('capabilities.runtimes.0');
    const empty = await call('POST', `/api/contributors/${runner.contributorId}/leases`, { max: 1, capabilities: { runtimes: [] } }, runner.auth);
    expect(empty.json.error.message).toContain('capabilities.runtimes: needs at least one runtime');
    const engine = await call('POST', `/api/contributors/${runner.contributorId}/leases`, { max: 1, capabilities: { runtimes: ['native'], containerEngine: 'lxc' } }, runner.auth);
    expect(engine.json.error.message).toContain('capabilities.containerEngine');
  });
});

describe('PUT /api/contributors/:id/leases/:leaseId/checkpoint', () => {
  it('stores the holder\'s checkpoint; a later lease of the chunk carries it; the blob stays readable', async () => {
    const { call, register, putBlob } = setup();
    await call('POST', '/api/jobs', { ...NATIVE, inputs: [1] });
    const a = await register();
    const [lease] = (await a.lease({ capabilities: RUNNER })).leases;
    expect(lease).not.toHaveProperty('checkpoint');
    const state = await putBlob('{"step": 40}');
    const saved = await a.checkpoint(lease.leaseId, { leaseToken: lease.leaseToken, files: [{ name: 'state.json', blob: state.name, size: state.size }] });
    expect(saved.status).toBe(200);
    expect(saved.json).toEqual({ leaseId: lease.leaseId, files: 1, size: state.size });
    await a.release(lease.leaseId, lease.leaseToken);

    const b = await register();
    const [again] = (await b.lease({ capabilities: RUNNER })).leases;
    expect(again.checkpoint).toEqual({ files: [{ name: 'state.json', blob: state.name, size: state.size }] });
    const read = await call('GET', `/api/blobs/${state.name}`);
    expect(read.status).toBe(200);
    expect(read.text).toBe('{"step": 40}');
  });

  it('answers JSON errors: 404 for another contributor\'s or an unknown lease, 403 for a wrong token, 409 after release or report, 410 once expired', async () => {
    const { call, register, putBlob, advance } = setup();
    await call('POST', '/api/jobs', { ...NATIVE, inputs: [1, 2, 3, 4], timeoutMs: 1_000 });
    const a = await register();
    const b = await register();
    const [running, released, reported, late] = (await a.lease({ capabilities: RUNNER })).leases;
    const state = await putBlob('state');
    const files = [{ name: 'state', blob: state.name, size: state.size }];
    const error = async (who: typeof a, leaseId: string, body: object) => {
      const res = await who.checkpoint(leaseId, body);
      return [res.status, res.json.error?.code];
    };
    expect(await error(b, running.leaseId, { leaseToken: running.leaseToken, files })).toEqual([404, 'LEASE_NOT_FOUND']);
    expect(await error(a, 'l-unknown', { leaseToken: 'x', files })).toEqual([404, 'LEASE_NOT_FOUND']);
    expect(await error(a, running.leaseId, { leaseToken: 'wrong', files })).toEqual([403, 'LEASE_TOKEN_INVALID']);
    await a.release(released.leaseId, released.leaseToken);
    expect(await error(a, released.leaseId, { leaseToken: released.leaseToken, files })).toEqual([409, 'LEASE_RELEASED']);
    await a.report([{ leaseId: reported.leaseId, leaseToken: reported.leaseToken, status: 'ok', output: 1 }]);
    expect(await error(a, reported.leaseId, { leaseToken: reported.leaseToken, files })).toEqual([409, 'LEASE_FINISHED']);
    const unauthenticated = await call('PUT', `/api/contributors/${a.contributorId}/leases/${running.leaseId}/checkpoint`, { leaseToken: running.leaseToken, files });
    expect(unauthenticated.status).toBe(401);

    // Bodies: blobs must be stored first (with the size given), names relative, within the caps.
    const missing = `sha256:${'0'.repeat(64)}`;
    expect(await error(a, running.leaseId, { leaseToken: running.leaseToken, files: [{ name: 'x', blob: missing, size: 1 }] })).toEqual([400, 'CHECKPOINT_BLOB_MISSING']);
    expect(await error(a, running.leaseId, { leaseToken: running.leaseToken, files: [{ ...files[0], size: 99 }] })).toEqual([400, 'CHECKPOINT_BLOB_MISSING']);
    const invalid = async (body: object) => {
      const res = await a.checkpoint(running.leaseId, { leaseToken: running.leaseToken, ...body });
      expect(res.status).toBe(400);
      return res.json.error.message as string;
    };
    expect(await invalid({ files: [{ ...files[0], name: '../x' }] })).toContain('files.0.name: must not contain ..');
    expect(await invalid({ files: [{ ...files[0], name: '/abs' }] })).toContain('files.0.name: must be relative');
    expect(await invalid({ files: [files[0], files[0]] })).toContain('files.1.name: repeats');
    expect(await invalid({ files: Array.from({ length: 257 }, (_, i) => ({ ...files[0], name: `f${i}` })) })).toContain('files: at most 256 files');
    expect(await invalid({ files: [{ ...files[0], size: 256 * 1024 * 1024 + 1 }] })).toContain('more than 268435456');
    expect(await invalid({ files: [{ ...files[0], blob: 'sha256:nothex' }] })).toContain('files.0.blob');

    advance(60_000);
    expect(await error(a, late.leaseId, { leaseToken: late.leaseToken, files })).toEqual([410, 'LEASE_EXPIRED']);
  });
});
