// The Store: every operation the coordinator needs, each atomic inside the store, no connection or transaction
// type leaking out. Implementations: memory (tests, --store memory), SQLite (default). Redis fits the same contract.
import type {
  ChunkResult,
  HeartbeatResponse,
  JobSource,
  JobSpec,
  JobSubmission,
  JobSummary,
  Lease,
  LeaseRef,
  RegisterResponse,
  ReportOutcome,
  ResultReport,
  Runtime,
} from '../../../protocol/index.js';

/** Knobs that shape scheduling; fixed for the life of a store. */
export interface SchedulingPolicy {
  /** Added to a job's timeoutMs to form a lease's deadline, and the time a heartbeat buys. */
  leaseGraceMs: number;
  /** See ChunkPolicy.retryCooldownMs. */
  retryCooldownMs: number;
}

export const defaultSchedulingPolicy: SchedulingPolicy = { leaseGraceMs: 30_000, retryCooldownMs: 30_000 };

/** A validated submission with defaults applied. */
export type NewJob = Required<Pick<JobSubmission, 'runtime' | 'source' | 'inputs' | 'timeoutMs' | 'maxAttempts'>> &
  Pick<JobSubmission, 'name' | 'description' | 'entry'>;

export interface LeaseBatch {
  leases: Lease[];
  jobs: Record<string, JobSpec>;
}

export interface Store {
  createJob(job: NewJob, now: number): Promise<JobSummary>;
  getJob(jobId: string): Promise<JobSummary | undefined>;
  /** Newest first. */
  listJobs(options?: { limit?: number }): Promise<JobSummary[]>;
  getJobSource(jobId: string): Promise<JobSource | undefined>;
  /** Stops a queued or running job: no new leases, running leases become `cancelled`. Undefined when unknown. */
  cancelJob(jobId: string, now: number): Promise<JobSummary | undefined>;

  registerContributor(info: { agent?: string }, now: number): Promise<RegisterResponse>;
  /** True when `token` belongs to `contributorId`. */
  authenticateContributor(contributorId: string, token: string, now: number): Promise<boolean>;

  /** Leases up to `max` queued chunks, shared round-robin across active jobs (least recently served job first). */
  leaseChunks(contributorId: string, request: { max: number; runtimes: Runtime[] }, now: number): Promise<LeaseBatch>;
  /** Extends the deadline of each still-active lease; tells the state of the others. */
  heartbeat(contributorId: string, leases: LeaseRef[], now: number): Promise<HeartbeatResponse['leases']>;
  /** Records finished attempts. Idempotent per lease; one outcome per report, in order. */
  reportResults(contributorId: string, reports: ResultReport[], now: number): Promise<ReportOutcome[]>;
  /** Returns every lease whose deadline has passed to the queue (or fails its chunk); returns how many. */
  expireLeases(now: number): Promise<number>;

  /** Finished chunks with index >= offset, in index order, at most `limit`. */
  listResults(jobId: string, range: { offset: number; limit: number }): Promise<ChunkResult[]>;
  /** Chunks finished after `cursor` (0 = from the start), in finishing order; `cursor` to pass next time. */
  finishedSince(jobId: string, cursor: number, limit: number): Promise<{ results: ChunkResult[]; cursor: number }>;

  close(): Promise<void>;
}
