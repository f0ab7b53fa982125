// The store-independent half of every Store operation, written once over a small synchronous Repo (rows in, rows
// out). The memory and SQLite stores are Repos; the Engine runs each operation inside repo.transaction(), loads
// what it needs, lets the pure transitioner (domain/chunk.ts) decide, and writes the answer back.
import {
  ErrorCode,
  type CheckpointFile,
  type CheckpointResponse,
  type ChunkDetail,
  type ChunkResult,
  type HeartbeatResponse,
  type JobSource,
  type JobSpec,
  type JobSummary,
  type Lease,
  type LeaseRef,
  type LeaseState,
  type Outcome,
  type RegisterResponse,
  type ReleaseResponse,
  type ReportOutcome,
  type ResultReport,
  type Runtime,
  type RuntimeFields,
} from '../../../protocol/index.js';
import { affinitySlots } from '../domain/affinity.js';
import { isUnreplicated, mayTake, newChunk, reopen, settle, withReport, type Chunk, type Replica } from '../domain/chunk.js';
import { emptyCounters, moveCounters, settledState } from '../domain/job.js';
import { networkMayTake, networkSubmitter } from '../domain/network.js';
import { meetsRequirements } from '../domain/requirements.js';
import { QUOTA_DAY_MS, QUOTA_NAMES, QuotaExceededError, exceededQuota, noUsage, type Quota, type QuotaUsage } from '../domain/quota.js';
import {
  defaultTrustPolicy,
  earnsTrust,
  isQuarantined,
  isTrusted,
  newTrust,
  recordValidation,
  standsAlone,
  type Trust,
  type TrustPolicy,
} from '../domain/trust.js';
import {
  checkLease,
  defaultJobName,
  hashToken,
  newId,
  newSecret,
  reject,
  sameSecret,
  shareSlots,
  toChunkResult,
  toJobSpec,
  toResultDetail,
  anonymiser,
  toSummary,
  type JobRecord,
} from './shared.js';
import {
  defaultSchedulingPolicy,
  type ApiKey,
  type BlobHold,
  type JobAccess,
  type LeaseBatch,
  type LeaseCall,
  type NewJob,
  type QuotaChange,
  type SchedulingPolicy,
  type Store,
} from './store.js';

/** A replica as stored: which chunk it belongs to, and the lease token that must come back with its result. */
export interface ReplicaRecord extends Replica {
  jobId: string;
  index: number;
  token: string;
}

/** A chunk's latest checkpoint as stored: who uploaded it (replicated jobs give it back only to them) and when. */
export interface StoredCheckpoint {
  contributorId: string;
  files: CheckpointFile[];
  savedAt: number;
}

/** Row access for one store. Every method is synchronous and runs inside `transaction` when the Engine calls it. */
export interface Repo {
  transaction<T>(fn: () => T): T;
  /** Writes chunks `from`… of a job whose row does not exist yet; `inputs` is the whole job's list. */
  insertChunks(jobId: string, from: number, chunks: Chunk[], inputs: unknown[]): void;
  /** Stores the job's row and, apart from it, its runtime fields (written once, never updated). */
  insertJob(job: JobRecord, fields: RuntimeFields): void;
  job(jobId: string): JobRecord | undefined;
  /** The job's runtime fields as submitted (source, packages, model…): the only read of them. */
  jobFields(jobId: string): RuntimeFields | undefined;
  saveJob(job: JobRecord): void;
  /** Newest first. */
  jobs(limit: number): JobRecord[];
  /** Active jobs of these runtimes with chunks that want replicas, least recently served first. */
  servableJobs(runtimes: Runtime[]): JobRecord[];
  /** The highest `lastServed` of any job. */
  maxServed(): number;
  chunk(jobId: string, index: number): Chunk | undefined;
  input(jobId: string, index: number): unknown;
  /** `finishSeq` is set when the chunk has just finished; null when it was just re-opened (it leaves that order). */
  saveChunk(jobId: string, chunk: Chunk, finishSeq?: number | null): void;
  /**
   * Chunks that want replicas and already have some, in index order, that `contributorId` may take now: it holds
   * no running or successful replica of them and is not in its retry cooldown.
   */
  partialChunksFor(jobId: string, contributorId: string, now: number, limit: number): Chunk[];
  /** Chunks never issued yet, in index order. */
  freshChunks(jobId: string, limit: number): Chunk[];
  /** Sets every chunk of the job to want nothing; returns the sum of what they wanted. */
  clearWanted(jobId: string): number;
  replicas(jobId: string, index: number): ReplicaRecord[];
  replica(leaseId: string): ReplicaRecord | undefined;
  /** A replica and every replica of its chunk (itself included), in one read. Empty when the lease is unknown. */
  replicaWithSiblings(leaseId: string): ReplicaRecord[];
  insertReplica(replica: ReplicaRecord): void;
  saveReplica(replica: ReplicaRecord): void;
  overdueReplicas(now: number, limit: number): ReplicaRecord[];
  /** Results standing alone whose publication time (`publishAt`) has come, at most `limit`. */
  heldReplicas(now: number, limit: number): ReplicaRecord[];
  /** Replicas of this contributor that decided their chunk alone and were not re-verified since. */
  decidedAloneBy(contributorId: string): ReplicaRecord[];
  runningReplicasOfJob(jobId: string): ReplicaRecord[];
  /** The chunk's latest checkpoint, if any. */
  checkpoint(jobId: string, index: number): StoredCheckpoint | undefined;
  /** Replaces the chunk's checkpoint. */
  saveCheckpoint(jobId: string, index: number, checkpoint: StoredCheckpoint): void;
  /** Deletes the chunk's checkpoint (nothing when it has none). */
  deleteCheckpoint(jobId: string, index: number): void;
  /** Deletes every checkpoint of the job. */
  deleteCheckpoints(jobId: string): void;
  /** How many running replicas (held leases) a contributor has, over all jobs. */
  runningLeaseCount(contributorId: string): number;
  finishedChunks(jobId: string, offset: number, limit: number): Chunk[];
  finishedSince(jobId: string, cursor: number, limit: number): { chunk: Chunk; seq: number }[];
  insertContributor(contributorId: string, tokenHash: string, agent: string | undefined, now: number): void;
  insertApiKey(key: ApiKey, secretHash: string): void;
  apiKeys(): ApiKey[];
  apiKeyByHash(secretHash: string): ApiKey | undefined;
  revokeApiKey(id: string, now: number): void;
  /** Replaces a key's own quotas (names left out follow the coordinator's default). */
  saveApiKeyQuota(id: string, quota: Quota): void;
  /** The owner's stored usage: unfinished jobs, chunks of its jobs created after `since`, bytes of its blobs. */
  ownerUsage(owner: string, since: number): QuotaUsage;
  /** Records that `owner` stored the blob `name` first (a blob stored again replaces the record). */
  insertBlob(name: string, size: number, owner: string, now: number): void;
  contributorTokenHash(contributorId: string): string | undefined;
  trust(contributorId: string, runtime: Runtime): Trust | undefined;
  saveTrust(contributorId: string, runtime: Runtime, trust: Trust): void;
  /** A secret of this coordinator named `name`, made on first use and the same ever after (across restarts when durable). */
  secret(name: string): string;
  close(): void;
}

export interface EngineOptions {
  policy: Partial<SchedulingPolicy> & Pick<SchedulingPolicy, 'leaseGraceMs' | 'retryCooldownMs'>;
  /** Uniform in [0, 1); drives adaptive replication's spot checks. Tests pass a seeded one. */
  random?: () => number;
}

const leaseState: Record<Replica['state'], LeaseState> = {
  running: 'active',
  ok: 'finished',
  error: 'finished',
  expired: 'expired',
  released: 'released',
  cancelled: 'cancelled',
};

/** Chunks written per transaction when a job is created. */
const CREATE_SLICE = 20_000;

/** How many more chunks than needed are considered when picking chunks that already have replicas. */
const PARTIAL_WINDOW = 8;
/** In replicated jobs, fresh chunks are preferred until this many batches await another replica. */
const PARTIAL_POOL = 4;
/** Check latencies kept per job, and jobs kept, for drawing lone decisions' publication delays. */
const CHECK_LATENCY_SAMPLES = 64;
const MAX_LATENCY_JOBS = 1_000;

/** `count` items of `items` chosen uniformly at random, kept in their original order. */
function sample<T>(items: T[], count: number, random: () => number): T[] {
  if (items.length <= count) return items;
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(random() * items.length));
  return items.filter((_, i) => chosen.has(i));
}

/** A Store over any Repo. */
export class EngineStore implements Store {
  private readonly policy: Required<SchedulingPolicy>;
  private readonly trustPolicy: TrustPolicy;
  private readonly random: () => number;
  private anonymiser?: (contributorId: string) => string;
  /** When each network last asked for work: the pool that decides whether replicas can go to distinct networks. */
  private readonly networks = new Map<string, number>();
  /** Contributors caught with an invalid result during the current operation, whose lone decisions are re-opened. */
  private readonly caught = new Set<string>();
  /** Per job, the latest check latencies (first result → settlement by a quorum), for publicationDelay. */
  private readonly checkLatencies = new Map<string, number[]>();

  constructor(
    protected readonly repo: Repo,
    options: EngineOptions,
  ) {
    this.policy = { ...(defaultSchedulingPolicy as Required<SchedulingPolicy>), ...options.policy };
    this.trustPolicy = { spotCheckFloor: this.policy.spotCheckFloor, halfLifeMs: this.policy.trustHalfLifeMs ?? defaultTrustPolicy.halfLifeMs };
    this.random = options.random ?? Math.random;
  }

  async createJob(spec: NewJob, now: number): Promise<JobSummary> {
    const chunks = spec.inputs.map((_, index) => newChunk(index, spec.policy));
    for (const { index, output } of spec.known ?? []) if (chunks[index]) chunks[index] = { ...chunks[index], wanted: 1, known: { output } };
    const job: JobRecord = {
      id: newId('j'),
      name: spec.name || defaultJobName(now),
      description: spec.description,
      runtime: spec.fields.runtime,
      ...('entry' in spec.fields && spec.fields.entry ? { entry: spec.fields.entry } : {}),
      timeoutMs: spec.timeoutMs,
      maxAttempts: spec.maxAttempts,
      policy: spec.policy,
      ...(spec.requires ? { requires: spec.requires } : {}),
      ...(spec.owner ? { owner: spec.owner } : {}),
      private: spec.private,
      state: 'active',
      createdAt: now,
      lastServed: 0,
      finishSeq: 0,
      ...emptyCounters(chunks.length, chunks.reduce((sum, c) => sum + c.wanted, 0)),
    };
    // The job's share of its owner's quotas is checked and held before the first write, and the hold ends in the same
    // tick as the job row is written (from then on the row counts), so concurrent submissions cannot both take the
    // last slot, even while a big job's slices yield in between.
    const held: Partial<QuotaUsage> = { jobs: 1, chunksPerDay: chunks.length };
    const owner = spec.owner;
    if (owner) {
      this.repo.transaction(() => {
        const limited = spec.quota && (spec.quota.jobs !== undefined || spec.quota.chunksPerDay !== undefined);
        const excess = limited ? exceededQuota(spec.quota!, this.usageOf(owner, now), held) : undefined;
        if (excess) throw new QuotaExceededError(excess);
        this.addHold(owner, held, 1);
      });
    }
    try {
      // Big jobs are written in slices with a yield between them, so a million-chunk submission does not stall every
      // other request for seconds. The job row comes last: until it exists nothing can see the chunks.
      for (let from = 0; from < chunks.length; from += CREATE_SLICE) {
        if (from > 0) await new Promise((resolve) => setImmediate(resolve));
        this.repo.transaction(() => this.repo.insertChunks(job.id, from, chunks.slice(from, from + CREATE_SLICE), spec.inputs));
      }
      this.repo.transaction(() => this.repo.insertJob(job, spec.fields));
    } finally {
      if (owner) this.addHold(owner, held, -1);
    }
    return toSummary(job);
  }

  /** Usage held by jobs being created and uploads in flight, per owner: counted with the stored usage. */
  private readonly holds = new Map<string, QuotaUsage>();

  private addHold(owner: string, amount: Partial<QuotaUsage>, sign: 1 | -1): void {
    const held = this.holds.get(owner) ?? noUsage();
    for (const name of QUOTA_NAMES) if (Number.isFinite(amount[name])) held[name] += sign * (amount[name] ?? 0);
    if (QUOTA_NAMES.every((name) => held[name] === 0)) this.holds.delete(owner);
    else this.holds.set(owner, held);
  }

  private usageOf(owner: string, now: number): QuotaUsage {
    const usage = this.repo.ownerUsage(owner, now - QUOTA_DAY_MS);
    const held = this.holds.get(owner);
    if (held) for (const name of QUOTA_NAMES) usage[name] += held[name];
    return usage;
  }

  async quotaUsage(owner: string, now: number): Promise<QuotaUsage> {
    return this.repo.transaction(() => this.usageOf(owner, now));
  }

  async holdBlobBytes(owner: string, limits: Quota, bytes: number | undefined, now: number): Promise<BlobHold> {
    return this.repo.transaction(() => {
      const limit = limits.blobBytes;
      if (limit === undefined) return { owner, bytes: Infinity };
      const usage = this.usageOf(owner, now);
      const excess = exceededQuota(limits, usage, { blobBytes: bytes ?? 1 });
      if (excess) throw new QuotaExceededError(excess);
      const hold = { owner, bytes: bytes ?? limit - usage.blobBytes };
      this.addHold(owner, { blobBytes: hold.bytes }, 1);
      return hold;
    });
  }

  async settleBlobHold(hold: BlobHold, stored: { name: string; size: number } | undefined, now: number): Promise<void> {
    this.repo.transaction(() => {
      if (stored) this.repo.insertBlob(stored.name, stored.size, hold.owner, now);
      this.addHold(hold.owner, { blobBytes: hold.bytes }, -1);
    });
  }

  async getJob(jobId: string): Promise<JobSummary | undefined> {
    const job = this.repo.job(jobId);
    return job && toSummary(job);
  }

  async listJobs({ limit = 200 } = {}): Promise<JobSummary[]> {
    return this.repo.jobs(limit).map(toSummary);
  }

  async getJobSource(jobId: string): Promise<JobSource | undefined> {
    const fields = this.repo.jobFields(jobId);
    return fields && { id: jobId, ...fields };
  }

  async getJobSpec(jobId: string): Promise<JobSpec | undefined> {
    const job = this.repo.job(jobId);
    const fields = job && this.repo.jobFields(jobId);
    return fields && toJobSpec(job, fields);
  }

  async cancelJob(jobId: string, now: number): Promise<JobSummary | undefined> {
    return this.repo.transaction(() => {
      const job = this.repo.job(jobId);
      if (!job) return undefined;
      if (job.state === 'active') this.stopJob(job, 'cancelled', now);
      this.repo.saveJob(job);
      return toSummary(job);
    });
  }

  async jobAccess(jobId: string): Promise<JobAccess | undefined> {
    const job = this.repo.job(jobId);
    return job && { ...(job.owner ? { owner: job.owner } : {}), private: job.private };
  }

  async createApiKey(info: { name: string; admin: boolean; quota?: Quota }, now: number): Promise<{ key: ApiKey; secret: string }> {
    const key: ApiKey = { id: newId('k'), name: info.name, admin: info.admin, createdAt: now };
    if (info.quota && Object.keys(info.quota).length) key.quota = { ...info.quota };
    const secret = `isk_${newSecret()}`;
    this.repo.transaction(() => this.repo.insertApiKey(key, hashToken(secret)));
    return { key, secret };
  }

  async listApiKeys(): Promise<ApiKey[]> {
    return this.repo.apiKeys();
  }

  async revokeApiKey(idOrName: string, now: number): Promise<ApiKey | undefined> {
    return this.repo.transaction(() => {
      const key = this.repo.apiKeys().find((k) => !k.revokedAt && (k.id === idOrName || k.name === idOrName));
      if (!key) return undefined;
      this.repo.revokeApiKey(key.id, now);
      return { ...key, revokedAt: now };
    });
  }

  async setApiKeyQuota(idOrName: string, change: QuotaChange): Promise<ApiKey | undefined> {
    return this.repo.transaction(() => {
      const key = this.repo.apiKeys().find((k) => !k.revokedAt && (k.id === idOrName || k.name === idOrName));
      if (!key) return undefined;
      const quota: Quota = { ...key.quota };
      for (const name of QUOTA_NAMES) {
        const value = change[name];
        if (value === null) delete quota[name];
        else if (value !== undefined) quota[name] = value;
      }
      this.repo.saveApiKeyQuota(key.id, quota);
      const { quota: _, ...rest } = key;
      return Object.keys(quota).length ? { ...rest, quota } : rest;
    });
  }

  async findApiKey(secret: string): Promise<ApiKey | undefined> {
    // Looked up by the hash of a 192-bit secret: nothing to learn from timing.
    const key = this.repo.apiKeyByHash(hashToken(secret));
    return key && !key.revokedAt ? key : undefined;
  }

  async registerContributor(info: { agent?: string }, now: number): Promise<RegisterResponse> {
    const contributorId = newId('c');
    const token = newSecret();
    this.repo.transaction(() => this.repo.insertContributor(contributorId, hashToken(token), info.agent, now));
    return { contributorId, token };
  }

  async authenticateContributor(contributorId: string, token: string): Promise<boolean> {
    const hash = this.repo.contributorTokenHash(contributorId);
    return hash !== undefined && sameSecret(hash, hashToken(token));
  }

  async leaseChunks(contributorId: string, request: LeaseCall, now: number): Promise<LeaseBatch> {
    const network = this.policy.distinctNetworks ? request.network : undefined;
    if (network) this.networks.set(network, now);
    const active = this.activeNetworks(now);
    const haveSpecs = new Set(request.haveSpecs);
    return this.repo.transaction(() => {
      this.caught.clear(); // what a rolled-back operation caught was rolled back with it
      const room = this.leaseRoom(contributorId, request);
      if (room <= 0) return { leases: [], jobs: {} };
      // Requirements were made explicit at submission (JobRecord.requires): a few comparisons per servable job.
      const capabilities = request.capabilities ?? { runtimes: request.runtimes };
      const jobs = this.repo.servableJobs(capabilities.runtimes).filter((job) => meetsRequirements(job.runtime, job.requires, capabilities));
      const cache = new JobCache(this.repo);
      const max = Math.min(request.max, room);
      const loaded = countLoaded(request.loadedJobs);
      // The caller's chunks that are finished (results batched, on their way) hold no thread: counting them as
      // running would put the job its idle thread has loaded at its fair share, and hand that thread another job.
      const finished = loaded.size ? this.finishedByJob(contributorId, request.finishedLeases) : new Map<string, number>();
      const kept = affinitySlots(
        max,
        jobs.map((job) => ({
          available: job.wanted,
          running: Math.max(0, job.running - (finished.get(job.id) ?? 0)),
          loaded: loaded.get(job.id) ?? 0,
        })),
      );
      // What affinity did not place goes round-robin to the jobs that kept no thread first, then to any job with work.
      const shares = [...kept];
      for (const others of [true, false]) {
        const left = max - shares.reduce((sum, n) => sum + n, 0);
        const more = shareSlots(left, jobs.map((job, i) => (others && kept[i] > 0 ? 0 : job.wanted - shares[i])));
        more.forEach((n, i) => (shares[i] += n));
      }
      const batch: LeaseBatch = { leases: [], jobs: {} };
      let served = this.repo.maxServed();
      jobs.forEach((job, i) => {
        if (shares[i] === 0) return;
        cache.put(job);
        // Which contributors share a chunk is left to chance, not to the order of their requests: a colluding pair
        // asking one after the other would otherwise always get each other's chunks. Replicated jobs first let the
        // pool of chunks awaiting another replica grow to several batches, then draw from it at random.
        const candidates = this.repo.partialChunksFor(job.id, contributorId, now, shares[i] * PARTIAL_WINDOW);
        const replicated = job.policy.quorum > 1;
        const poolReady = !replicated || candidates.length >= shares[i] * PARTIAL_POOL;
        const picked = poolReady ? sample(candidates, shares[i], this.random) : [];
        if (picked.length < shares[i]) picked.push(...this.repo.freshChunks(job.id, shares[i] - picked.length));
        if (picked.length < shares[i] && !poolReady) picked.push(...sample(candidates, shares[i] - picked.length, this.random));
        if (picked.length === 0) return;
        const trust = job.policy.adaptive ? (this.repo.trust(contributorId, job.runtime) ?? newTrust()) : undefined;
        const leasedBefore = batch.leases.length;
        for (const chunk of picked) {
          const replicas = chunk.issued === 0 && chunk.running === 0 ? [] : this.repo.replicas(job.id, chunk.index);
          if (!mayTake(chunk, replicas, contributorId, now, !isUnreplicated(job.policy))) continue;
          const taken = replicas.filter((r) => r.state === 'running' || r.state === 'ok').map((r) => r.network);
          if (!networkMayTake(network, taken, active)) continue;
          const replica: ReplicaRecord = {
            jobId: job.id,
            index: chunk.index,
            token: newSecret(),
            leaseId: newId('l'),
            contributorId,
            attempt: replicas.length + 1,
            state: 'running',
            verdict: 'pending',
            // Only eligibility is decided now; the spot check is drawn when the result comes in (reportResults).
            standAlone: trust ? isTrusted(trust, now, this.trustPolicy) : false,
            issuedAt: now,
            deadline: now + job.timeoutMs + this.policy.leaseGraceMs,
            ...(request.network ? { network: request.network } : {}),
          };
          this.repo.insertReplica(replica);
          this.apply(job, chunk, replicas, [...replicas, replica], now, new Set());
          const lease: Lease = {
            leaseId: replica.leaseId,
            leaseToken: replica.token,
            jobId: job.id,
            chunkIndex: chunk.index,
            input: this.repo.input(job.id, chunk.index),
            deadline: new Date(replica.deadline).toISOString(),
          };
          // A chunk never issued before has no checkpoint: only re-issued ones are looked up. Independent replicas
          // stay independent: a replicated job's checkpoint resumes only the contributor that wrote it.
          const checkpoint = replicas.length > 0 ? this.repo.checkpoint(job.id, chunk.index) : undefined;
          if (checkpoint && (isUnreplicated(job.policy) || checkpoint.contributorId === contributorId)) {
            lease.checkpoint = { files: checkpoint.files };
          }
          batch.leases.push(lease);
        }
        job.lastServed = ++served;
        this.repo.saveJob(job);
        // Sources may be megabytes: a contributor is sent each job's spec once, not with every lease of it.
        if (batch.leases.length > leasedBefore && !haveSpecs.has(job.id)) batch.jobs[job.id] = toJobSpec(job, this.repo.jobFields(job.id)!);
      });
      if (this.caught.size) {
        this.reverifyCaught(cache, now);
        cache.saveAll();
      }
      return batch;
    });
  }

  /** Per job, how many of `leaseIds` are the caller's running leases (ids of others, or settled ones, count nothing). */
  private finishedByJob(contributorId: string, leaseIds: string[] = []): Map<string, number> {
    const counts = new Map<string, number>();
    // The caller holds at most maxLeasesPerContributor leases, so no more ids than that can count: a long list
    // costs the lease transaction no more reads than a tab's honest one.
    for (const leaseId of [...new Set(leaseIds)].slice(0, this.policy.maxLeasesPerContributor)) {
      const replica = this.repo.replica(leaseId);
      if (replica?.contributorId === contributorId && replica.state === 'running') counts.set(replica.jobId, (counts.get(replica.jobId) ?? 0) + 1);
    }
    return counts;
  }

  /** How many more leases the caller may hold: a few per thread it advertises, never past the hard ceiling. */
  private leaseRoom(contributorId: string, request: LeaseCall): number {
    const ceiling = this.policy.maxLeasesPerContributor;
    const perThread = this.policy.leasesPerThread;
    const cap = request.threads === undefined ? ceiling : Math.min(ceiling, perThread * request.threads);
    return cap - this.repo.runningLeaseCount(contributorId);
  }

  /** The latest a replica's lease may run to, heartbeats or not. */
  private hardDeadline(replica: ReplicaRecord, timeoutMs: number): number {
    const factor = this.policy.hardDeadlineFactor;
    return replica.issuedAt + factor * timeoutMs + this.policy.leaseGraceMs;
  }

  private activeNetworks(now: number): string[] {
    const active: string[] = [];
    for (const [network, seen] of this.networks) {
      if (seen + this.policy.networkWindowMs >= now) active.push(network);
      else this.networks.delete(network);
    }
    return active;
  }

  async heartbeat(contributorId: string, refs: LeaseRef[], now: number): Promise<HeartbeatResponse['leases']> {
    return this.repo.transaction(() => {
      this.caught.clear();
      const jobs = new JobCache(this.repo);
      const states = refs.map(({ leaseId, leaseToken }) => {
        const replica = this.repo.replica(leaseId);
        if (!replica || replica.contributorId !== contributorId || !sameSecret(replica.token, leaseToken)) {
          return { leaseId, state: 'unknown' as const };
        }
        if (replica.state === 'running' && replica.deadline < now) {
          this.expire(jobs.get(replica.jobId), replica, now);
          return { leaseId, state: 'expired' as const };
        }
        if (replica.state !== 'running') return { leaseId, state: leaseState[replica.state] };
        const hard = this.hardDeadline(replica, jobs.get(replica.jobId).timeoutMs);
        replica.deadline = Math.min(hard, Math.max(replica.deadline, now + this.policy.leaseGraceMs));
        this.repo.saveReplica(replica);
        return { leaseId, state: 'active' as const, deadline: new Date(replica.deadline).toISOString() };
      });
      this.reverifyCaught(jobs, now);
      jobs.saveAll();
      return states;
    });
  }

  async reportResults(contributorId: string, reports: ResultReport[], now: number): Promise<ReportOutcome[]> {
    return this.repo.transaction(() => {
      this.caught.clear();
      const jobs = new JobCache(this.repo);
      const outcomes = reports.map((report): ReportOutcome => {
        const siblings = this.repo.replicaWithSiblings(report.leaseId);
        const replica = siblings.find((r) => r.leaseId === report.leaseId);
        const check = checkLease({ replica, contributorId, token: report.leaseToken, now });
        if (check.action === 'expire') {
          this.expire(jobs.get(replica!.jobId), replica!, now);
          return { leaseId: report.leaseId, outcome: 'rejected', error: reject(ErrorCode.LeaseExpired).error };
        }
        if (check.action === 'reject') return { leaseId: report.leaseId, outcome: 'rejected', error: check.error };
        if (check.action === 'duplicate') return { leaseId: report.leaseId, outcome: 'duplicate' };
        const job = jobs.get(replica!.jobId);
        this.changeReplica(job, replica!, (r) => this.judgeAlone(job, withReport(r, report, now), now, siblings), now, siblings);
        return { leaseId: report.leaseId, outcome: 'accepted' };
      });
      this.reverifyCaught(jobs, now);
      jobs.saveAll();
      return outcomes;
    });
  }

  async releaseLease(contributorId: string, { leaseId, leaseToken }: LeaseRef, now: number): Promise<Outcome<ReleaseResponse>> {
    return this.repo.transaction(() => {
      const replica = this.repo.replica(leaseId);
      const check = checkLease({ replica, contributorId, token: leaseToken, now });
      if (replica?.state === 'released' && check.action === 'reject' && check.error.code === ErrorCode.LeaseReleased) {
        return { ok: true, value: { leaseId, state: 'released' } }; // released twice: the same answer
      }
      if (check.action === 'reject') return { ok: false, error: check.error };
      if (check.action === 'duplicate') return { ok: false, error: reject(ErrorCode.LeaseFinished).error };
      this.caught.clear();
      const jobs = new JobCache(this.repo);
      const job = jobs.get(replica!.jobId);
      if (check.action === 'expire') {
        this.expire(job, replica!, now);
        jobs.saveAll();
        return { ok: false, error: reject(ErrorCode.LeaseExpired).error };
      }
      // Not an attempt: the chunk wants a replica again at once, with no cool-down and no error counted.
      this.changeReplica(job, replica!, (r) => ({ ...r, state: 'released', reportedAt: now }), now);
      jobs.saveAll();
      return { ok: true, value: { leaseId, state: 'released' } };
    });
  }

  async saveCheckpoint(contributorId: string, { leaseId, leaseToken }: LeaseRef, files: CheckpointFile[], now: number): Promise<Outcome<CheckpointResponse>> {
    return this.repo.transaction(() => {
      const replica = this.repo.replica(leaseId);
      const check = checkLease({ replica, contributorId, token: leaseToken, now });
      if (check.action === 'reject') return { ok: false, error: check.error };
      if (check.action === 'duplicate') return { ok: false, error: reject(ErrorCode.LeaseFinished, 'a reported lease has no checkpoint to keep').error };
      if (check.action === 'expire') {
        this.caught.clear();
        const jobs = new JobCache(this.repo);
        this.expire(jobs.get(replica!.jobId), replica!, now);
        this.reverifyCaught(jobs, now);
        jobs.saveAll();
        return { ok: false, error: reject(ErrorCode.LeaseExpired).error };
      }
      this.repo.saveCheckpoint(replica!.jobId, replica!.index, { contributorId, files, savedAt: now });
      return { ok: true, value: { leaseId, files: files.length, size: files.reduce((sum, file) => sum + file.size, 0) } };
    });
  }

  async expireLeases(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const count = this.repo.transaction(() => {
        this.caught.clear();
        const jobs = new JobCache(this.repo);
        const overdue = this.repo.overdueReplicas(now, 500);
        for (const replica of overdue) this.expire(jobs.get(replica.jobId), replica, now);
        // Lone decisions whose time has come are published: their chunks settle now, as checked ones do when their
        // next replica comes in.
        const held = this.repo.heldReplicas(now, 500);
        for (const replica of held) {
          this.changeReplica(jobs.get(replica.jobId), replica, ({ publishAt: _, ...rest }) => rest, now);
        }
        this.reverifyCaught(jobs, now);
        jobs.saveAll();
        return overdue.length + held.length;
      });
      total += count;
      if (count < 500) return total;
    }
  }

  async listResults(jobId: string, { offset, limit }: { offset: number; limit: number }): Promise<ChunkResult[]> {
    const policy = this.repo.job(jobId)?.policy ?? {};
    return this.repo.finishedChunks(jobId, Math.max(0, offset), limit).map((chunk) => toChunkResult(chunk, policy));
  }

  async finishedSince(jobId: string, cursor: number, limit: number): Promise<{ results: ChunkResult[]; cursor: number }> {
    const rows = this.repo.finishedSince(jobId, cursor, limit);
    const policy = rows.length ? (this.repo.job(jobId)?.policy ?? {}) : {};
    return { results: rows.map((row) => toChunkResult(row.chunk, policy)), cursor: rows.length ? rows[rows.length - 1].seq : cursor };
  }

  async getChunk(jobId: string, index: number): Promise<ChunkDetail | undefined> {
    const chunk = this.repo.chunk(jobId, index);
    if (!chunk) return undefined;
    // Nothing about an open chunk is shown, not even whether it has replicas: a second contributor could copy the
    // first one's output, and a first one could learn whether it is being checked. Once settled, everything is.
    if (chunk.state === 'open') return { index, input: this.repo.input(jobId, index), state: 'open', results: [] };
    this.anonymiser ??= anonymiser(this.repo.secret('contributor-anonymiser'));
    const anonymise = this.anonymiser;
    const detail: ChunkDetail = {
      index,
      input: this.repo.input(jobId, index),
      state: chunk.state,
      results: this.repo.replicas(jobId, index).sort((a, b) => a.attempt - b.attempt).map((r) => toResultDetail(r, anonymise)),
    };
    detail.result = toChunkResult(chunk, this.repo.job(jobId)?.policy ?? {});
    if (chunk.canonical) detail.canonical = chunk.canonical;
    return detail;
  }

  async close(): Promise<void> {
    this.repo.close();
  }

  /**
   * Draws the spot check for a result issued as eligible to stand alone, now that it is in, with the trust its
   * contributor has now: a checked result simply loses the flag and its chunk asks for another replica, later, like
   * any chunk awaiting a replica. Nothing in any response differs (the report is `accepted` either way).
   */
  private judgeAlone(job: JobRecord, replica: ReplicaRecord, now: number, siblings: ReplicaRecord[]): ReplicaRecord {
    if (!replica.standAlone) return replica;
    const trust = this.repo.trust(replica.contributorId, job.runtime) ?? newTrust();
    const alone = replica.state === 'ok' && standsAlone(trust, now, this.random(), this.trustPolicy);
    if (!alone) return { ...replica, standAlone: false };
    // A chunk that has another result already is decided by the two together (or by more), never alone.
    if (siblings.some((r) => r.leaseId !== replica.leaseId && r.state === 'ok')) return replica;
    // Decided, but published only after a delay drawn from how long this job's checked chunks took to settle after
    // their first result: a chunk accepted alone then settles when a checked one would have.
    return { ...replica, publishAt: now + this.publicationDelay(job.id, replica) };
  }

  /**
   * How long a lone decision waits before it is published: one of the job's recent check latencies (first result
   * to settlement of a chunk decided by a quorum), drawn at random; before the job has any, 1 s plus one to three
   * times the result's own duration (about what a second replica takes when contributors are waiting for work).
   */
  private publicationDelay(jobId: string, replica: ReplicaRecord): number {
    const seen = this.checkLatencies.get(jobId);
    if (seen?.length) return seen[Math.floor(this.random() * seen.length)];
    return Math.round(1_000 + (replica.durationMs ?? 0) * (1 + 2 * this.random()));
  }

  /** Remembers how long a chunk decided by a quorum took from its first result to its settlement. */
  private recordCheckLatency(jobId: string, replicas: ReplicaRecord[], now: number): void {
    let first = Infinity;
    for (const r of replicas) if (r.state === 'ok' && r.reportedAt !== undefined) first = Math.min(first, r.reportedAt);
    if (first === Infinity) return;
    let seen = this.checkLatencies.get(jobId);
    if (!seen) {
      // Bounded: jobs come and go, and only a few hundred are ever active at once.
      if (this.checkLatencies.size >= MAX_LATENCY_JOBS) this.checkLatencies.delete(this.checkLatencies.keys().next().value!);
      this.checkLatencies.set(jobId, (seen = []));
    }
    seen.push(Math.max(0, now - first));
    if (seen.length > CHECK_LATENCY_SAMPLES) seen.shift();
  }

  /**
   * Re-opens every chunk that a contributor caught this operation decided alone and that was not re-verified since:
   * each result is un-accepted, its chunk asks for replicas from others, and a job that had completed runs again.
   * Jobs that were cancelled or failed are left as they are (nothing more is issued for them).
   */
  private reverifyCaught(jobs: JobCache, now: number): void {
    for (const contributorId of this.caught) {
      this.caught.delete(contributorId);
      for (const replica of this.repo.decidedAloneBy(contributorId)) {
        const job = jobs.get(replica.jobId);
        const chunk = this.repo.chunk(job.id, replica.index)!;
        if (chunk.state !== 'ok' || chunk.canonical !== replica.leaseId || (job.state !== 'active' && job.state !== 'completed')) {
          this.repo.saveReplica({ ...replica, decidedAlone: false });
          continue;
        }
        if (job.state === 'completed') {
          job.state = 'active';
          delete job.finishedAt;
        }
        const before = this.repo.replicas(job.id, replica.index);
        const opened = reopen(chunk, before, replica.leaseId);
        this.apply(job, chunk, before, opened.replicas, now, new Set([replica.leaseId]), opened.chunk);
      }
    }
  }

  /** Expires one overdue replica: its chunk may want another. */
  private expire(job: JobRecord, replica: ReplicaRecord, now: number): void {
    this.changeReplica(job, replica, (r) => ({ ...r, state: 'expired', reportedAt: now }), now);
  }

  /** Changes one replica of a chunk, then settles the chunk. */
  private changeReplica(
    job: JobRecord,
    replica: ReplicaRecord,
    change: (r: ReplicaRecord) => ReplicaRecord,
    now: number,
    replicas?: ReplicaRecord[],
  ): void {
    const chunk = this.repo.chunk(job.id, replica.index)!;
    const before = replicas ?? this.repo.replicas(job.id, replica.index);
    const after = before.map((r) => (r.leaseId === replica.leaseId ? change(r) : r));
    this.apply(job, chunk, before, after, now, new Set([replica.leaseId]));
  }

  /**
   * Settles a chunk from its replicas and writes back what changed: replicas (`dirty` ones and any whose verdict
   * moved), the chunk, the job's counters, trust records, and the job's own state when it ends.
   */
  private apply(
    job: JobRecord,
    chunk: Chunk,
    before: ReplicaRecord[],
    after: ReplicaRecord[],
    now: number,
    dirty: Set<string>,
    /** The chunk to settle when it differs from the stored one (re-opened); counters move from `chunk`. */
    reopened?: Chunk,
  ): void {
    const trustCache = new Map<string, Trust>();
    const trustOf = (contributorId: string) => {
      if (!trustCache.has(contributorId)) trustCache.set(contributorId, this.repo.trust(contributorId, job.runtime) ?? newTrust());
      return trustCache.get(contributorId)!;
    };
    const settlement = settle(reopened ?? chunk, after, {
      policy: job.policy,
      timeoutMs: job.timeoutMs,
      retryCooldownMs: this.policy.retryCooldownMs,
      now,
      jobActive: job.state === 'active',
      isQuarantined: (id) => isQuarantined(trustOf(id)),
    });
    const settled = settlement.replicas as ReplicaRecord[];
    settled.forEach((replica, i) => {
      if (
        dirty.has(replica.leaseId) ||
        replica.verdict !== after[i].verdict ||
        replica.decidedAlone !== after[i].decidedAlone ||
        replica.publishAt !== after[i].publishAt
      ) {
        this.repo.saveReplica(replica);
      }
    });
    moveCounters(job, { chunk, replicas: before }, { chunk: settlement.chunk, replicas: settled });
    const from = reopened ?? chunk;
    const finished = from.state === 'open' && settlement.chunk.state !== 'open';
    if (finished && settlement.chunk.state === 'ok' && settlement.chunk.agreeing >= 2 && !settlement.chunk.known) {
      this.recordCheckLatency(job.id, settled, now);
    }
    const left = chunk.state !== 'open' && settlement.chunk.state === 'open';
    // A settled chunk resumes nowhere: its checkpoint goes (a re-opened one starts afresh, like its replicas).
    if (finished) this.repo.deleteCheckpoint(job.id, settlement.chunk.index);
    this.repo.saveChunk(job.id, settlement.chunk, finished ? ++job.finishSeq : left ? null : undefined);
    for (const update of settlement.trust) {
      const replica = settled.find((r) => r.leaseId === update.leaseId);
      // Trust is earned only on other submitters' jobs; a wrong answer counts against it wherever it was given.
      if (update.valid && !earnsTrust(job.owner, replica?.network && networkSubmitter(replica.network))) continue;
      const next = recordValidation(trustOf(update.contributorId), update.valid, now);
      trustCache.set(update.contributorId, next);
      this.repo.saveTrust(update.contributorId, job.runtime, next);
      if (!update.valid) this.caught.add(update.contributorId);
    }
    if (job.state === 'active') {
      const state = settledState(job);
      if (state) {
        job.state = state;
        job.finishedAt = now;
        // Every chunk errored: say why on the job itself, with the error of the chunk that settled it.
        if (state === 'failed' && !job.error) {
          job.error = `every chunk failed${settlement.chunk.error ? `; the last: ${settlement.chunk.error}` : ''}`;
        }
      }
    }
  }

  /** Ends a job early: running replicas are cancelled and no chunk wants more. */
  private stopJob(job: JobRecord, state: 'cancelled' | 'failed', now: number, error?: string): void {
    job.state = state;
    job.finishedAt = now;
    if (error) job.error = error;
    for (const replica of this.repo.runningReplicasOfJob(job.id)) {
      this.changeReplica(job, replica, (r) => ({ ...r, state: 'cancelled', reportedAt: now }), now);
    }
    // Chunks still queued want nothing more either, nor is any of them resumed.
    job.wanted -= this.repo.clearWanted(job.id);
    this.repo.deleteCheckpoints(job.id);
  }
}

/** Loads each job once per operation and writes every loaded job back at the end. */
class JobCache {
  private readonly jobs = new Map<string, JobRecord>();
  constructor(private readonly repo: Repo) {}
  /** Makes an already loaded job the one every later `get` returns. */
  put(job: JobRecord): void {
    this.jobs.set(job.id, job);
  }
  get(jobId: string): JobRecord {
    let job = this.jobs.get(jobId);
    if (!job) {
      job = this.repo.job(jobId)!;
      this.jobs.set(jobId, job);
    }
    return job;
  }
  saveAll(): void {
    for (const job of this.jobs.values()) this.repo.saveJob(job);
  }
}

/** How many idle threads have each job loaded. */
function countLoaded(jobIds: string[] = []): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of jobIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
