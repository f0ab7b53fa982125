// The Store: every operation the coordinator needs, each atomic inside the store, no connection or transaction
// type leaking out. Implementations: memory (tests, --store memory) and SQLite (default); a Redis store fits the
// same contract. One contract suite (store.case.test.ts) runs against each.
import type {
  CheckpointFile,
  CheckpointResponse,
  ChunkDetail,
  ContributorCapabilities,
  ChunkResult,
  HeartbeatResponse,
  JobSource,
  JobSpec,
  JobSummary,
  Lease,
  LeaseRef,
  Outcome,
  RegisterResponse,
  ReleaseResponse,
  ReportOutcome,
  ResultReport,
  Runtime,
  RuntimeFields,
  JobRequirements,
  VerificationPolicy,
} from '../../../protocol/index.js';
import type { Quota, QuotaName, QuotaUsage } from '../domain/quota.js';

/** Knobs that shape scheduling; fixed for the life of a store. */
export interface SchedulingPolicy {
  /** Added to a job's timeoutMs to form a lease's deadline, and the least time a heartbeat buys. */
  leaseGraceMs: number;
  /** How long a contributor whose replica failed waits before it may be given that chunk again. */
  retryCooldownMs: number;
  /** Adaptive replication: the least share of a trusted contributor's results still cross-checked (default 0.1). */
  spotCheckFloor?: number;
  /** Adaptive replication: a contributor's streak counts half after this long without a validated result. */
  trustHalfLifeMs?: number;
  /** Replicas of a chunk go to distinct networks (/24, /48) while the pool has several (default true). */
  distinctNetworks?: boolean;
  /** A network counts as part of the pool for this long after it last asked for work (default 60 s). */
  networkWindowMs?: number;
  /** Most leases one contributor may hold at once, whatever it says of its threads (default 64). */
  maxLeasesPerContributor?: number;
  /** Leases a contributor may hold per thread it advertises in a lease call (default 4). */
  leasesPerThread?: number;
  /** A lease ends at issue time + this × the job's timeout + leaseGraceMs at the latest; heartbeats cannot pass it (default 3). */
  hardDeadlineFactor?: number;
}

export const defaultSchedulingPolicy: SchedulingPolicy = {
  leaseGraceMs: 30_000,
  retryCooldownMs: 30_000,
  spotCheckFloor: 0.1,
  trustHalfLifeMs: 7 * 24 * 3600_000,
  distinctNetworks: true,
  networkWindowMs: 60_000,
  maxLeasesPerContributor: 64,
  leasesPerThread: 4,
  hardDeadlineFactor: 3,
};

/** A validated submission with its defaults applied. */
export interface NewJob {
  name?: string;
  description?: string;
  fields: RuntimeFields;
  inputs: unknown[];
  timeoutMs: number;
  maxAttempts: number;
  policy: VerificationPolicy;
  /** What a contributor must have, implied requirements included (domain/requirements.ts jobRequirements). */
  requires?: JobRequirements;
  /** Only the owner (or an admin key) reads its source, inputs and results. */
  private: boolean;
  /** Who submitted it: an API key id, or (`net:<network>` when jobs are open to all); trust is not earned on one's own jobs. */
  owner?: string;
  /** Known-answer chunks: answers the coordinator verified earlier, checked against instead of a second replica. */
  known?: { index: number; output: unknown }[];
  /**
   * The owner's effective limits (domain/quota.ts `effectiveQuota`): createJob refuses the whole job with
   * QuotaExceededError when it would pass `jobs` or `chunksPerDay`. Absent: no limit.
   */
  quota?: Quota;
}

export interface LeaseCall {
  max: number;
  /** The runtimes offered; with `capabilities`, the same as its `runtimes`. */
  runtimes: Runtime[];
  /**
   * What the caller offers: only jobs whose runtime and requirements it meets are leased. Absent: `{ runtimes }`
   * and nothing else (a tab of today), so a job with any requirement is never leased to it.
   */
  capabilities?: ContributorCapabilities;
  /** The caller's network (/24 or /48), when the edge knows its address. */
  network?: string;
  /** Threads the caller says it runs; with leasesPerThread it bounds the leases the caller may hold. */
  threads?: number;
  /** Job ids the caller's idle threads have loaded (LeaseRequest.loadedJobs): preferred within each job's fair share. */
  loadedJobs?: string[];
  /** The caller's leases whose results are on their way (LeaseRequest.finishedLeases): not counted as holding a thread. */
  finishedLeases?: string[];
  /** Jobs whose spec the caller holds: left out of `LeaseBatch.jobs`. */
  haveSpecs?: string[];
}

export interface JobAccess {
  /** Undefined for jobs stored before owners existed: only an admin key controls those. */
  owner?: string;
  private: boolean;
}

/** A submitter's API key as stored (`npm run keys`). Its id is the owner of the jobs it submits. */
export interface ApiKey {
  id: string;
  name: string;
  admin: boolean;
  createdAt: number;
  revokedAt?: number;
  /** The key's own quotas (0 = no limit); a name left out follows the coordinator's default (`--key-max-*`). */
  quota?: Quota;
}

/** A change to a key's own quotas: a number sets it (0 = no limit), null puts it back to the coordinator's default. */
export type QuotaChange = Partial<Record<QuotaName, number | null>>;

/** Part of an owner's blob quota held for one upload in flight (`holdBlobBytes`); `bytes` is Infinity without a limit. */
export interface BlobHold {
  readonly owner: string;
  readonly bytes: number;
}

export interface LeaseBatch {
  leases: Lease[];
  /** The spec of each leased job not in `LeaseCall.haveSpecs`. */
  jobs: Record<string, JobSpec>;
}

export interface Store {
  createJob(job: NewJob, now: number): Promise<JobSummary>;
  getJob(jobId: string): Promise<JobSummary | undefined>;
  /** Newest first. */
  listJobs(options?: { limit?: number }): Promise<JobSummary[]>;
  getJobSource(jobId: string): Promise<JobSource | undefined>;
  /** Who owns a job and whether it is private; undefined when unknown. Not a wire shape: routes decide with it. */
  jobAccess(jobId: string): Promise<JobAccess | undefined>;

  /** A new API key; `secret` is returned once and only its hash is kept. */
  createApiKey(info: { name: string; admin: boolean; quota?: Quota }, now: number): Promise<{ key: ApiKey; secret: string }>;
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKey[]>;
  /** Revokes the key with this id or name; undefined when there is none. */
  revokeApiKey(idOrName: string, now: number): Promise<ApiKey | undefined>;
  /** The live (not revoked) key whose secret this is. */
  findApiKey(secret: string): Promise<ApiKey | undefined>;
  /** Changes the quotas of the live key with this id or name; undefined when there is none. */
  setApiKeyQuota(idOrName: string, change: QuotaChange): Promise<ApiKey | undefined>;

  /**
   * What counts against an owner's quotas now: unfinished jobs, chunks of the jobs it submitted in the 24 hours up to
   * `now`, bytes of the blobs it stored first; jobs being created and uploads in flight included.
   */
  quotaUsage(owner: string, now: number): Promise<QuotaUsage>;
  /**
   * Holds `bytes` of the owner's blob quota for an upload (undefined: its size is not known, so all that is left),
   * so that two uploads at once cannot both take the last bytes. Throws QuotaExceededError when that does not fit
   * (or, for an unknown size, when nothing is left). End every hold with settleBlobHold.
   */
  holdBlobBytes(owner: string, limits: Quota, bytes: number | undefined, now: number): Promise<BlobHold>;
  /** Ends a hold: a blob the upload stored first is recorded as the owner's; what it did not use is given back. */
  settleBlobHold(hold: BlobHold, stored: { name: string; size: number } | undefined, now: number): Promise<void>;

  /** What a contributor runs the job's chunks with; undefined when unknown. */
  getJobSpec(jobId: string): Promise<JobSpec | undefined>;
  /** Stops a queued or running job: no new leases, running leases become `cancelled`. Undefined when unknown. */
  cancelJob(jobId: string, now: number): Promise<JobSummary | undefined>;

  registerContributor(info: { agent?: string }, now: number): Promise<RegisterResponse>;
  /** True when `token` belongs to `contributorId`. */
  authenticateContributor(contributorId: string, token: string): Promise<boolean>;

  /**
   * Leases up to `max` replicas of chunks that want one, shared round-robin across active jobs (least recently
   * served first). A contributor never gets two replicas of one chunk. Reads job ids and counters only; a job's
   * runtime fields are read just for the specs the contributor does not hold yet.
   */
  leaseChunks(contributorId: string, request: LeaseCall, now: number): Promise<LeaseBatch>;
  /** Extends the deadline of each still-active lease; tells the state of the others. */
  heartbeat(contributorId: string, leases: LeaseRef[], now: number): Promise<HeartbeatResponse['leases']>;
  /** Records finished attempts. Idempotent per lease; one outcome per report, in order. */
  reportResults(contributorId: string, reports: ResultReport[], now: number): Promise<ReportOutcome[]>;
  /**
   * Gives a running lease back before it ends: its chunk goes back to the queue at once, and no error is counted.
   * Idempotent. Errors: LEASE_NOT_FOUND (unknown, or another contributor's), LEASE_TOKEN_INVALID, LEASE_EXPIRED,
   * JOB_CANCELLED, LEASE_FINISHED (already reported).
   */
  releaseLease(contributorId: string, lease: LeaseRef, now: number): Promise<Outcome<ReleaseResponse>>;
  /**
   * Stores the checkpoint of a running lease's chunk (replacing the chunk's earlier one) with the contributor that
   * uploaded it; a later lease of the chunk carries it (Lease.checkpoint): any lease for an unreplicated job, only
   * that contributor's for a replicated one. Deleted when the chunk settles or its job ends. Errors as releaseLease:
   * LEASE_NOT_FOUND, LEASE_TOKEN_INVALID, LEASE_EXPIRED, LEASE_RELEASED, JOB_CANCELLED, LEASE_FINISHED.
   */
  saveCheckpoint(contributorId: string, lease: LeaseRef, files: CheckpointFile[], now: number): Promise<Outcome<CheckpointResponse>>;
  /**
   * Expires every lease whose deadline has passed, and publishes every lone decision whose publication time has come
   * (adaptive replication: docs/verification.md, rule 4); returns how many of both. The reaper calls it every second.
   */
  expireLeases(now: number): Promise<number>;

  /** Finished chunks with index >= offset, in index order, at most `limit`. */
  listResults(jobId: string, range: { offset: number; limit: number }): Promise<ChunkResult[]>;
  /** Chunks finished after `cursor` (0 = from the start), in finishing order; `cursor` to pass next time. */
  finishedSince(jobId: string, cursor: number, limit: number): Promise<{ results: ChunkResult[]; cursor: number }>;
  /** One chunk with every replica it was issued. */
  getChunk(jobId: string, index: number): Promise<ChunkDetail | undefined>;

  close(): Promise<void>;
}
