// Wire shapes of the contributor protocol (`/api/contributors/...`), documented in docs/protocol.md.
// A contributor registers once, then loops: lease a batch of chunks, heartbeat while they run, report results.
import { z } from 'zod';
import { Runtime, relativePathProblem, type JobRequirements, type RuntimeFields } from './jobs.js';
import type { ErrorInfo } from './errors.js';

/** `POST /api/contributors` body. */
export const RegisterRequest = z.strictObject({
  /** Free text shown in logs only (for example the browser's user agent); never public. */
  agent: z.string().max(500).optional(),
  runtimes: z.array(Runtime).min(1).optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

/** `201` answer to registration. The token authenticates every later call as `Authorization: Bearer <token>`. */
export interface RegisterResponse {
  contributorId: string;
  token: string;
}

/**
 * What a contributor offers, sent with every lease request: the coordinator leases it only chunks of jobs whose
 * runtime it lists and whose `requires` it meets. A request without it is taken for a tab of today:
 * `{ runtimes: <the request's runtimes, or ['python', 'onnx']> }` (no GPU, no container engine, WebGPU unknown).
 *
 * @example {"runtimes": ["python", "onnx", "native"], "containerEngine": "podman", "gpus": [{"name": "NVIDIA H200", "memoryMb": 143771}], "cpuCores": 16, "memoryMb": 128000, "host": "runner"}
 */
export const ContributorCapabilities = z.strictObject({
  runtimes: z
    .array(Runtime)
    .min(1, 'needs at least one runtime')
    .refine((runtimes) => new Set(runtimes).size === runtimes.length, 'must not repeat a runtime'),
  containerEngine: z.enum(['docker', 'podman']).optional(),
  gpus: z.array(z.strictObject({ name: z.string().max(200), memoryMb: z.number().int().min(0) })).max(64).optional(),
  cpuCores: z.number().int().min(1).max(4096).optional(),
  /** Memory the contributor gives its chunks, in MiB. */
  memoryMb: z.number().int().min(0).optional(),
  webgpu: z.boolean().optional(),
  host: z.enum(['tab', 'runner']).optional(),
});
export type ContributorCapabilities = z.infer<typeof ContributorCapabilities>;

/** Most job ids a lease request may list in `haveSpecs`. */
export const MAX_HAVE_SPECS = 256;

/** `POST /api/contributors/:id/leases` body: ask for up to `max` chunks. */
export const LeaseRequest = z.strictObject({
  max: z.number().int().min(1).max(1024),
  /** The runtimes offered, for callers that send no `capabilities` (superseded by `capabilities.runtimes`). */
  runtimes: z.array(Runtime).min(1).optional(),
  /** What the caller offers (ContributorCapabilities); absent: a tab of today. */
  capabilities: ContributorCapabilities.optional(),
  /** Threads the caller runs; the coordinator lets it hold a few leases per thread (never more than its ceiling). */
  threads: z.number().int().min(1).max(1024).optional(),
  /**
   * Job affinity: the id of the job each idle thread has loaded (one entry per such thread, repeats allowed). The
   * coordinator prefers these jobs, within each job's fair share, so a thread rarely has to load another job.
   */
  loadedJobs: z.array(z.string().min(1).max(200)).max(1024).optional(),
  /**
   * Leases whose chunks the caller has finished and whose results are on their way (batched, or being prepared). For
   * job affinity only: those chunks no longer hold a thread, so they do not count towards their job's fair share
   * when the caller's idle threads ask for more of it. Leases that are not the caller's, or no longer running, are
   * ignored; the leases the caller may hold are counted as before.
   */
  finishedLeases: z.array(z.string().min(1).max(200)).max(1024).optional(),
  /**
   * Ids of jobs whose JobSpec the contributor already holds: the answer leaves their specs out. A job's spec never
   * changes after submission, so its id is its version.
   */
  haveSpecs: z.array(z.string().min(1).max(64)).max(MAX_HAVE_SPECS).optional(),
});
export type LeaseRequest = z.infer<typeof LeaseRequest>;

/**
 * What a worker needs to run chunks of one job. Immutable once the job is submitted: a contributor fetches it once
 * (in a lease answer, or from `GET /api/contributors/:id/jobs/:jobId`) and keeps it for as long as it leases the job.
 */
export type JobSpec = {
  id: string;
  name: string;
  description?: string;
  timeoutMs: number;
  /** The job's requirements, implied ones included (a host may use them, e.g. to pick the GPU); absent when none. */
  requires?: JobRequirements;
} & RuntimeFields;

/** One file of a checkpoint: its path under /work/checkpoint/ and the blob (`PUT /api/blobs/sha256:<hex>`) holding it. */
export interface CheckpointFile {
  /** Relative, `/`-separated, no `..`. */
  name: string;
  /** `sha256:<64 lowercase hex>`. */
  blob: string;
  size: number;
}

/** A chunk's latest checkpoint, as a later lease of it carries it: download each blob into /work/checkpoint/<name>. */
export interface CheckpointRef {
  files: CheckpointFile[];
}

export const MAX_CHECKPOINT_FILES = 256;
export const MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024;

/**
 * `PUT /api/contributors/:id/leases/:leaseId/checkpoint` body: the chunk's /work/checkpoint/ directory, each file
 * uploaded first as a blob. Replaces the chunk's earlier checkpoint. An empty `files` stores an empty checkpoint.
 */
export const CheckpointRequest = z.strictObject({
  leaseToken: z.string().min(1),
  files: z
    .array(
      z.strictObject({
        name: z.string().superRefine((name, ctx) => {
          const problem = relativePathProblem(name);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
        blob: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 lowercase hex> naming an uploaded blob'),
        size: z.number().int().min(0),
      }),
    )
    .max(MAX_CHECKPOINT_FILES, `at most ${MAX_CHECKPOINT_FILES} files`)
    .superRefine((files, ctx) => {
      const seen = new Set<string>();
      let total = 0;
      files.forEach((file, i) => {
        if (seen.has(file.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `repeats ${JSON.stringify(file.name)}` });
        seen.add(file.name);
        total += file.size;
      });
      if (total > MAX_CHECKPOINT_BYTES) ctx.addIssue({ code: 'custom', path: [], message: `add up to ${total} bytes, more than ${MAX_CHECKPOINT_BYTES}` });
    }),
}) satisfies z.ZodType<{ leaseToken: string; files: CheckpointFile[] }>;
export type CheckpointRequest = z.infer<typeof CheckpointRequest>;

/** `200` answer to a checkpoint upload. */
export interface CheckpointResponse {
  leaseId: string;
  /** How many files and bytes the stored checkpoint holds. */
  files: number;
  size: number;
}

/**
 * One leased chunk. `leaseToken` is the secret that must accompany the result. Nothing in it tells whether the chunk
 * has other replicas (there is no attempt number): a second contributor could otherwise learn that it checks a first.
 */
export interface Lease {
  leaseId: string;
  leaseToken: string;
  jobId: string;
  chunkIndex: number;
  input: unknown;
  /** ISO time after which the lease is void unless extended by a heartbeat. */
  deadline: string;
  /**
   * The chunk's latest checkpoint, uploaded by an earlier lease of it that was lost: restore it into
   * /work/checkpoint/ before the chunk starts. Replicated jobs: only to the contributor that uploaded it.
   */
  checkpoint?: CheckpointRef;
}

export interface LeaseResponse {
  leases: Lease[];
  /** The spec of each job in `leases` that the request did not list in `haveSpecs`. */
  jobs: Record<string, JobSpec>;
  /** When no work was available: how long to wait before asking again. */
  retryAfterMs?: number;
}

export const LeaseRef = z.strictObject({ leaseId: z.string().min(1), leaseToken: z.string().min(1) });
export type LeaseRef = z.infer<typeof LeaseRef>;

/** `POST /api/contributors/:id/heartbeat` body: the leases still being worked on. */
export const HeartbeatRequest = z.strictObject({ leases: z.array(LeaseRef).max(4096) });
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export type LeaseState = 'active' | 'cancelled' | 'expired' | 'released' | 'finished' | 'unknown';
export interface HeartbeatResponse {
  /** `active` leases got a new deadline; any other state means: stop working on it. */
  leases: { leaseId: string; state: LeaseState; deadline?: string }[];
}

/**
 * `POST /api/contributors/:id/leases/:leaseId/release` body: gives a running lease back at once (the contributor
 * paused, or its tab stopped a chunk that would not pause). The chunk goes back to the queue; no error is counted.
 */
export const ReleaseRequest = z.strictObject({ leaseToken: z.string().min(1) });
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

/** `200` answer to a release; releasing a lease already released answers the same (idempotent). */
export interface ReleaseResponse {
  leaseId: string;
  state: 'released';
}

/**
 * Why a chunk attempt failed, from the worker's point of view.
 * `exception`: the script raised (final for the chunk). `syntax`: the script cannot compile (fails the job).
 * `timeout`: interrupted after the job's timeoutMs (retried). `crash`: the worker died (retried).
 * `output`: the return value could not be serialised (final).
 */
export const FailureKind = z.enum(['exception', 'syntax', 'timeout', 'crash', 'output']);
export type FailureKind = z.infer<typeof FailureKind>;

const MAX_TEXT = 8 * 1024 * 1024;
export const ResultReport = z.strictObject({
  leaseId: z.string().min(1),
  leaseToken: z.string().min(1),
  status: z.enum(['ok', 'error']),
  output: z.unknown().optional(),
  stdout: z.string().max(MAX_TEXT).optional(),
  stderr: z.string().max(MAX_TEXT).optional(),
  error: z.string().max(MAX_TEXT).optional(),
  failure: FailureKind.optional(),
  durationMs: z.number().min(0).optional(),
  /** Files the chunk wrote under /work/out/, uploaded first with `PUT /api/blobs/sha256:<hex>`. */
  attachments: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(1024),
        sha256: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 lowercase hex>'),
        size: z.number().int().min(0),
      }),
    )
    .max(1000)
    .optional(),
  /** Facts about how the result was computed, e.g. {"executionProvider": "webgpu", "adapter": "..."}. */
  runtimeInfo: z.record(z.string().max(100), z.string().max(1000)).optional(),
});
export type ResultReport = z.infer<typeof ResultReport>;

/** `POST /api/contributors/:id/results` body: one or more finished leases. */
export const ReportRequest = z.strictObject({ results: z.array(ResultReport).min(1).max(4096) });
export type ReportRequest = z.infer<typeof ReportRequest>;

/**
 * Per-result answer. `accepted`: stored. `duplicate`: this lease was already reported (idempotent, nothing changed).
 * `rejected`: not stored; `error.code` says why (LEASE_TOKEN_INVALID, LEASE_EXPIRED, JOB_CANCELLED, LEASE_NOT_FOUND).
 */
export interface ReportOutcome {
  leaseId: string;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  error?: ErrorInfo;
}
export interface ReportResponse {
  results: ReportOutcome[];
}
