// SQLite Store (better-sqlite3, WAL): the default, durable store. Every Store operation is one SQLite transaction,
// so a coordinator killed at any instant restarts with every accepted result and every issued lease intact.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Runtime, RuntimeFields } from '../../../protocol/index.js';
import type { Chunk, ChunkState, Replica } from '../domain/chunk.js';
import type { Quota, QuotaUsage } from '../domain/quota.js';
import type { Trust } from '../domain/trust.js';
import { EngineStore, type ReplicaRecord, type Repo, type StoredCheckpoint } from './engine.js';
import { newSecret, type JobRecord } from './shared.js';
import type { JobCounters } from '../domain/job.js';
import { defaultSchedulingPolicy, type ApiKey, type SchedulingPolicy } from './store.js';

const SCHEMA_VERSION = 8;

/**
 * Upgrades from older schema versions, keyed by the version they upgrade from; each step runs in one transaction,
 * before SCHEMA creates whatever tables are new. 3 → 4: jobs gain the private flag (existing jobs stay public);
 * the api_keys table is new. 4 → 5: a job's runtime fields move to job_fields (the lease path rewrites the jobs row
 * and must not carry megabytes of source), its entry stays beside the counters. 5 → 6: `running` counts every chunk
 * started and not settled, not only those with a replica computing now (domain/job.ts chunkCounter): recounted.
 * 6 → 7: leases gain publish_at (a lone decision is published after a delay; domain/chunk.ts Replica.publishAt).
 * 7 → 8: jobs gain requires (domain/requirements.ts; NULL for older jobs: they require nothing); the checkpoints
 * table is new (created by SCHEMA).
 */
const MIGRATIONS: Record<number, string> = {
  3: `ALTER TABLE jobs ADD COLUMN private INTEGER NOT NULL DEFAULT 0;`,
  4: `CREATE TABLE job_fields (job_id TEXT PRIMARY KEY, fields TEXT NOT NULL);
      INSERT INTO job_fields (job_id, fields) SELECT id, fields FROM jobs;
      ALTER TABLE jobs ADD COLUMN entry TEXT;
      UPDATE jobs SET entry = json_extract(fields, '$.entry');
      ALTER TABLE jobs DROP COLUMN fields;`,
  5: `UPDATE jobs SET
        running = (SELECT count(*) FROM chunks WHERE job_id = jobs.id AND state = 'open' AND issued > 0),
        queued = (SELECT count(*) FROM chunks WHERE job_id = jobs.id AND state = 'open' AND issued = 0);`,
  6: `ALTER TABLE leases ADD COLUMN publish_at INTEGER;`,
  7: `ALTER TABLE jobs ADD COLUMN requires TEXT;`,
};

/*
 * Schema. Times are milliseconds since the epoch; JSON values (inputs, outputs, runtime fields, policies) are JSON
 * text.
 * jobs:         one row per job: ids, settings and counters, small enough to read and rewrite on every lease. Its
 *               settings (requires among them: what a contributor must have, JSON) are read once per process. Its
 *               counters (chunks by progress, results by verdict, replicas wanted) move with every transition, so
 *               listing jobs reads no chunk. last_served orders round-robin leasing; finish_seq numbers the job's
 *               chunks in the order they finished.
 * job_fields:   the runtime fields of a job as submitted (source, packages, model: up to megabytes), written once.
 *               Apart from jobs so that an UPDATE of the counters does not rewrite them and leasing never reads
 *               them; only building a contributor's JobSpec (once per contributor and job) and the source API do.
 * chunks:       one row per chunk (BOINC's workunit): state open | ok | error, how many replicas it wants now, and
 *               once settled the canonical result's output.
 * leases:       one row per issued replica (BOINC's result): state running | ok | error | expired | released | cancelled,
 *               verdict pending | valid | invalid | inconclusive, its token, deadline and reported result.
 * contributors: registered contributors; only a hash of the token is kept.
 * trust:        per contributor and runtime, for adaptive replication and quarantine; validated_at drives decay.
 * api_keys:     submitters' API keys (npm run keys): only a hash of the secret; the id owns the key's jobs.
 * key_quotas:   a key's own quotas (npm run keys -- set-quota): one column per quota, NULL = the coordinator's
 *               default, 0 = no limit; no row = every quota at the default.
 * blobs:        who stored each blob first (the owner charged for its bytes) and its size; the bytes are on disk.
 *               Blobs stored before this table existed have no row and count against nobody.
 * checkpoints:  per chunk, the latest checkpoint a running lease uploaded (files: JSON [{name, blob, size}]) and the
 *               contributor that uploaded it; deleted when the chunk settles or its job ends.
 * secrets:      per-coordinator secrets made once and kept across restarts (the key anonymising contributor ids).
 * active_jobs:  unfinished jobs per owner, kept by two triggers on jobs that write only when a job enters or leaves
 *               'active' (an index on jobs.state would be rewritten by every counter update on the lease path);
 *               recounted from jobs on open.
 * Quota usage: unfinished jobs from active_jobs, chunks of the last day by jobs_by_owner (sum of total), blob bytes
 * by blobs_by_owner. key_quotas, blobs, active_jobs, its triggers and these indexes came without a schema version
 * step: they are new tables, triggers and indexes, created on open, that older code ignores (and whose counts the
 * recount on open repairs).
 * Adaptive replication: chunks.known holds a known-answer chunk's answer (never shown); leases.network is the
 * lessee's /24 or /48; leases.decided_alone marks a result accepted alone, re-opened if its contributor is caught;
 * leases.publish_at holds a lone decision back until its publication time (NULL once published, or never held).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL, description TEXT, runtime TEXT NOT NULL,
  entry TEXT, timeout_ms INTEGER NOT NULL, max_attempts INTEGER NOT NULL, policy TEXT NOT NULL,
  owner TEXT, private INTEGER NOT NULL DEFAULT 0, requires TEXT, state TEXT NOT NULL, error TEXT, created_at INTEGER NOT NULL, finished_at INTEGER,
  total INTEGER NOT NULL, queued INTEGER NOT NULL, running INTEGER NOT NULL, completed INTEGER NOT NULL,
  failed INTEGER NOT NULL, verified INTEGER NOT NULL, results_issued INTEGER NOT NULL, valid INTEGER NOT NULL,
  invalid INTEGER NOT NULL, inconclusive INTEGER NOT NULL, wanted INTEGER NOT NULL,
  last_served INTEGER NOT NULL DEFAULT 0, finish_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_seq ON jobs(seq);
CREATE INDEX IF NOT EXISTS jobs_servable ON jobs(last_served) WHERE state = 'active' AND wanted > 0;
CREATE TABLE IF NOT EXISTS job_fields (job_id TEXT PRIMARY KEY, fields TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
  job_id TEXT NOT NULL, idx INTEGER NOT NULL, input TEXT NOT NULL, state TEXT NOT NULL,
  wanted INTEGER NOT NULL, issued INTEGER NOT NULL DEFAULT 0, running INTEGER NOT NULL DEFAULT 0,
  canonical TEXT, verified INTEGER NOT NULL DEFAULT 0, agreeing INTEGER NOT NULL DEFAULT 0,
  output TEXT, stdout TEXT, stderr TEXT, error TEXT, attachments TEXT, duration_ms REAL,
  finished_at INTEGER, finish_seq INTEGER, last_failed_by TEXT, retry_at INTEGER, known TEXT,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunks_fresh ON chunks(job_id, idx) WHERE state = 'open' AND wanted > 0 AND issued = 0;
CREATE INDEX IF NOT EXISTS chunks_partial ON chunks(job_id, idx) WHERE state = 'open' AND wanted > 0 AND issued > 0;
CREATE INDEX IF NOT EXISTS chunks_done ON chunks(job_id, idx) WHERE state <> 'open';
CREATE INDEX IF NOT EXISTS chunks_finish_order ON chunks(job_id, finish_seq) WHERE finish_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS leases (
  id TEXT PRIMARY KEY, token TEXT NOT NULL, job_id TEXT NOT NULL, idx INTEGER NOT NULL,
  contributor_id TEXT NOT NULL, attempt INTEGER NOT NULL, state TEXT NOT NULL, verdict TEXT NOT NULL,
  stand_alone INTEGER NOT NULL, issued_at INTEGER NOT NULL, deadline INTEGER NOT NULL, reported_at INTEGER,
  output TEXT, stdout TEXT, stderr TEXT, error TEXT, failure TEXT, attachments TEXT, runtime_info TEXT, duration_ms REAL,
  network TEXT, decided_alone INTEGER NOT NULL DEFAULT 0, publish_at INTEGER
);
CREATE INDEX IF NOT EXISTS leases_held ON leases(publish_at) WHERE publish_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS leases_decided_alone ON leases(contributor_id) WHERE decided_alone = 1;
CREATE INDEX IF NOT EXISTS leases_by_chunk ON leases(job_id, idx);
CREATE INDEX IF NOT EXISTS leases_running ON leases(deadline) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS leases_running_by_job ON leases(job_id) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS leases_running_by_contributor ON leases(contributor_id) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, admin INTEGER NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS key_quotas (
  key_id TEXT PRIMARY KEY, jobs INTEGER, chunks_per_day INTEGER, blob_bytes INTEGER
);
CREATE TABLE IF NOT EXISTS blobs (name TEXT PRIMARY KEY, size INTEGER NOT NULL, owner TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_by_owner ON blobs(owner, size);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs(owner, created_at, total);
CREATE TABLE IF NOT EXISTS active_jobs (owner TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS active_jobs_on_insert AFTER INSERT ON jobs WHEN NEW.state = 'active' AND NEW.owner IS NOT NULL
BEGIN
  INSERT INTO active_jobs (owner, n) VALUES (NEW.owner, 1) ON CONFLICT (owner) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS active_jobs_on_state AFTER UPDATE OF state ON jobs
  WHEN NEW.owner IS NOT NULL AND (OLD.state = 'active') <> (NEW.state = 'active')
BEGIN
  INSERT INTO active_jobs (owner, n) VALUES (NEW.owner, CASE WHEN NEW.state = 'active' THEN 1 ELSE -1 END)
    ON CONFLICT (owner) DO UPDATE SET n = n + excluded.n;
END;
CREATE TABLE IF NOT EXISTS contributors (
  id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, agent TEXT, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  job_id TEXT NOT NULL, idx INTEGER NOT NULL, contributor_id TEXT NOT NULL, files TEXT NOT NULL, saved_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trust (
  contributor_id TEXT NOT NULL, runtime TEXT NOT NULL, consecutive_valid INTEGER NOT NULL, recent TEXT NOT NULL,
  validated_at INTEGER,
  PRIMARY KEY (contributor_id, runtime)
) WITHOUT ROWID;
`;

type Row = Record<string, any>;

// Every LIMIT takes its bound value as `+?`, never a bare `?`: SQLite (3.53, as bundled) re-prepares a statement whose
// bare LIMIT parameter is bound anew, on every call; the leasing queries cost 5-30x more that way (bench/hotpath.ts).

/**
 * A job's settings never change after submission; they are read once per process and kept (`JobSettings`). Lease,
 * report and list queries read only the columns that move: ids, state and counters. Sound with several processes on
 * one file too, since nothing kept can go stale.
 */
const SETTING_COLUMNS = `id, name, description, runtime, entry, timeout_ms, max_attempts, policy, requires, owner, private, created_at`;
const COUNTER_COLUMNS = `id, state, error, finished_at, total, queued, running, completed, failed, verified, results_issued,
  valid, invalid, inconclusive, wanted, last_served, finish_seq`;
/**
 * What leasing reads of an open chunk: never its result columns, which an open chunk does not have (settle writes
 * them only when the chunk finishes, reopen clears them). The input comes along so a lease needs no second read.
 */
const OPEN_CHUNK_COLUMNS = `idx, input, state, wanted, issued, running, verified, agreeing, last_failed_by, retry_at, known`;

/** The part of a JobRecord fixed at submission. */
type JobSettings = Omit<JobRecord, keyof JobCounters | 'state' | 'error' | 'finishedAt' | 'lastServed' | 'finishSeq'>;

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
const parse = (text: string | null) => (text === null ? undefined : JSON.parse(text));

class SqliteRepo implements Repo {
  private readonly db: Database.Database;
  private readonly sql;
  /** Inputs read along with chunks during the current operation, so a lease needs no second read. */
  private readonly inputs = new Map<string, string>();
  /** Each job's settings, read once: they never change (see SETTING_COLUMNS). */
  private readonly settings = new Map<string, JobSettings>();

  constructor(file: string, sweep: boolean) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // With WAL, NORMAL loses nothing when the process dies; only an OS crash can drop the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const hasTables = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'jobs'`).get();
    if (hasTables) this.migrate(version);
    const upgraded = this.db.pragma('user_version', { simple: true }) as number;
    if (hasTables && upgraded !== SCHEMA_VERSION) {
      this.db.close();
      throw new Error(`${file} was written by another version of idle-sense (schema ${version}, expected ${SCHEMA_VERSION}); move it away or use another --data-dir`);
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    // Chunks of a job whose creation was interrupted (the job row is written last) are unreachable: drop them.
    // Not when another process (npm run keys) opens the database of a running coordinator: the chunks of a job it is
    // still writing have no job row yet either.
    if (sweep) this.db.exec(`DELETE FROM chunks WHERE job_id NOT IN (SELECT id FROM jobs)`);
    // Unfinished jobs per owner are counted by triggers; recounted here so that jobs written before the triggers
    // existed (or by an older coordinator) count too. Same transaction: a concurrent writer sees old or new counts.
    if (sweep) {
      this.db.transaction(() => {
        this.db.exec(`DELETE FROM active_jobs;
          INSERT INTO active_jobs (owner, n) SELECT owner, count(*) FROM jobs WHERE state = 'active' AND owner IS NOT NULL GROUP BY owner;`);
      })();
    }
    const db = this.db;
    this.sql = {
      insertJob: db.prepare(`INSERT INTO jobs (id, seq, name, description, runtime, entry, timeout_ms, max_attempts,
        policy, requires, owner, private, state, created_at, total, queued, running, completed, failed, verified, results_issued, valid,
        invalid, inconclusive, wanted) VALUES (@id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs), @name, @description,
        @runtime, @entry, @timeoutMs, @maxAttempts, @policy, @requires, @owner, @private, @state, @createdAt, @total, @queued, @running,
        @completed, @failed, @verified, @resultsIssued, @valid, @invalid, @inconclusive, @wanted)`),
      insertChunk: db.prepare(`INSERT INTO chunks (job_id, idx, input, state, wanted, known) VALUES (?, ?, ?, 'open', ?, ?)`),
      insertFields: db.prepare(`INSERT INTO job_fields (job_id, fields) VALUES (?, ?)`),
      job: db.prepare(`SELECT ${COUNTER_COLUMNS} FROM jobs WHERE id = ?`),
      settings: db.prepare(`SELECT ${SETTING_COLUMNS} FROM jobs WHERE id = ?`),
      jobFields: db.prepare(`SELECT fields FROM job_fields WHERE job_id = ?`),
      jobs: db.prepare(`SELECT ${COUNTER_COLUMNS} FROM jobs ORDER BY seq DESC LIMIT +?`),
      saveJob: db.prepare(`UPDATE jobs SET state = @state, error = @error, finished_at = @finishedAt, queued = @queued,
        running = @running, completed = @completed, failed = @failed, verified = @verified,
        results_issued = @resultsIssued, valid = @valid, invalid = @invalid, inconclusive = @inconclusive,
        wanted = @wanted, last_served = @lastServed, finish_seq = @finishSeq WHERE id = @id`),
      servable: db.prepare(`SELECT ${COUNTER_COLUMNS} FROM jobs INDEXED BY jobs_servable WHERE state = 'active' AND wanted > 0 ORDER BY last_served`),
      maxServed: db.prepare(`SELECT COALESCE(MAX(last_served), 0) AS m FROM jobs`),
      chunk: db.prepare(`SELECT * FROM chunks WHERE job_id = ? AND idx = ?`),
      input: db.prepare(`SELECT input FROM chunks WHERE job_id = ? AND idx = ?`),
      saveChunk: db.prepare(`UPDATE chunks SET state = @state, wanted = @wanted, issued = @issued, running = @running,
        canonical = @canonical, verified = @verified, agreeing = @agreeing, output = @output, stdout = @stdout,
        stderr = @stderr, error = @error, attachments = @attachments, duration_ms = @durationMs,
        finished_at = @finishedAt, finish_seq = CASE WHEN @clearSeq THEN NULL ELSE COALESCE(@finishSeq, finish_seq) END,
        last_failed_by = @lastFailedBy,
        retry_at = @retryAt WHERE job_id = @jobId AND idx = @idx`),
      partialFor: db.prepare(`SELECT ${OPEN_CHUNK_COLUMNS.replace(/(\w+)/g, 'c.$1')} FROM chunks c INDEXED BY chunks_partial
        WHERE c.job_id = ? AND c.state = 'open' AND c.wanted > 0 AND c.issued > 0
          AND (c.last_failed_by IS NULL OR c.last_failed_by <> ? OR c.retry_at <= ?)
          AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.job_id = c.job_id AND l.idx = c.idx
                          AND l.contributor_id = ? AND l.state IN ('running', 'ok'))
        ORDER BY c.idx LIMIT +?`),
      fresh: db.prepare(`SELECT ${OPEN_CHUNK_COLUMNS} FROM chunks INDEXED BY chunks_fresh
        WHERE job_id = ? AND state = 'open' AND wanted > 0 AND issued = 0 ORDER BY idx LIMIT +?`),
      wantedSum: db.prepare(`SELECT COALESCE(SUM(wanted), 0) AS s FROM chunks WHERE job_id = ? AND state = 'open'`),
      clearWanted: db.prepare(`UPDATE chunks SET wanted = 0 WHERE job_id = ? AND state = 'open' AND wanted > 0`),
      replicas: db.prepare(`SELECT * FROM leases WHERE job_id = ? AND idx = ? ORDER BY attempt`),
      replica: db.prepare(`SELECT * FROM leases WHERE id = ?`),
      withSiblings: db.prepare(`SELECT s.* FROM leases l JOIN leases s INDEXED BY leases_by_chunk
        ON s.job_id = l.job_id AND s.idx = l.idx WHERE l.id = ? ORDER BY s.attempt`),
      insertReplica: db.prepare(`INSERT INTO leases (id, token, job_id, idx, contributor_id, attempt, state, verdict,
        stand_alone, issued_at, deadline, network) VALUES (@leaseId, @token, @jobId, @index, @contributorId, @attempt,
        @state, @verdict, @standAlone, @issuedAt, @deadline, @network)`),
      saveReplica: db.prepare(`UPDATE leases SET state = @state, verdict = @verdict, deadline = @deadline,
        stand_alone = @standAlone, decided_alone = @decidedAlone, publish_at = @publishAt,
        reported_at = @reportedAt, output = @output, stdout = @stdout, stderr = @stderr, error = @error,
        failure = @failure, attachments = @attachments, runtime_info = @runtimeInfo, duration_ms = @durationMs
        WHERE id = @leaseId`),
      decidedAlone: db.prepare(`SELECT * FROM leases INDEXED BY leases_decided_alone WHERE contributor_id = ? AND decided_alone = 1`),
      held: db.prepare(`SELECT * FROM leases INDEXED BY leases_held WHERE publish_at IS NOT NULL AND publish_at <= ? LIMIT +?`),
      overdue: db.prepare(`SELECT * FROM leases INDEXED BY leases_running WHERE state = 'running' AND deadline < ? LIMIT +?`),
      runningOfContributor: db.prepare(`SELECT count(*) AS n FROM leases INDEXED BY leases_running_by_contributor
        WHERE contributor_id = ? AND state = 'running'`),
      checkpoint: db.prepare(`SELECT contributor_id, files, saved_at FROM checkpoints WHERE job_id = ? AND idx = ?`),
      saveCheckpoint: db.prepare(`INSERT INTO checkpoints (job_id, idx, contributor_id, files, saved_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (job_id, idx) DO UPDATE SET contributor_id = excluded.contributor_id, files = excluded.files,
        saved_at = excluded.saved_at`),
      deleteCheckpoint: db.prepare(`DELETE FROM checkpoints WHERE job_id = ? AND idx = ?`),
      deleteCheckpoints: db.prepare(`DELETE FROM checkpoints WHERE job_id = ?`),
      runningOfJob: db.prepare(`SELECT * FROM leases INDEXED BY leases_running_by_job WHERE job_id = ? AND state = 'running'`),
      finished: db.prepare(`SELECT * FROM chunks INDEXED BY chunks_done WHERE job_id = ? AND state <> 'open' AND idx >= ?
        ORDER BY idx LIMIT +?`),
      finishedSince: db.prepare(`SELECT * FROM chunks INDEXED BY chunks_finish_order
        WHERE job_id = ? AND finish_seq IS NOT NULL AND finish_seq > ? ORDER BY finish_seq LIMIT +?`),
      insertApiKey: db.prepare(`INSERT INTO api_keys (id, name, secret_hash, admin, created_at) VALUES (?, ?, ?, ?, ?)`),
      apiKeys: db.prepare(`SELECT k.*, q.jobs AS q_jobs, q.chunks_per_day AS q_chunks_per_day, q.blob_bytes AS q_blob_bytes
        FROM api_keys k LEFT JOIN key_quotas q ON q.key_id = k.id ORDER BY k.created_at, k.rowid`),
      apiKeyByHash: db.prepare(`SELECT k.*, q.jobs AS q_jobs, q.chunks_per_day AS q_chunks_per_day, q.blob_bytes AS q_blob_bytes
        FROM api_keys k LEFT JOIN key_quotas q ON q.key_id = k.id WHERE k.secret_hash = ?`),
      saveKeyQuota: db.prepare(`INSERT INTO key_quotas (key_id, jobs, chunks_per_day, blob_bytes) VALUES (?, ?, ?, ?)
        ON CONFLICT (key_id) DO UPDATE SET jobs = excluded.jobs, chunks_per_day = excluded.chunks_per_day,
        blob_bytes = excluded.blob_bytes`),
      deleteKeyQuota: db.prepare(`DELETE FROM key_quotas WHERE key_id = ?`),
      // Quota usage of one owner (@owner), chunks counted for jobs created after @since. Returns jobs, chunks, bytes.
      ownerUsage: db.prepare(`SELECT
        (SELECT COALESCE(MAX(n), 0) FROM active_jobs WHERE owner = @owner) AS jobs,
        (SELECT COALESCE(SUM(total), 0) FROM jobs INDEXED BY jobs_by_owner WHERE owner = @owner AND created_at > @since) AS chunks,
        (SELECT COALESCE(SUM(size), 0) FROM blobs INDEXED BY blobs_by_owner WHERE owner = @owner) AS bytes`),
      insertBlob: db.prepare(`INSERT INTO blobs (name, size, owner, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET size = excluded.size, owner = excluded.owner, created_at = excluded.created_at`),
      revokeApiKey: db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ?`),
      insertContributor: db.prepare(`INSERT INTO contributors (id, token_hash, agent, created_at) VALUES (?, ?, ?, ?)`),
      contributor: db.prepare(`SELECT token_hash FROM contributors WHERE id = ?`),
      trust: db.prepare(`SELECT * FROM trust WHERE contributor_id = ? AND runtime = ?`),
      saveTrust: db.prepare(`INSERT INTO trust (contributor_id, runtime, consecutive_valid, recent, validated_at)
        VALUES (?, ?, ?, ?, ?) ON CONFLICT (contributor_id, runtime) DO UPDATE SET
        consecutive_valid = excluded.consecutive_valid, recent = excluded.recent, validated_at = excluded.validated_at`),
    };
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } finally {
      this.inputs.clear();
    }
  }

  insertChunks(jobId: string, from: number, chunks: Chunk[], inputs: unknown[]): void {
    chunks.forEach((chunk, i) =>
      this.sql.insertChunk.run(jobId, from + i, JSON.stringify(inputs[from + i] ?? null), chunk.wanted, chunk.known ? JSON.stringify(chunk.known) : null),
    );
  }

  insertJob(job: JobRecord, fields: RuntimeFields): void {
    this.sql.insertFields.run(job.id, JSON.stringify(fields));
    // Its settings are not kept yet: a rolled-back insert must leave nothing behind. They are read on first use.
    this.sql.insertJob.run({
      ...job,
      description: job.description ?? null,
      owner: job.owner ?? null,
      private: job.private ? 1 : 0,
      entry: job.entry ?? null,
      policy: JSON.stringify(job.policy),
      requires: json(job.requires),
    });
  }

  jobFields(jobId: string): RuntimeFields | undefined {
    const row = this.sql.jobFields.get(jobId) as { fields: string } | undefined;
    return row && JSON.parse(row.fields);
  }

  job(jobId: string): JobRecord | undefined {
    const row = this.sql.job.get(jobId) as Row | undefined;
    return row && this.toJob(row);
  }

  saveJob(job: JobRecord): void {
    this.sql.saveJob.run({ ...job, error: job.error ?? null, finishedAt: job.finishedAt ?? null });
  }

  jobs(limit: number): JobRecord[] {
    return (this.sql.jobs.all(limit) as Row[]).map((row) => this.toJob(row));
  }

  servableJobs(runtimes: Runtime[]): JobRecord[] {
    const jobs: JobRecord[] = [];
    for (const row of this.sql.servable.all() as Row[]) {
      if (runtimes.includes(this.jobSettings(row.id).runtime)) jobs.push(this.toJob(row));
    }
    return jobs;
  }

  maxServed(): number {
    return (this.sql.maxServed.get() as { m: number }).m;
  }

  chunk(jobId: string, index: number): Chunk | undefined {
    const row = this.sql.chunk.get(jobId, index) as Row | undefined;
    return row && this.toChunk(jobId, row);
  }

  input(jobId: string, index: number): unknown {
    const cached = this.inputs.get(`${jobId}:${index}`);
    return JSON.parse(cached ?? (this.sql.input.get(jobId, index) as { input: string }).input);
  }

  saveChunk(jobId: string, chunk: Chunk, finishSeq?: number | null): void {
    this.sql.saveChunk.run({
      jobId,
      idx: chunk.index,
      state: chunk.state,
      wanted: chunk.wanted,
      issued: chunk.issued,
      running: chunk.running,
      canonical: chunk.canonical ?? null,
      verified: chunk.verified ? 1 : 0,
      agreeing: chunk.agreeing,
      output: chunk.state === 'ok' ? JSON.stringify(chunk.output ?? null) : null,
      stdout: chunk.stdout ?? null,
      stderr: chunk.stderr ?? null,
      error: chunk.error ?? null,
      attachments: json(chunk.attachments),
      durationMs: chunk.durationMs ?? null,
      finishedAt: chunk.finishedAt ?? null,
      finishSeq: finishSeq ?? null,
      clearSeq: finishSeq === null ? 1 : 0,
      lastFailedBy: chunk.lastFailedBy ?? null,
      retryAt: chunk.retryAt ?? null,
    });
  }

  partialChunksFor(jobId: string, contributorId: string, now: number, limit: number): Chunk[] {
    return (this.sql.partialFor.all(jobId, contributorId, now, contributorId, limit) as Row[]).map((row) => this.toChunk(jobId, row));
  }

  freshChunks(jobId: string, limit: number): Chunk[] {
    return (this.sql.fresh.all(jobId, limit) as Row[]).map((row) => this.toChunk(jobId, row));
  }

  clearWanted(jobId: string): number {
    const { s } = this.sql.wantedSum.get(jobId) as { s: number };
    this.sql.clearWanted.run(jobId);
    return s;
  }

  replicas(jobId: string, index: number): ReplicaRecord[] {
    return (this.sql.replicas.all(jobId, index) as Row[]).map(toReplica);
  }

  replica(leaseId: string): ReplicaRecord | undefined {
    const row = this.sql.replica.get(leaseId) as Row | undefined;
    return row && toReplica(row);
  }

  replicaWithSiblings(leaseId: string): ReplicaRecord[] {
    return (this.sql.withSiblings.all(leaseId) as Row[]).map(toReplica);
  }

  insertReplica(replica: ReplicaRecord): void {
    this.sql.insertReplica.run({ ...replica, standAlone: replica.standAlone ? 1 : 0, network: replica.network ?? null });
  }

  saveReplica(replica: ReplicaRecord): void {
    this.sql.saveReplica.run({
      leaseId: replica.leaseId,
      state: replica.state,
      verdict: replica.verdict,
      deadline: replica.deadline,
      standAlone: replica.standAlone ? 1 : 0,
      decidedAlone: replica.decidedAlone ? 1 : 0,
      publishAt: replica.publishAt ?? null,
      reportedAt: replica.reportedAt ?? null,
      output: replica.state === 'ok' ? JSON.stringify(replica.output ?? null) : null,
      stdout: replica.stdout ?? null,
      stderr: replica.stderr ?? null,
      error: replica.error ?? null,
      failure: replica.failure ?? null,
      attachments: json(replica.attachments),
      runtimeInfo: json(replica.runtimeInfo),
      durationMs: replica.durationMs ?? null,
    });
  }

  overdueReplicas(now: number, limit: number): ReplicaRecord[] {
    return (this.sql.overdue.all(now, limit) as Row[]).map(toReplica);
  }

  heldReplicas(now: number, limit: number): ReplicaRecord[] {
    return (this.sql.held.all(now, limit) as Row[]).map(toReplica);
  }

  decidedAloneBy(contributorId: string): ReplicaRecord[] {
    return (this.sql.decidedAlone.all(contributorId) as Row[]).map(toReplica);
  }

  runningLeaseCount(contributorId: string): number {
    return (this.sql.runningOfContributor.get(contributorId) as { n: number }).n;
  }

  checkpoint(jobId: string, index: number): StoredCheckpoint | undefined {
    const row = this.sql.checkpoint.get(jobId, index) as Row | undefined;
    return row && { contributorId: row.contributor_id, files: JSON.parse(row.files), savedAt: row.saved_at };
  }

  saveCheckpoint(jobId: string, index: number, checkpoint: StoredCheckpoint): void {
    this.sql.saveCheckpoint.run(jobId, index, checkpoint.contributorId, JSON.stringify(checkpoint.files), checkpoint.savedAt);
  }

  deleteCheckpoint(jobId: string, index: number): void {
    this.sql.deleteCheckpoint.run(jobId, index);
  }

  deleteCheckpoints(jobId: string): void {
    this.sql.deleteCheckpoints.run(jobId);
  }

  runningReplicasOfJob(jobId: string): ReplicaRecord[] {
    return (this.sql.runningOfJob.all(jobId) as Row[]).map(toReplica);
  }

  finishedChunks(jobId: string, offset: number, limit: number): Chunk[] {
    return (this.sql.finished.all(jobId, offset, limit) as Row[]).map((row) => this.toChunk(jobId, row));
  }

  finishedSince(jobId: string, cursor: number, limit: number): { chunk: Chunk; seq: number }[] {
    return (this.sql.finishedSince.all(jobId, cursor, limit) as Row[]).map((row) => ({
      chunk: this.toChunk(jobId, row),
      seq: row.finish_seq as number,
    }));
  }

  insertApiKey(key: ApiKey, secretHash: string): void {
    this.sql.insertApiKey.run(key.id, key.name, secretHash, key.admin ? 1 : 0, key.createdAt);
    if (key.quota) this.saveApiKeyQuota(key.id, key.quota);
  }

  saveApiKeyQuota(id: string, quota: Quota): void {
    if (!Object.keys(quota).length) this.sql.deleteKeyQuota.run(id);
    else this.sql.saveKeyQuota.run(id, quota.jobs ?? null, quota.chunksPerDay ?? null, quota.blobBytes ?? null);
  }

  ownerUsage(owner: string, since: number): QuotaUsage {
    const row = this.sql.ownerUsage.get({ owner, since }) as { jobs: number; chunks: number; bytes: number };
    return { jobs: row.jobs, chunksPerDay: row.chunks, blobBytes: row.bytes };
  }

  insertBlob(name: string, size: number, owner: string, now: number): void {
    this.sql.insertBlob.run(name, size, owner, now);
  }

  apiKeys(): ApiKey[] {
    return (this.sql.apiKeys.all() as Row[]).map(toApiKey);
  }

  apiKeyByHash(secretHash: string): ApiKey | undefined {
    const row = this.sql.apiKeyByHash.get(secretHash) as Row | undefined;
    return row && toApiKey(row);
  }

  revokeApiKey(id: string, now: number): void {
    this.sql.revokeApiKey.run(now, id);
  }

  /** Applies MIGRATIONS from `version` up; stops (leaving the version short) where no step is known. */
  private migrate(version: number): void {
    for (let v = version; v < SCHEMA_VERSION && MIGRATIONS[v]; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  insertContributor(contributorId: string, tokenHash: string, agent: string | undefined, now: number): void {
    this.sql.insertContributor.run(contributorId, tokenHash, agent ?? null, now);
  }

  contributorTokenHash(contributorId: string): string | undefined {
    return (this.sql.contributor.get(contributorId) as { token_hash: string } | undefined)?.token_hash;
  }

  trust(contributorId: string, runtime: Runtime): Trust | undefined {
    const row = this.sql.trust.get(contributorId, runtime) as Row | undefined;
    if (!row) return undefined;
    const trust: Trust = { consecutiveValid: row.consecutive_valid, recent: row.recent };
    if (row.validated_at !== null) trust.validatedAt = row.validated_at;
    return trust;
  }

  saveTrust(contributorId: string, runtime: Runtime, trust: Trust): void {
    this.sql.saveTrust.run(contributorId, runtime, trust.consecutiveValid, trust.recent, trust.validatedAt ?? null);
  }

  secret(name: string): string {
    this.db.prepare(`INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)`).run(name, newSecret());
    return (this.db.prepare(`SELECT value FROM secrets WHERE name = ?`).get(name) as { value: string }).value;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** A job's settings, from the database only the first time this process asks. */
  private jobSettings(jobId: string): JobSettings {
    let settings = this.settings.get(jobId);
    if (!settings) {
      settings = toSettings(this.sql.settings.get(jobId) as Row);
      this.settings.set(jobId, settings);
    }
    return settings;
  }

  /** A job from its counter columns (COUNTER_COLUMNS) and its kept settings. */
  private toJob(row: Row): JobRecord {
    // Counters first, settings assigned after: a spread followed by more properties costs V8 a new hidden class
    // per call (about 100x slower, measured on Node 20).
    const job = Object.assign(
      {
        state: row.state,
        total: row.total,
        queued: row.queued,
        running: row.running,
        completed: row.completed,
        failed: row.failed,
        verified: row.verified,
        resultsIssued: row.results_issued,
        valid: row.valid,
        invalid: row.invalid,
        inconclusive: row.inconclusive,
        wanted: row.wanted,
        lastServed: row.last_served,
        finishSeq: row.finish_seq,
      },
      // The policy object is shared with the kept settings: nothing changes a job's policy in place.
      this.jobSettings(row.id),
    ) as JobRecord;
    if (row.error !== null) job.error = row.error;
    if (row.finished_at !== null) job.finishedAt = row.finished_at;
    return job;
  }

  private toChunk(jobId: string, row: Row): Chunk {
    if (row.input !== undefined) this.inputs.set(`${jobId}:${row.idx}`, row.input);
    const chunk: Chunk = {
      index: row.idx,
      state: row.state as ChunkState,
      wanted: row.wanted,
      issued: row.issued,
      running: row.running,
      verified: row.verified === 1,
      agreeing: row.agreeing,
    };
    // Columns a query did not select (OPEN_CHUNK_COLUMNS) are undefined: `!= null` skips them like NULLs.
    if (row.canonical != null) chunk.canonical = row.canonical;
    if (row.output != null) chunk.output = JSON.parse(row.output);
    for (const [key, column] of [
      ['stdout', 'stdout'],
      ['stderr', 'stderr'],
      ['error', 'error'],
      ['durationMs', 'duration_ms'],
      ['finishedAt', 'finished_at'],
      ['lastFailedBy', 'last_failed_by'],
      ['retryAt', 'retry_at'],
    ] as const) {
      if (row[column] != null) (chunk as unknown as Row)[key] = row[column];
    }
    if (row.attachments != null) chunk.attachments = JSON.parse(row.attachments);
    if (row.known != null) chunk.known = JSON.parse(row.known);
    return chunk;
  }
}

function toSettings(row: Row): JobSettings {
  const settings: JobSettings = {
    id: row.id,
    private: row.private === 1,
    name: row.name,
    runtime: row.runtime,
    timeoutMs: row.timeout_ms,
    maxAttempts: row.max_attempts,
    policy: JSON.parse(row.policy),
    createdAt: row.created_at,
  };
  if (row.description !== null) settings.description = row.description;
  if (row.owner !== null) settings.owner = row.owner;
  if (row.entry !== null) settings.entry = row.entry;
  if (row.requires !== null) settings.requires = JSON.parse(row.requires);
  return settings;
}

function toApiKey(row: Row): ApiKey {
  const key: ApiKey = { id: row.id, name: row.name, admin: row.admin === 1, createdAt: row.created_at };
  if (row.revoked_at !== null) key.revokedAt = row.revoked_at;
  const quota: Quota = {};
  if (row.q_jobs !== null && row.q_jobs !== undefined) quota.jobs = row.q_jobs;
  if (row.q_chunks_per_day !== null && row.q_chunks_per_day !== undefined) quota.chunksPerDay = row.q_chunks_per_day;
  if (row.q_blob_bytes !== null && row.q_blob_bytes !== undefined) quota.blobBytes = row.q_blob_bytes;
  if (Object.keys(quota).length) key.quota = quota;
  return key;
}

function toReplica(row: Row): ReplicaRecord {
  const replica: ReplicaRecord = {
    jobId: row.job_id,
    index: row.idx,
    token: row.token,
    leaseId: row.id,
    contributorId: row.contributor_id,
    attempt: row.attempt,
    state: row.state as Replica['state'],
    verdict: row.verdict as Replica['verdict'],
    standAlone: row.stand_alone === 1,
    issuedAt: row.issued_at,
    deadline: row.deadline,
  };
  if (row.reported_at !== null) replica.reportedAt = row.reported_at;
  if (row.state === 'ok') replica.output = parse(row.output);
  for (const key of ['stdout', 'stderr', 'error', 'failure'] as const) if (row[key] !== null) replica[key] = row[key];
  if (row.attachments !== null) replica.attachments = JSON.parse(row.attachments);
  if (row.runtime_info !== null) replica.runtimeInfo = JSON.parse(row.runtime_info);
  if (row.duration_ms !== null) replica.durationMs = row.duration_ms;
  if (row.network !== null) replica.network = row.network;
  if (row.decided_alone === 1) replica.decidedAlone = true;
  if (row.publish_at !== null) replica.publishAt = row.publish_at;
  return replica;
}

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. Its directory is created when missing. */
  file: string;
  policy?: SchedulingPolicy;
  random?: () => number;
  /**
   * Drop the chunks of job creations a crash interrupted (default true). False for a tool that opens the database
   * of a coordinator that may be running (npm run keys), whose creations in progress look the same.
   */
  sweep?: boolean;
}

export class SqliteStore extends EngineStore {
  constructor({ file, policy = defaultSchedulingPolicy, random, sweep = true }: SqliteStoreOptions) {
    super(new SqliteRepo(file, sweep), { policy, random });
  }
}
