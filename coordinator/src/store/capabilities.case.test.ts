// Store contract, part five: who may be leased what (a job's runtime and `requires` against the lease call's
// capabilities), and checkpoints (stored per chunk by the lease's holder, handed to a later lease of the chunk; for
// replicated jobs only to the contributor that wrote it). Run by runStoreContract.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, type CheckpointFile, type ContributorCapabilities, type JobSubmission } from '../../../protocol/index.js';
import { newJobFrom } from '../domain/policy.js';
import type { LeaseCall, NewJob, SchedulingPolicy, Store } from './store.js';

type NewStore = (policy: SchedulingPolicy, random?: () => number) => Promise<Store> | Store;

const T0 = Date.UTC(2026, 0, 1);
const TAB = { runtimes: ['python' as const, 'onnx' as const] };
const RUNNER: ContributorCapabilities = { runtimes: ['python', 'onnx', 'native'], host: 'runner', cpuCores: 8, memoryMb: 16_000 };
const blob = (c: string) => `sha256:${c.repeat(64)}`;
const FILES: CheckpointFile[] = [{ name: 'state.json', blob: blob('a'), size: 10 }];

function native(inputs: unknown[], extra: Partial<Extract<JobSubmission, { runtime: 'native' }>> = {}): NewJob {
  return newJobFrom({ runtime: 'native', command: ['python3', 'main.py'], source: 'print(1)', inputs, timeoutMs: 10_000, maxAttempts: 3, ...extra });
}
function python(inputs: unknown[], extra: Record<string, unknown> = {}): NewJob {
  return newJobFrom({ runtime: 'python', source: 'def main(x):\n    return x', inputs, timeoutMs: 10_000, maxAttempts: 3, ...extra } as never);
}

export function runCapabilitiesContract(name: string, newStore: NewStore): void {
  describe(`Store contract: ${name}: capabilities and checkpoints`, () => {
    let store: Store;
    afterEach(async () => {
      await store?.close();
    });
    const open = async () => (store = await newStore({ leaseGraceMs: 1_000, retryCooldownMs: 60_000 }));
    const register = async () => (await store.registerContributor({}, T0)).contributorId;
    /** A lease call as routes make it: capabilities, or a tab's runtimes when there are none. */
    const lease = (contributorId: string, capabilities: ContributorCapabilities | undefined, now = T0 + 1, max = 1) => {
      const call: LeaseCall = capabilities ? { max, runtimes: capabilities.runtimes, capabilities } : { max, runtimes: TAB.runtimes };
      return store.leaseChunks(contributorId, call, now);
    };

    it('a tab without capabilities is never leased a native job; a runner offering native is', async () => {
      await open();
      const job = await store.createJob(native([1, 2]), T0);
      const tab = await register();
      expect((await lease(tab, undefined)).leases).toEqual([]);
      expect((await lease(tab, { runtimes: ['python', 'onnx'], webgpu: true, host: 'tab' })).leases).toEqual([]);
      const runner = await register();
      const batch = await lease(runner, { runtimes: ['native'] });
      expect(batch.leases.map((l) => [l.jobId, l.chunkIndex])).toEqual([[job.id, 0]]);
      expect(batch.jobs[job.id]).toMatchObject({ runtime: 'native', command: ['python3', 'main.py'], source: 'print(1)' });
    });

    it('a job is leased only to contributors that meet every requirement; others get the jobs they can run', async () => {
      await open();
      const gpu = await store.createJob(native([1], { requires: { gpuMemoryMb: 20_000, memoryMb: 8_000, cpuCores: 4 } }), T0);
      const plain = await store.createJob(python([1, 2, 3]), T0 + 1);
      const small = await register();
      // No GPU, then a GPU too small: only the Python job comes, though the GPU job was served least recently.
      for (const gpus of [undefined, [{ name: 'small', memoryMb: 8_000 }]]) {
        const batch = await lease(small, { ...RUNNER, ...(gpus ? { gpus } : {}) });
        expect(batch.leases.map((l) => l.jobId)).toEqual([plain.id]);
      }
      const lowMemory = await register();
      expect((await lease(lowMemory, { ...RUNNER, memoryMb: 4_000, gpus: [{ name: 'big', memoryMb: 80_000 }] })).leases.map((l) => l.jobId)).toEqual([plain.id]);
      const fewCores = await register();
      expect((await lease(fewCores, { ...RUNNER, cpuCores: 2, gpus: [{ name: 'big', memoryMb: 80_000 }] })).leases.map((l) => l.jobId)).toEqual([]);
      const big = await register();
      const batch = await lease(big, { ...RUNNER, gpus: [{ name: 'small', memoryMb: 8_000 }, { name: 'big', memoryMb: 80_000 }] });
      expect(batch.leases.map((l) => l.jobId)).toEqual([gpu.id]);
    });

    it('a native job with an image needs a container engine; an ONNX job asking for WebGPU needs a tab with it', async () => {
      await open();
      const contained = await store.createJob(native([1], { image: 'localhost/idle-sense-busybox:latest' }), T0);
      expect(contained.requires).toEqual({ containerEngine: true });
      const runner = await register();
      expect((await lease(runner, RUNNER)).leases).toEqual([]);
      expect((await lease(runner, { ...RUNNER, containerEngine: 'podman' })).leases.map((l) => l.jobId)).toEqual([contained.id]);

      const onnx = await store.createJob(
        newJobFrom({ runtime: 'onnx', model: blob('b'), inputs: [{ x: { type: 'float32', dims: [1], data: [1] } }], requires: { webgpu: true } }),
        T0,
      );
      const tab = await register();
      expect((await lease(tab, undefined)).leases).toEqual([]);
      expect((await lease(tab, { runtimes: ['python', 'onnx'], webgpu: false })).leases).toEqual([]);
      expect((await lease(tab, { runtimes: ['python', 'onnx'], webgpu: true })).leases.map((l) => l.jobId)).toEqual([onnx.id]);
    });

    it('requirements, implied ones made explicit, are in the job summary and spec and survive a reread', async () => {
      await open();
      const created = await store.createJob(native([1], { requires: { runtime: 'native', gpuMemoryMb: 1_000, gpu: true } }), T0);
      expect(created.requires).toEqual({ gpu: true, gpuMemoryMb: 1_000 });
      expect(await store.getJob(created.id)).toEqual(created);
      expect((await store.listJobs())[0].requires).toEqual({ gpu: true, gpuMemoryMb: 1_000 });
      expect(await store.getJobSpec(created.id)).toMatchObject({ requires: { gpu: true, gpuMemoryMb: 1_000 } });
      const none = await store.createJob(python([1], { requires: {} }), T0);
      expect(none).not.toHaveProperty('requires');
      expect(await store.getJobSpec(none.id)).not.toHaveProperty('requires');
    });

    it('a checkpoint goes to any later lease of an unreplicated chunk, latest first, never to the first lease', async () => {
      await open();
      const job = await store.createJob(native(['a']), T0);
      const a = await register();
      const [first] = (await lease(a, RUNNER)).leases;
      expect(first).not.toHaveProperty('checkpoint');
      const ref = { leaseId: first.leaseId, leaseToken: first.leaseToken };
      expect(await store.saveCheckpoint(a, ref, FILES, T0 + 2)).toEqual({ ok: true, value: { leaseId: first.leaseId, files: 1, size: 10 } });
      const latest: CheckpointFile[] = [{ name: 'state.json', blob: blob('c'), size: 12 }, { name: 'w/model.pt', blob: blob('d'), size: 30 }];
      expect((await store.saveCheckpoint(a, ref, latest, T0 + 3)).ok).toBe(true);
      await store.releaseLease(a, ref, T0 + 4);
      const b = await register();
      const [second] = (await lease(b, RUNNER, T0 + 5)).leases;
      expect(second).toMatchObject({ jobId: job.id, chunkIndex: 0, checkpoint: { files: latest } });
      // A crashed attempt is retried from the checkpoint too (a timeout or lost worker is the case it is for).
      await store.reportResults(b, [{ leaseId: second.leaseId, leaseToken: second.leaseToken, status: 'error', failure: 'crash', error: 'lost' }], T0 + 6);
      const [third] = (await lease(a, RUNNER, T0 + 7)).leases;
      expect(third.checkpoint).toEqual({ files: latest });
    });

    it('a replicated chunk\'s checkpoint never reaches another contributor (independent replicas stay independent)', async () => {
      await open();
      await store.createJob(native(['a'], { replicas: 2 }), T0);
      const a = await register();
      const b = await register();
      const c = await register();
      const [mine] = (await lease(a, RUNNER)).leases;
      expect((await store.saveCheckpoint(a, mine, FILES, T0 + 2)).ok).toBe(true);
      await store.releaseLease(a, mine, T0 + 3);
      const [theirs] = (await lease(b, RUNNER, T0 + 4)).leases;
      expect(theirs).toBeDefined();
      expect(theirs).not.toHaveProperty('checkpoint');
      const [third] = (await lease(c, RUNNER, T0 + 5)).leases;
      expect(third).toBeDefined();
      expect(third).not.toHaveProperty('checkpoint');
      // The writer itself is not given a replicated chunk twice (domain/chunk.ts mayTake, `once`), so in a replicated
      // job a checkpoint resumes nothing today; it is kept only for its writer should that rule ever loosen.
      expect((await lease(a, RUNNER, T0 + 6)).leases).toEqual([]);
    });

    it('only the lease\'s holder may checkpoint it, and only while it runs', async () => {
      await open();
      await store.createJob(native(['a', 'b', 'c', 'd']), T0);
      const a = await register();
      const b = await register();
      const [running, reported, released, late] = (await lease(a, RUNNER, T0 + 1, 4)).leases;
      const save = (who: string, l: { leaseId: string; leaseToken: string }, now = T0 + 2) => store.saveCheckpoint(who, l, FILES, now);
      const code = async (outcome: ReturnType<typeof save>) => {
        const result = await outcome;
        return result.ok ? 'ok' : result.error.code;
      };
      expect(await code(save(b, running))).toBe(ErrorCode.LeaseNotFound);
      expect(await code(save(a, { leaseId: 'l-nope', leaseToken: 'x' }))).toBe(ErrorCode.LeaseNotFound);
      expect(await code(save(a, { ...running, leaseToken: 'wrong' }))).toBe(ErrorCode.LeaseTokenInvalid);
      await store.reportResults(a, [{ leaseId: reported.leaseId, leaseToken: reported.leaseToken, status: 'ok', output: 1 }], T0 + 2);
      expect(await code(save(a, reported))).toBe(ErrorCode.LeaseFinished);
      await store.releaseLease(a, released, T0 + 2);
      expect(await code(save(a, released))).toBe(ErrorCode.LeaseReleased);
      expect(await code(save(a, late, T0 + 60_000))).toBe(ErrorCode.LeaseExpired);
      expect(await code(save(a, running, T0 + 3))).toBe('ok');
      // Nothing a refused upload sent was kept: the released chunk goes to b without a checkpoint.
      const again = (await lease(b, RUNNER, T0 + 60_001, 4)).leases.find((l) => l.chunkIndex === 2);
      expect(again).toBeDefined();
      expect(again).not.toHaveProperty('checkpoint');
    });
  });
}
