// Small rules every Store implementation applies the same way: ids and secrets, how a lease batch is shared between
// jobs, how a reported result is checked against its lease, and how records become wire shapes.
import { createHash, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import {
  ErrorCode,
  errorMessage,
  type ChunkResult,
  type ErrorInfo,
  type JobRequirements,
  type JobSpec,
  type JobSummary,
  type ResultDetail,
  type Runtime,
  type RuntimeFields,
  type VerificationPolicy,
} from '../../../protocol/index.js';
import type { Chunk, Replica } from '../domain/chunk.js';
import { unverifiedFields } from '../domain/validate.js';
import { publicStatus, type JobCounters, type StoredJobState } from '../domain/job.js';

// Ids and secrets come from one pooled buffer: one randomFillSync per 4 KiB instead of one syscall per value.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function randomSlice(bytes: number): Buffer {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += bytes;
  return pool.subarray(poolOffset - bytes, poolOffset);
}

export const newId = (prefix: string, bytes = 9): string => prefix + randomSlice(bytes).toString('base64url');
export const newSecret = (): string => randomSlice(24).toString('base64url');

/** Contributor tokens are kept only as hashes. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

/**
 * The contributor ids job pages show: stable on one coordinator, keyed with its secret (HMAC-SHA256), so nobody
 * without the secret can tell whose rows are whose, not even a contributor that knows its own id.
 */
export const anonymiser =
  (secret: string) =>
  (contributorId: string): string =>
    'c-' + createHmac('sha256', secret).update(contributorId).digest('hex').slice(0, 12);

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface LeaseCheckInput {
  replica?: Pick<Replica, 'state' | 'contributorId' | 'deadline'> & { token: string };
  contributorId: string;
  token: string;
  now: number;
}

/**
 * Decides what happens to a reported result before its chunk sees it: `apply`, `duplicate`, `expire` (the deadline
 * passed but no sweep ran yet: expire the lease, then reject), or a rejection.
 */
export function checkLease({ replica, contributorId, token, now }: LeaseCheckInput):
  | { action: 'apply' | 'duplicate' | 'expire' }
  | { action: 'reject'; error: ErrorInfo } {
  if (!replica || replica.contributorId !== contributorId) return reject(ErrorCode.LeaseNotFound);
  if (!sameSecret(replica.token, token)) return reject(ErrorCode.LeaseTokenInvalid);
  switch (replica.state) {
    case 'ok':
    case 'error':
      return { action: 'duplicate' };
    case 'expired':
      return reject(ErrorCode.LeaseExpired);
    case 'released':
      return reject(ErrorCode.LeaseReleased);
    case 'cancelled':
      return reject(ErrorCode.JobCancelled);
    case 'running':
      return replica.deadline < now ? { action: 'expire' } : { action: 'apply' };
  }
}

export function reject(code: ErrorCode, detail?: string): { action: 'reject'; error: ErrorInfo } {
  return { action: 'reject', error: { code, message: errorMessage(code, detail) } };
}

/**
 * Shares `max` lease slots between jobs in round-robin order (`available` listed least recently served job first).
 * Each job gets an equal share; what a job cannot use passes to the jobs after it.
 * Example: max 5, jobs with 1, 10, 10 available → [1, 2, 2].
 */
export function shareSlots(max: number, available: number[]): number[] {
  const shares = available.map(() => 0);
  let left = max;
  let open = available.map((_, i) => i).filter((i) => available[i] > 0);
  while (left > 0 && open.length > 0) {
    const each = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      if (left === 0) break;
      const take = Math.min(each, available[i] - shares[i], left);
      shares[i] += take;
      left -= take;
    }
    open = open.filter((i) => shares[i] < available[i]);
  }
  return shares;
}

/**
 * A job as stores keep it: ids, settings and counters, everything the lease and list paths read. The runtime fields
 * (source, packages, model: up to megabytes) are stored apart and read only to build a JobSpec or show the source.
 */
export interface JobRecord extends JobCounters {
  id: string;
  name: string;
  description?: string;
  runtime: Runtime;
  /** The Python entry function, kept beside the counters for job summaries. */
  entry?: string;
  timeoutMs: number;
  maxAttempts: number;
  policy: VerificationPolicy;
  /** See NewJob.requires: computed at submission, compared with each lease call's capabilities. */
  requires?: JobRequirements;
  private: boolean;
  /** Who submitted it; see NewJob.owner. */
  owner?: string;
  state: StoredJobState;
  error?: string;
  createdAt: number;
  finishedAt?: number;
  /** Orders jobs for round-robin leasing. */
  lastServed: number;
  /** Numbers the job's chunks in the order they finished. */
  finishSeq: number;
}

export function toSummary(job: JobRecord): JobSummary {
  const summary: JobSummary = {
    id: job.id,
    name: job.name,
    runtime: job.runtime,
    status: publicStatus(job.state, job),
    total: job.total,
    completed: job.completed,
    failed: job.failed,
    running: job.running,
    queued: job.queued,
    verified: job.verified,
    resultsIssued: job.resultsIssued,
    valid: job.valid,
    invalid: job.invalid,
    inconclusive: job.inconclusive,
    timeoutMs: job.timeoutMs,
    maxAttempts: job.maxAttempts,
    verification: job.policy,
    createdAt: new Date(job.createdAt).toISOString(),
  };
  if (job.description) summary.description = job.description;
  if (job.private) summary.private = true;
  if (job.entry) summary.entry = job.entry;
  if (job.requires) summary.requires = job.requires;
  if (job.finishedAt !== undefined) summary.finishedAt = new Date(job.finishedAt).toISOString();
  if (job.error) summary.error = job.error;
  return summary;
}

/** The spec a contributor runs a job's chunks with: the job's settings and its runtime fields, as submitted. */
export function toJobSpec(job: JobRecord, fields: RuntimeFields): JobSpec {
  const spec = { id: job.id, name: job.name, timeoutMs: job.timeoutMs, ...fields } as JobSpec;
  if (job.description) spec.description = job.description;
  if (job.requires) spec.requires = job.requires;
  return spec;
}

/** A finished chunk as the results API shows it. */
export function toChunkResult(chunk: Chunk, policy: Pick<VerificationPolicy, 'compared'>): ChunkResult {
  const result: ChunkResult = { index: chunk.index, status: chunk.state === 'ok' ? 'ok' : 'error' };
  if (chunk.state === 'ok') result.output = chunk.output;
  if (chunk.stdout) result.stdout = chunk.stdout;
  if (chunk.stderr) result.stderr = chunk.stderr;
  if (chunk.error !== undefined) result.error = chunk.error;
  if (chunk.attachments?.length) result.attachments = chunk.attachments;
  result.attempts = chunk.issued;
  result.verified = chunk.verified;
  result.agreeing = chunk.agreeing;
  const unverified = chunk.verified ? unverifiedFields(chunk, policy) : [];
  if (unverified.length) result.unverified = unverified;
  if (chunk.durationMs !== undefined) result.durationMs = chunk.durationMs;
  if (chunk.finishedAt !== undefined) result.finishedAt = new Date(chunk.finishedAt).toISOString();
  return result;
}

export function toResultDetail(replica: Replica, anonymise: (contributorId: string) => string): ResultDetail {
  const detail: ResultDetail = {
    leaseId: replica.leaseId,
    contributor: anonymise(replica.contributorId),
    attempt: replica.attempt,
    state: replica.state,
    validation: replica.verdict,
    issuedAt: new Date(replica.issuedAt).toISOString(),
  };
  if (replica.state === 'ok') detail.output = replica.output;
  for (const key of ['stdout', 'stderr', 'error', 'attachments', 'runtimeInfo', 'durationMs'] as const) {
    if (replica[key] !== undefined) (detail as unknown as Record<string, unknown>)[key] = replica[key];
  }
  if (replica.reportedAt !== undefined) detail.reportedAt = new Date(replica.reportedAt).toISOString();
  return detail;
}

export function defaultJobName(now: number): string {
  return `job ${new Date(now).toISOString().replace('T', ' ').slice(0, 19)}`;
}
