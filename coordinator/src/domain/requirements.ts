// Which contributors may run which jobs: a job's requirements (its runtime plus `requires`, implied ones made
// explicit once at submission) against the capabilities a lease request advertises. Pure; the lease path calls
// `meetsRequirements` once per servable job and lease call.
import type { ContributorCapabilities, JobRequirements, JobSubmission, Runtime } from '../../../protocol/index.js';

/** What a lease request without `capabilities` stands for: a tab of today (no GPU, no container engine). */
export const TAB_RUNTIMES: Runtime[] = ['python', 'onnx'];

/** The capabilities a lease request stands for: its own, else a tab offering `runtimes` (or TAB_RUNTIMES). */
export function leaseCapabilities(request: { capabilities?: ContributorCapabilities; runtimes?: Runtime[] }): ContributorCapabilities {
  return request.capabilities ?? { runtimes: request.runtimes ?? TAB_RUNTIMES };
}

/**
 * A submission's requirements with what they imply made explicit (`gpuMemoryMb` → `gpu`; a native job's `image` →
 * `containerEngine`) and the redundant `runtime` dropped; undefined when there are none. Computed once, stored with
 * the job, so leasing never re-derives it.
 *
 * @example jobRequirements({ runtime: 'native', image: 'busybox', requires: { gpuMemoryMb: 8000 }, … })
 *   → { gpu: true, gpuMemoryMb: 8000, containerEngine: true }
 */
export function jobRequirements(job: Pick<JobSubmission, 'runtime' | 'requires'> & { image?: string }): JobRequirements | undefined {
  const { runtime: _, ...requires } = job.requires ?? {};
  if (requires.gpuMemoryMb !== undefined) requires.gpu = true;
  if (job.runtime === 'native' && job.image !== undefined) requires.containerEngine = true;
  // `false` asks for nothing: kept out, so that a stored requirement is always something to meet.
  for (const key of ['gpu', 'webgpu', 'containerEngine'] as const) if (requires[key] === false) delete requires[key];
  return Object.keys(requires).length ? requires : undefined;
}

/** True when a contributor with `capabilities` may be leased chunks of a `runtime` job that `requires` this. */
export function meetsRequirements(runtime: Runtime, requires: JobRequirements | undefined, capabilities: ContributorCapabilities): boolean {
  if (!capabilities.runtimes.includes(runtime)) return false;
  if (!requires) return true;
  if (requires.gpu && !capabilities.gpus?.length) return false;
  if (requires.gpuMemoryMb !== undefined && !capabilities.gpus?.some((gpu) => gpu.memoryMb >= requires.gpuMemoryMb!)) return false;
  if (requires.memoryMb !== undefined && (capabilities.memoryMb ?? 0) < requires.memoryMb) return false;
  if (requires.cpuCores !== undefined && (capabilities.cpuCores ?? 0) < requires.cpuCores) return false;
  if (requires.webgpu && capabilities.webgpu !== true) return false;
  if (requires.containerEngine && capabilities.containerEngine === undefined) return false;
  return true;
}
