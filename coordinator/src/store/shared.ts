// Rules every Store implementation applies the same way: ids and secrets, how a lease batch is shared between
// jobs, how a reported result is checked against its lease, and how a job row becomes a JobSummary.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ErrorCode,
  errorMessage,
  type ChunkCounts,
  type ErrorInfo,
  type JobSpec,
  type JobSummary,
  type LeaseState,
  type Runtime,
} from '../../../protocol/index.js';
import { publicStatus, type StoredJobState } from '../domain/job.js';
import type { ChunkPolicy } from '../domain/chunk.js';
import type { SchedulingPolicy } from './store.js';

export function newId(prefix: string, bytes = 9): string {
  return prefix + randomBytes(bytes).toString('base64url');
}
export const newSecret = (): string => randomBytes(24).toString('base64url');

/** Contributor tokens are kept only as hashes. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The stored state of one issued lease. */
export type StoredLeaseState = 'active' | 'reported' | 'expired' | 'cancelled';

/** What a heartbeat tells the contributor about a lease it still runs. */
export function heartbeatState(state: StoredLeaseState): LeaseState {
  return state === 'reported' ? 'finished' : state;
}

export interface LeaseCheckInput {
  lease?: { token: string; state: StoredLeaseState; contributorId: string; deadline: number };
  contributorId: string;
  token: string;
  now: number;
}

/**
 * Decides what happens to a reported result before the chunk sees it: `apply`, `duplicate`, `expire` (the deadline
 * passed but no sweep ran yet: expire the lease, then reject), or a rejection.
 */
export function checkLease({ lease, contributorId, token, now }: LeaseCheckInput):
  | { action: 'apply' | 'duplicate' | 'expire' }
  | { action: 'reject'; error: ErrorInfo } {
  if (!lease || lease.contributorId !== contributorId) return reject(ErrorCode.LeaseNotFound);
  if (!sameSecret(lease.token, token)) return reject(ErrorCode.LeaseTokenInvalid);
  switch (lease.state) {
    case 'reported':
      return { action: 'duplicate' };
    case 'expired':
      return reject(ErrorCode.LeaseExpired);
    case 'cancelled':
      return reject(ErrorCode.JobCancelled);
    case 'active':
      return lease.deadline < now ? { action: 'expire' } : { action: 'apply' };
  }
}

export function reject(code: ErrorCode, detail?: string): { action: 'reject'; error: ErrorInfo } {
  return { action: 'reject', error: { code, message: errorMessage(code, detail) } };
}

/**
 * Shares `max` lease slots between jobs in round-robin order (`jobs` sorted least recently served first).
 * Each job gets an equal share; what a job cannot use passes to the jobs after it.
 * Example: max 5, jobs with 1, 10, 10 queued → [1, 2, 2].
 */
export function shareSlots(max: number, available: number[]): number[] {
  const shares = available.map(() => 0);
  let left = max;
  let open = available.map((_, i) => i);
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

export interface JobRow extends ChunkCounts {
  id: string;
  name: string;
  description?: string;
  runtime: Runtime;
  source: string;
  entry?: string;
  timeoutMs: number;
  maxAttempts: number;
  state: StoredJobState;
  error?: string;
  createdAt: number;
  finishedAt?: number;
}

export function toSummary(job: JobRow): JobSummary {
  const counts: ChunkCounts = {
    total: job.total,
    completed: job.completed,
    failed: job.failed,
    running: job.running,
    queued: job.queued,
  };
  const summary: JobSummary = {
    id: job.id,
    name: job.name,
    runtime: job.runtime,
    status: publicStatus(job.state, counts),
    ...counts,
    timeoutMs: job.timeoutMs,
    maxAttempts: job.maxAttempts,
    createdAt: new Date(job.createdAt).toISOString(),
  };
  if (job.description) summary.description = job.description;
  if (job.entry) summary.entry = job.entry;
  if (job.finishedAt !== undefined) summary.finishedAt = new Date(job.finishedAt).toISOString();
  if (job.error) summary.error = job.error;
  return summary;
}

export function toJobSpec(job: JobRow): JobSpec {
  const spec: JobSpec = { id: job.id, name: job.name, runtime: job.runtime, source: job.source, timeoutMs: job.timeoutMs };
  if (job.description) spec.description = job.description;
  if (job.entry) spec.entry = job.entry;
  return spec;
}

export function defaultJobName(now: number): string {
  return `job ${new Date(now).toISOString().replace('T', ' ').slice(0, 19)}`;
}

export function policyOf(job: Pick<JobRow, 'timeoutMs' | 'maxAttempts'>, policy: SchedulingPolicy): ChunkPolicy {
  return { timeoutMs: job.timeoutMs, maxAttempts: job.maxAttempts, retryCooldownMs: policy.retryCooldownMs };
}
