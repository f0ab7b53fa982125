// A job's verification policy with its defaults applied (BOINC's workunit policy: min_quorum, target_nresults,
// max_error_results, max_total_results). The one place defaults live.
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_TIMEOUT_MS,
  type RuntimeFields,
  type JobSubmission,
  type Runtime,
  type Validation,
  type VerificationPolicy,
} from '../../../protocol/index.js';
import { jobRequirements } from './requirements.js';

/**
 * Tolerance ONNX results get by default: execution providers and hardware round differently (WebGPU and WASM
 * float32 kernels differ in the last bits, more after long reductions and exp/softmax). Two numbers agree when they
 * differ by at most `abs` or by at most `rel` of the larger one (see domain/validate.ts).
 */
export const ONNX_DEFAULT_VALIDATION: Validation = { kind: 'tolerance', abs: 1e-4, rel: 1e-3 };

/** Validation each runtime gets when the job names none. Native outputs are a program's own bytes: exact. */
export const DEFAULT_VALIDATION: Record<Runtime, Validation> = {
  python: { kind: 'exact' },
  onnx: ONNX_DEFAULT_VALIDATION,
  native: { kind: 'exact' },
};

/** Validation a runtime gets when the job names none. */
export function defaultValidation(runtime: Runtime): Validation {
  return DEFAULT_VALIDATION[runtime];
}

/**
 * `functionMode`: the Python job runs in function mode (an `entry`, or a `main(x)` the coordinator's compile found):
 * then stdout/stderr are not compared, see VerificationPolicy.compared.
 */
export function verificationPolicy(job: JobSubmission, { functionMode = false } = {}): VerificationPolicy {
  const replicas = job.replicas ?? 1;
  const quorum = job.quorum ?? replicas;
  const adaptive = job.adaptive ?? false;
  // An unreplicated job keeps the simple meaning of maxAttempts: that many tries per chunk, in all.
  const unreplicated = quorum === 1 && replicas === 1 && !adaptive;
  const attempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  return {
    replicas,
    quorum,
    maxResults: job.maxResults ?? (unreplicated ? attempts : replicas * 2 + 1),
    maxErrors: job.maxErrors ?? (unreplicated ? attempts : 3),
    validation: job.validation ?? defaultValidation(job.runtime),
    adaptive,
    compared: job.runtime === 'python' && functionMode ? ['output', 'attachments'] : ['output', 'stdout', 'stderr', 'attachments'],
  };
}

/** Fields of a submission that every runtime shares; everything else is the runtime's own (see RuntimeFields). */
const COMMON_FIELDS = new Set([
  'private',
  'name',
  'description',
  'inputs',
  'timeoutMs',
  'maxAttempts',
  'replicas',
  'quorum',
  'maxResults',
  'maxErrors',
  'validation',
  'adaptive',
  'requires',
]);

/** Splits a validated submission into what the store keeps, with every default applied. */
export function newJobFrom(job: JobSubmission, mode: { functionMode?: boolean } = {}) {
  const fields = Object.fromEntries(Object.entries(job).filter(([key]) => !COMMON_FIELDS.has(key))) as RuntimeFields;
  return {
    private: job.private ?? false,
    name: job.name,
    description: job.description,
    fields,
    inputs: job.inputs,
    timeoutMs: job.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxAttempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    policy: verificationPolicy(job, mode),
    requires: jobRequirements(job),
  };
}
