// The runtime registry: what the coordinator does per runtime beyond the protocol schema, one entry each, so a new
// runtime is one entry here (and one in domain/policy.ts DEFAULT_VALIDATION), not branches in routes.
import { ErrorCode, type JobSubmission, type Runtime } from '../../protocol/index.js';
import type { AppDeps } from './app.js';
import { ApiError } from './http/errors.js';
import { assertOnnxJobFitsModel } from './onnx/check.js';
import { assertPythonPackagesAvailable } from './packages/python-packages.js';
import { describeSyntaxError, SyntaxCheckUnavailable, type PythonSyntaxChecker } from './python/syntax-check.js';

type SubmissionOf<R extends Runtime> = Extract<JobSubmission, { runtime: R }>;

/** What a submission check found out: whether a Python job runs in function mode (domain/policy.ts). */
export interface SubmissionFacts {
  functionMode: boolean;
}

export interface RuntimeEntry<R extends Runtime> {
  /**
   * Refuses a schema-valid submission the runtime cannot run (ApiError naming the field): a model its inputs do not
   * fit, a package the coordinator cannot serve, a script that does not compile.
   */
  checkSubmission(job: SubmissionOf<R>, deps: Pick<AppDeps, 'blobs' | 'pythonPackages' | 'pythonSyntax'>): Promise<SubmissionFacts>;
}

export const runtimes: { [R in Runtime]: RuntimeEntry<R> } = {
  python: {
    async checkSubmission(job, { pythonPackages, pythonSyntax }) {
      assertPythonPackagesAvailable(pythonPackages, job);
      const entry = job.entry ?? (await assertCompiles(pythonSyntax, job.source));
      return { functionMode: entry !== null };
    },
  },
  onnx: {
    async checkSubmission(job, { blobs }) {
      await assertOnnxJobFitsModel(job, blobs);
      return { functionMode: false };
    },
  },
  // A native command is whatever the runner's sandbox runs: nothing to check here beyond the schema (no Python
  // syntax check: `source` need not be Python, and the command may not even read it).
  native: {
    async checkSubmission() {
      return { functionMode: false };
    },
  },
};

/** The runtime's own checks for a validated submission. */
export function checkSubmission(job: JobSubmission, deps: Pick<AppDeps, 'blobs' | 'pythonPackages' | 'pythonSyntax'>): Promise<SubmissionFacts> {
  return (runtimes[job.runtime] as RuntimeEntry<Runtime>).checkSubmission(job as never, deps);
}

/**
 * Refuses a script that does not compile (400 naming `source`), and any script while the checker cannot run (503).
 * Returns the function-mode entry the tab will detect, or null for script mode.
 */
async function assertCompiles(checker: PythonSyntaxChecker, source: string): Promise<string | null> {
  let checked;
  try {
    checked = await checker.check(source);
  } catch (err) {
    if (err instanceof SyntaxCheckUnavailable) throw new ApiError(ErrorCode.PythonCheckUnavailable, err.message);
    throw err;
  }
  if (!checked.ok) throw new ApiError(ErrorCode.InvalidRequest, describeSyntaxError(checked));
  return checked.entry;
}
