// In-memory Store: everything in Maps, lost on exit. For tests and `--store memory` throwaway runs.
import {
  ErrorCode,
  type ChunkResult,
  type HeartbeatResponse,
  type JobSource,
  type JobSummary,
  type Lease,
  type LeaseRef,
  type RegisterResponse,
  type ReportOutcome,
  type ResultReport,
  type Runtime,
} from '../../../protocol/index.js';
import { leasableBy, nextChunk, toChunkResult, type Chunk, type ChunkEvent } from '../domain/chunk.js';
import { moveCount, settledState } from '../domain/job.js';
import {
  checkLease,
  defaultJobName,
  hashToken,
  heartbeatState,
  newId,
  newSecret,
  policyOf,
  reject,
  sameSecret,
  shareSlots,
  toJobSpec,
  toSummary,
  type JobRow,
  type StoredLeaseState,
} from './shared.js';
import { defaultSchedulingPolicy, type LeaseBatch, type NewJob, type SchedulingPolicy, type Store } from './store.js';

interface MemoryJob extends JobRow {
  chunks: Chunk[];
  inputs: unknown[];
  /** Chunks never leased yet are `nextFresh..total-1`; chunks back in the queue are in `requeued`, sorted. */
  nextFresh: number;
  requeued: number[];
  lastServed: number;
  /** Chunk indices in the order they finished. */
  finishLog: number[];
}

interface MemoryLease {
  id: string;
  token: string;
  jobId: string;
  index: number;
  contributorId: string;
  deadline: number;
  state: StoredLeaseState;
}

export class MemoryStore implements Store {
  private readonly jobs = new Map<string, MemoryJob>();
  private readonly leases = new Map<string, MemoryLease>();
  private readonly activeLeases = new Set<string>();
  private readonly contributors = new Map<string, { tokenHash: string }>();
  private serveCounter = 0;

  constructor(private readonly policy: SchedulingPolicy = defaultSchedulingPolicy) {}

  async createJob(spec: NewJob, now: number): Promise<JobSummary> {
    const total = spec.inputs.length;
    const job: MemoryJob = {
      id: newId('j'),
      name: spec.name || defaultJobName(now),
      description: spec.description,
      runtime: spec.runtime,
      source: spec.source,
      entry: spec.entry,
      timeoutMs: spec.timeoutMs,
      maxAttempts: spec.maxAttempts,
      state: 'active',
      createdAt: now,
      total,
      queued: total,
      running: 0,
      completed: 0,
      failed: 0,
      chunks: spec.inputs.map((_, index) => ({ index, state: 'queued', attempts: 0 })),
      inputs: spec.inputs,
      nextFresh: 0,
      requeued: [],
      lastServed: 0,
      finishLog: [],
    };
    this.jobs.set(job.id, job);
    return toSummary(job);
  }

  async getJob(jobId: string): Promise<JobSummary | undefined> {
    const job = this.jobs.get(jobId);
    return job && toSummary(job);
  }

  async listJobs({ limit = 200 } = {}): Promise<JobSummary[]> {
    return [...this.jobs.values()].reverse().slice(0, limit).map(toSummary);
  }

  async getJobSource(jobId: string): Promise<JobSource | undefined> {
    const job = this.jobs.get(jobId);
    return job && { id: job.id, runtime: job.runtime, source: job.source, ...(job.entry ? { entry: job.entry } : {}) };
  }

  async cancelJob(jobId: string, now: number): Promise<JobSummary | undefined> {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    if (job.state === 'active') this.stopJob(job, 'cancelled', now);
    return toSummary(job);
  }

  async registerContributor(_info: { agent?: string }, _now: number): Promise<RegisterResponse> {
    const contributorId = newId('c');
    const token = newSecret();
    this.contributors.set(contributorId, { tokenHash: hashToken(token) });
    return { contributorId, token };
  }

  async authenticateContributor(contributorId: string, token: string): Promise<boolean> {
    const known = this.contributors.get(contributorId);
    return !!known && sameSecret(known.tokenHash, hashToken(token));
  }

  async leaseChunks(contributorId: string, request: { max: number; runtimes: Runtime[] }, now: number): Promise<LeaseBatch> {
    const candidates = [...this.jobs.values()]
      .filter((job) => job.state === 'active' && job.queued > 0 && request.runtimes.includes(job.runtime))
      .sort((a, b) => a.lastServed - b.lastServed);
    const shares = shareSlots(
      request.max,
      candidates.map((job) => job.queued),
    );
    const batch: LeaseBatch = { leases: [], jobs: {} };
    candidates.forEach((job, i) => {
      const picked = this.pickQueued(job, contributorId, shares[i], now);
      if (picked.length === 0) return;
      job.lastServed = ++this.serveCounter;
      batch.jobs[job.id] = toJobSpec(job);
      for (const index of picked) batch.leases.push(this.issueLease(job, index, contributorId, now));
    });
    return batch;
  }

  async heartbeat(contributorId: string, refs: LeaseRef[], now: number): Promise<HeartbeatResponse['leases']> {
    return refs.map(({ leaseId, leaseToken }) => {
      const lease = this.leases.get(leaseId);
      if (!lease || lease.contributorId !== contributorId || !sameSecret(lease.token, leaseToken)) {
        return { leaseId, state: 'unknown' as const };
      }
      if (lease.state === 'active' && lease.deadline < now) this.expire(lease, now);
      if (lease.state !== 'active') return { leaseId, state: heartbeatState(lease.state) };
      lease.deadline = Math.max(lease.deadline, now + this.policy.leaseGraceMs);
      return { leaseId, state: 'active' as const, deadline: new Date(lease.deadline).toISOString() };
    });
  }

  async reportResults(contributorId: string, reports: ResultReport[], now: number): Promise<ReportOutcome[]> {
    return reports.map((report) => {
      const lease = this.leases.get(report.leaseId);
      const check = checkLease({ lease, contributorId, token: report.leaseToken, now });
      if (check.action === 'expire') {
        this.expire(lease!, now);
        return { leaseId: report.leaseId, outcome: 'rejected', error: reject(ErrorCode.LeaseExpired).error };
      }
      if (check.action === 'reject') return { leaseId: report.leaseId, outcome: 'rejected', error: check.error };
      if (check.action === 'duplicate') return { leaseId: report.leaseId, outcome: 'duplicate' };
      const job = this.jobs.get(lease!.jobId)!;
      this.closeLease(lease!, 'reported');
      const transition = this.transition(job, lease!.index, { type: 'reported', report, contributorId }, now);
      if (transition.failJob) this.stopJob(job, 'failed', now, transition.failJob);
      return { leaseId: report.leaseId, outcome: 'accepted' };
    }) as ReportOutcome[];
  }

  async expireLeases(now: number): Promise<number> {
    let count = 0;
    for (const id of [...this.activeLeases]) {
      const lease = this.leases.get(id)!;
      if (lease.deadline < now) {
        this.expire(lease, now);
        count++;
      }
    }
    return count;
  }

  async listResults(jobId: string, { offset, limit }: { offset: number; limit: number }): Promise<ChunkResult[]> {
    const job = this.jobs.get(jobId);
    if (!job) return [];
    const out: ChunkResult[] = [];
    for (let i = Math.max(0, offset); i < job.chunks.length && out.length < limit; i++) {
      const chunk = job.chunks[i];
      if (chunk.state === 'ok' || chunk.state === 'error') out.push(toChunkResult(chunk));
    }
    return out;
  }

  async finishedSince(jobId: string, cursor: number, limit: number): Promise<{ results: ChunkResult[]; cursor: number }> {
    const job = this.jobs.get(jobId);
    if (!job) return { results: [], cursor };
    const slice = job.finishLog.slice(cursor, cursor + limit);
    return { results: slice.map((i) => toChunkResult(job.chunks[i])), cursor: cursor + slice.length };
  }

  async close(): Promise<void> {}

  private pickQueued(job: MemoryJob, contributorId: string, want: number, now: number): number[] {
    const picked: number[] = [];
    for (let i = 0; i < job.requeued.length && picked.length < want; ) {
      const index = job.requeued[i];
      if (leasableBy(job.chunks[index], contributorId, now)) {
        picked.push(index);
        job.requeued.splice(i, 1);
      } else i++;
    }
    while (picked.length < want && job.nextFresh < job.total) picked.push(job.nextFresh++);
    return picked;
  }

  private issueLease(job: MemoryJob, index: number, contributorId: string, now: number): Lease {
    const lease: MemoryLease = {
      id: newId('l'),
      token: newSecret(),
      jobId: job.id,
      index,
      contributorId,
      deadline: now + job.timeoutMs + this.policy.leaseGraceMs,
      state: 'active',
    };
    this.leases.set(lease.id, lease);
    this.activeLeases.add(lease.id);
    const { chunk } = this.transition(job, index, { type: 'leased', leaseId: lease.id }, now);
    return {
      leaseId: lease.id,
      leaseToken: lease.token,
      jobId: job.id,
      chunkIndex: index,
      input: job.inputs[index],
      deadline: new Date(lease.deadline).toISOString(),
      attempt: chunk.attempts,
    };
  }

  private expire(lease: MemoryLease, now: number): void {
    this.closeLease(lease, 'expired');
    const job = this.jobs.get(lease.jobId)!;
    this.transition(job, lease.index, { type: 'expired', contributorId: lease.contributorId }, now);
  }

  private closeLease(lease: MemoryLease, state: StoredLeaseState): void {
    lease.state = state;
    this.activeLeases.delete(lease.id);
  }

  /** Applies one chunk event and keeps counters, queue and finish log in step. */
  private transition(job: MemoryJob, index: number, event: ChunkEvent, now: number) {
    const before = job.chunks[index];
    const result = nextChunk(before, event, policyOf(job, this.policy), now);
    const after = result.chunk;
    job.chunks[index] = after;
    moveCount(job, before.state, after.state);
    if (after.state === 'queued' && before.state !== 'queued') insertSorted(job.requeued, index);
    if ((after.state === 'ok' || after.state === 'error') && before.state !== after.state) {
      job.finishLog.push(index);
      if (job.state === 'active') {
        const settled = settledState(job);
        if (settled) {
          job.state = settled;
          job.finishedAt = now;
        }
      }
    }
    return result;
  }

  private stopJob(job: MemoryJob, state: 'cancelled' | 'failed', now: number, error?: string): void {
    job.state = state;
    job.finishedAt = now;
    if (error) job.error = error;
    for (const chunk of job.chunks) {
      if (chunk.state !== 'leased') continue;
      const lease = this.leases.get(chunk.leaseId!)!;
      this.closeLease(lease, 'cancelled');
      this.transition(job, chunk.index, { type: 'released' }, now);
    }
  }
}

function insertSorted(list: number[], value: number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, value);
}
