// SQLite Store (better-sqlite3, WAL): the default, durable store. Every Store operation is one SQLite transaction,
// so a coordinator killed at any instant restarts with every accepted result and every issued lease intact.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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
import { leasableBy, nextChunk, toChunkResult, type Chunk, type ChunkEvent, type ChunkState } from '../domain/chunk.js';
import { moveCount, settledState, type StoredJobState } from '../domain/job.js';
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

/*
 * Schema. Times are milliseconds since the epoch. JSON values (inputs, outputs) are stored as JSON text.
 * jobs:         one row per job, with its chunk counters kept in step by every transition (so listing is cheap).
 *   last_served orders jobs for round-robin leasing; finish_seq numbers the job's chunks in the order they finished.
 * chunks:       one row per chunk (the BOINC workunit); state queued | leased | ok | error.
 * leases:       one row per issued attempt (the BOINC result); state active | reported | expired | cancelled.
 * contributors: registered contributors; only a hash of the token is kept.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL, description TEXT, runtime TEXT NOT NULL,
  source TEXT NOT NULL, entry TEXT, timeout_ms INTEGER NOT NULL, max_attempts INTEGER NOT NULL,
  state TEXT NOT NULL, error TEXT, created_at INTEGER NOT NULL, finished_at INTEGER,
  total INTEGER NOT NULL, queued INTEGER NOT NULL, running INTEGER NOT NULL, completed INTEGER NOT NULL,
  failed INTEGER NOT NULL, last_served INTEGER NOT NULL DEFAULT 0, finish_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_seq ON jobs(seq);
CREATE INDEX IF NOT EXISTS jobs_active ON jobs(last_served) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS chunks (
  job_id TEXT NOT NULL, idx INTEGER NOT NULL, input TEXT NOT NULL, state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, lease_id TEXT, last_failed_by TEXT, retry_at INTEGER,
  output TEXT, stdout TEXT, stderr TEXT, error TEXT, duration_ms REAL, finished_at INTEGER, finish_seq INTEGER,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunks_queued ON chunks(job_id, idx) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS chunks_leased ON chunks(job_id) WHERE state = 'leased';
CREATE INDEX IF NOT EXISTS chunks_done ON chunks(job_id, idx) WHERE state IN ('ok', 'error');
CREATE INDEX IF NOT EXISTS chunks_finish_order ON chunks(job_id, finish_seq) WHERE finish_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS leases (
  id TEXT PRIMARY KEY, token TEXT NOT NULL, job_id TEXT NOT NULL, idx INTEGER NOT NULL,
  contributor_id TEXT NOT NULL, issued_at INTEGER NOT NULL, deadline INTEGER NOT NULL, state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_active ON leases(deadline) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS contributors (
  id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, agent TEXT, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL
);
`;

interface JobDbRow {
  id: string;
  seq: number;
  name: string;
  description: string | null;
  runtime: Runtime;
  source: string;
  entry: string | null;
  timeout_ms: number;
  max_attempts: number;
  state: StoredJobState;
  error: string | null;
  created_at: number;
  finished_at: number | null;
  total: number;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  last_served: number;
  finish_seq: number;
}

interface ChunkDbRow {
  idx: number;
  input: string;
  state: ChunkState;
  attempts: number;
  lease_id: string | null;
  last_failed_by: string | null;
  retry_at: number | null;
  output: string | null;
  stdout: string | null;
  stderr: string | null;
  error: string | null;
  duration_ms: number | null;
  finished_at: number | null;
  finish_seq: number | null;
}

interface LeaseDbRow {
  id: string;
  token: string;
  job_id: string;
  idx: number;
  contributor_id: string;
  deadline: number;
  state: StoredLeaseState;
}

/** A job row being changed inside one transaction. */
type LiveJob = JobRow & { lastServed: number; finishSeq: number };

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. Its directory is created when missing. */
  file: string;
  policy?: SchedulingPolicy;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly policy: SchedulingPolicy;
  private readonly sql;

  constructor({ file, policy = defaultSchedulingPolicy }: SqliteStoreOptions) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.policy = policy;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // With WAL, NORMAL loses nothing when the process dies; only an OS crash can drop the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.sql = {
      insertJob: db.prepare(`INSERT INTO jobs (id, seq, name, description, runtime, source, entry, timeout_ms, max_attempts,
        state, created_at, total, queued, running, completed, failed)
        VALUES (@id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs), @name, @description, @runtime, @source, @entry,
        @timeoutMs, @maxAttempts, 'active', @createdAt, @total, @total, 0, 0, 0)`),
      insertChunk: db.prepare(`INSERT INTO chunks (job_id, idx, input, state) VALUES (?, ?, ?, 'queued')`),
      job: db.prepare<[string], JobDbRow>(`SELECT * FROM jobs WHERE id = ?`),
      jobs: db.prepare<[number], JobDbRow>(`SELECT * FROM jobs ORDER BY seq DESC LIMIT ?`),
      updateJob: db.prepare(`UPDATE jobs SET state = @state, error = @error, finished_at = @finishedAt, queued = @queued,
        running = @running, completed = @completed, failed = @failed, last_served = @lastServed, finish_seq = @finishSeq
        WHERE id = @id`),
      maxServed: db.prepare<[], { m: number }>(`SELECT COALESCE(MAX(last_served), 0) AS m FROM jobs`),
      activeJobs: db.prepare<[], JobDbRow>(`SELECT * FROM jobs WHERE state = 'active' AND queued > 0 ORDER BY last_served`),
      chunk: db.prepare<[string, number], ChunkDbRow>(`SELECT * FROM chunks WHERE job_id = ? AND idx = ?`),
      queuedFor: db.prepare<[string, string, number, number], ChunkDbRow>(`SELECT * FROM chunks
        WHERE job_id = ? AND state = 'queued' AND (last_failed_by IS NULL OR last_failed_by <> ? OR retry_at <= ?)
        ORDER BY idx LIMIT ?`),
      leasedChunks: db.prepare<[string], ChunkDbRow>(`SELECT * FROM chunks WHERE job_id = ? AND state = 'leased'`),
      updateChunk: db.prepare(`UPDATE chunks SET state = @state, attempts = @attempts, lease_id = @leaseId,
        last_failed_by = @lastFailedBy, retry_at = @retryAt, output = @output, stdout = @stdout, stderr = @stderr,
        error = @error, duration_ms = @durationMs, finished_at = @finishedAt, finish_seq = COALESCE(@finishSeq, finish_seq)
        WHERE job_id = @jobId AND idx = @idx`),
      results: db.prepare<[string, number, number], ChunkDbRow>(`SELECT * FROM chunks
        WHERE job_id = ? AND state IN ('ok', 'error') AND idx >= ? ORDER BY idx LIMIT ?`),
      finishedSince: db.prepare<[string, number, number], ChunkDbRow>(`SELECT * FROM chunks
        WHERE job_id = ? AND finish_seq IS NOT NULL AND finish_seq > ? ORDER BY finish_seq LIMIT ?`),
      insertLease: db.prepare(`INSERT INTO leases (id, token, job_id, idx, contributor_id, issued_at, deadline, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, 'active')`),
      lease: db.prepare<[string], LeaseDbRow>(`SELECT * FROM leases WHERE id = ?`),
      setLeaseState: db.prepare(`UPDATE leases SET state = ? WHERE id = ?`),
      setLeaseDeadline: db.prepare(`UPDATE leases SET deadline = ? WHERE id = ?`),
      overdueLeases: db.prepare<[number], LeaseDbRow>(`SELECT * FROM leases WHERE state = 'active' AND deadline < ? LIMIT 1000`),
      insertContributor: db.prepare(`INSERT INTO contributors (id, token_hash, agent, created_at, last_seen) VALUES (?, ?, ?, ?, ?)`),
      contributor: db.prepare<[string], { token_hash: string }>(`SELECT token_hash FROM contributors WHERE id = ?`),
    };
  }

  async createJob(spec: NewJob, now: number): Promise<JobSummary> {
    const id = newId('j');
    this.db.transaction(() => {
      this.sql.insertJob.run({
        id,
        name: spec.name || defaultJobName(now),
        description: spec.description ?? null,
        runtime: spec.runtime,
        source: spec.source,
        entry: spec.entry ?? null,
        timeoutMs: spec.timeoutMs,
        maxAttempts: spec.maxAttempts,
        createdAt: now,
        total: spec.inputs.length,
      });
      spec.inputs.forEach((input, index) => this.sql.insertChunk.run(id, index, JSON.stringify(input ?? null)));
    })();
    return toSummary(this.loadJob(id)!);
  }

  async getJob(jobId: string): Promise<JobSummary | undefined> {
    const job = this.loadJob(jobId);
    return job && toSummary(job);
  }

  async listJobs({ limit = 200 } = {}): Promise<JobSummary[]> {
    return this.sql.jobs.all(limit).map((row) => toSummary(fromJobRow(row)));
  }

  async getJobSource(jobId: string): Promise<JobSource | undefined> {
    const job = this.loadJob(jobId);
    return job && { id: job.id, runtime: job.runtime, source: job.source, ...(job.entry ? { entry: job.entry } : {}) };
  }

  async cancelJob(jobId: string, now: number): Promise<JobSummary | undefined> {
    return this.db.transaction(() => {
      const job = this.loadJob(jobId);
      if (!job) return undefined;
      if (job.state === 'active') {
        this.stopJob(job, 'cancelled', now);
        this.saveJob(job);
      }
      return toSummary(job);
    })();
  }

  async registerContributor(info: { agent?: string }, now: number): Promise<RegisterResponse> {
    const contributorId = newId('c');
    const token = newSecret();
    this.sql.insertContributor.run(contributorId, hashToken(token), info.agent ?? null, now, now);
    return { contributorId, token };
  }

  async authenticateContributor(contributorId: string, token: string): Promise<boolean> {
    const row = this.sql.contributor.get(contributorId);
    return !!row && sameSecret(row.token_hash, hashToken(token));
  }

  async leaseChunks(contributorId: string, request: { max: number; runtimes: Runtime[] }, now: number): Promise<LeaseBatch> {
    return this.db.transaction(() => {
      const jobs = this.sql.activeJobs
        .all()
        .filter((row) => request.runtimes.includes(row.runtime))
        .map(fromJobRow);
      const shares = shareSlots(
        request.max,
        jobs.map((job) => job.queued),
      );
      const batch: LeaseBatch = { leases: [], jobs: {} };
      let served = this.sql.maxServed.get()!.m;
      jobs.forEach((job, i) => {
        if (shares[i] === 0) return;
        const rows = this.sql.queuedFor.all(job.id, contributorId, now, shares[i]);
        if (rows.length === 0) return;
        const deadline = now + job.timeoutMs + this.policy.leaseGraceMs;
        for (const row of rows) {
          const leaseId = newId('l');
          const token = newSecret();
          this.sql.insertLease.run(leaseId, token, job.id, row.idx, contributorId, now, deadline);
          const chunk = this.apply(job, fromChunkRow(row), { type: 'leased', leaseId }, now);
          batch.leases.push({
            leaseId,
            leaseToken: token,
            jobId: job.id,
            chunkIndex: row.idx,
            input: JSON.parse(row.input),
            deadline: new Date(deadline).toISOString(),
            attempt: chunk.attempts,
          });
        }
        job.lastServed = ++served;
        this.saveJob(job);
        batch.jobs[job.id] = toJobSpec(job);
      });
      return batch;
    })();
  }

  async heartbeat(contributorId: string, refs: LeaseRef[], now: number): Promise<HeartbeatResponse['leases']> {
    return this.db.transaction(() =>
      refs.map(({ leaseId, leaseToken }) => {
        const lease = this.sql.lease.get(leaseId);
        if (!lease || lease.contributor_id !== contributorId || !sameSecret(lease.token, leaseToken)) {
          return { leaseId, state: 'unknown' as const };
        }
        if (lease.state === 'active' && lease.deadline < now) {
          this.expire(lease, now);
          return { leaseId, state: 'expired' as const };
        }
        if (lease.state !== 'active') return { leaseId, state: heartbeatState(lease.state) };
        const deadline = Math.max(lease.deadline, now + this.policy.leaseGraceMs);
        this.sql.setLeaseDeadline.run(deadline, leaseId);
        return { leaseId, state: 'active' as const, deadline: new Date(deadline).toISOString() };
      }),
    )();
  }

  async reportResults(contributorId: string, reports: ResultReport[], now: number): Promise<ReportOutcome[]> {
    return this.db.transaction(() =>
      reports.map((report): ReportOutcome => {
        const row = this.sql.lease.get(report.leaseId);
        const lease = row && { token: row.token, state: row.state, contributorId: row.contributor_id, deadline: row.deadline };
        const check = checkLease({ lease, contributorId, token: report.leaseToken, now });
        if (check.action === 'expire') {
          this.expire(row!, now);
          return { leaseId: report.leaseId, outcome: 'rejected', error: reject(ErrorCode.LeaseExpired).error };
        }
        if (check.action === 'reject') return { leaseId: report.leaseId, outcome: 'rejected', error: check.error };
        if (check.action === 'duplicate') return { leaseId: report.leaseId, outcome: 'duplicate' };
        this.sql.setLeaseState.run('reported', row!.id);
        const job = this.loadJob(row!.job_id)!;
        const chunk = fromChunkRow(this.sql.chunk.get(row!.job_id, row!.idx)!);
        const failJob = this.applyWithEffects(job, chunk, { type: 'reported', report, contributorId }, now);
        if (failJob) this.stopJob(job, 'failed', now, failJob);
        this.saveJob(job);
        return { leaseId: report.leaseId, outcome: 'accepted' };
      }),
    )();
  }

  async expireLeases(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const count = this.db.transaction(() => {
        const overdue = this.sql.overdueLeases.all(now);
        for (const lease of overdue) this.expire(lease, now);
        return overdue.length;
      })();
      total += count;
      if (count < 1000) return total;
    }
  }

  async listResults(jobId: string, { offset, limit }: { offset: number; limit: number }): Promise<ChunkResult[]> {
    return this.sql.results.all(jobId, Math.max(0, offset), limit).map((row) => toChunkResult(fromChunkRow(row)));
  }

  async finishedSince(jobId: string, cursor: number, limit: number): Promise<{ results: ChunkResult[]; cursor: number }> {
    const rows = this.sql.finishedSince.all(jobId, cursor, limit);
    return {
      results: rows.map((row) => toChunkResult(fromChunkRow(row))),
      cursor: rows.length ? rows[rows.length - 1].finish_seq! : cursor,
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private loadJob(jobId: string): LiveJob | undefined {
    const row = this.sql.job.get(jobId);
    return row && fromJobRow(row);
  }

  private saveJob(job: LiveJob): void {
    this.sql.updateJob.run({
      id: job.id,
      state: job.state,
      error: job.error ?? null,
      finishedAt: job.finishedAt ?? null,
      queued: job.queued,
      running: job.running,
      completed: job.completed,
      failed: job.failed,
      lastServed: job.lastServed,
      finishSeq: job.finishSeq,
    });
  }

  /** Expires one overdue lease: its chunk goes back to the queue or fails. Must run inside a transaction. */
  private expire(lease: LeaseDbRow, now: number): void {
    this.sql.setLeaseState.run('expired', lease.id);
    const job = this.loadJob(lease.job_id)!;
    const chunk = fromChunkRow(this.sql.chunk.get(lease.job_id, lease.idx)!);
    this.applyWithEffects(job, chunk, { type: 'expired', contributorId: lease.contributor_id }, now);
    this.saveJob(job);
  }

  private applyWithEffects(job: LiveJob, chunk: Chunk, event: ChunkEvent, now: number): string | undefined {
    const transition = nextChunk(chunk, event, policyOf(job, this.policy), now);
    this.write(job, chunk, transition.chunk, now);
    return transition.failJob;
  }

  private apply(job: LiveJob, chunk: Chunk, event: ChunkEvent, now: number): Chunk {
    const after = nextChunk(chunk, event, policyOf(job, this.policy), now).chunk;
    this.write(job, chunk, after, now);
    return after;
  }

  /** Writes a chunk's new state and moves the job's counters (and settles the job when its last chunk finished). */
  private write(job: LiveJob, before: Chunk, after: Chunk, now: number): void {
    let finishSeq: number | null = null;
    moveCount(job, before.state, after.state);
    if ((after.state === 'ok' || after.state === 'error') && before.state !== after.state) {
      finishSeq = ++job.finishSeq;
      if (job.state === 'active') {
        const settled = settledState(job);
        if (settled) {
          job.state = settled;
          job.finishedAt = now;
        }
      }
    }
    this.sql.updateChunk.run({
      jobId: job.id,
      idx: after.index,
      state: after.state,
      attempts: after.attempts,
      leaseId: after.leaseId ?? null,
      lastFailedBy: after.lastFailedBy ?? null,
      retryAt: after.retryAt ?? null,
      output: after.state === 'ok' ? JSON.stringify(after.output ?? null) : null,
      stdout: after.stdout ?? null,
      stderr: after.stderr ?? null,
      error: after.error ?? null,
      durationMs: after.durationMs ?? null,
      finishedAt: after.finishedAt ?? null,
      finishSeq,
    });
  }

  private stopJob(job: LiveJob, state: 'cancelled' | 'failed', now: number, error?: string): void {
    job.state = state;
    job.finishedAt = now;
    if (error) job.error = error;
    for (const row of this.sql.leasedChunks.all(job.id)) {
      this.sql.setLeaseState.run('cancelled', row.lease_id);
      this.apply(job, fromChunkRow(row), { type: 'released' }, now);
    }
  }
}

function fromJobRow(row: JobDbRow): LiveJob {
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? undefined,
    runtime: row.runtime,
    source: row.source,
    entry: row.entry ?? undefined,
    timeoutMs: row.timeout_ms,
    maxAttempts: row.max_attempts,
    state: row.state,
    error: row.error ?? undefined,
    createdAt: row.created_at,
    finishedAt: row.finished_at ?? undefined,
    total: row.total,
    queued: row.queued,
    running: row.running,
    completed: row.completed,
    failed: row.failed,
    lastServed: row.last_served,
    finishSeq: row.finish_seq,
  };
}

function fromChunkRow(row: ChunkDbRow): Chunk {
  const chunk: Chunk = { index: row.idx, state: row.state, attempts: row.attempts };
  if (row.lease_id) chunk.leaseId = row.lease_id;
  if (row.last_failed_by) chunk.lastFailedBy = row.last_failed_by;
  if (row.retry_at !== null) chunk.retryAt = row.retry_at;
  if (row.output !== null) chunk.output = JSON.parse(row.output);
  if (row.stdout !== null) chunk.stdout = row.stdout;
  if (row.stderr !== null) chunk.stderr = row.stderr;
  if (row.error !== null) chunk.error = row.error;
  if (row.duration_ms !== null) chunk.durationMs = row.duration_ms;
  if (row.finished_at !== null) chunk.finishedAt = row.finished_at;
  return chunk;
}
