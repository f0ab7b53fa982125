// In-memory Store: rows in Maps, lost on exit. For tests and `--store memory` throwaway runs. Operations are
// synchronous inside, so none interleave; a failing operation is not rolled back (SQLite's is).
import type { Runtime, RuntimeFields } from '../../../protocol/index.js';
import type { Chunk } from '../domain/chunk.js';
import { noUsage, type Quota, type QuotaUsage } from '../domain/quota.js';
import type { Trust } from '../domain/trust.js';
import { EngineStore, type ReplicaRecord, type Repo, type StoredCheckpoint } from './engine.js';
import { newSecret, type JobRecord } from './shared.js';
import { defaultSchedulingPolicy, type ApiKey, type SchedulingPolicy } from './store.js';

interface JobRows {
  job: JobRecord;
  /** Kept apart from `job`, which is copied on every read: the fields (megabytes of source) are never copied. */
  fields: RuntimeFields;
  chunks: Chunk[];
  inputs: unknown[];
  /** No chunk below this index is fresh (never issued). */
  freshFrom: number;
  /** Chunks that want replicas and already have some. */
  partial: Set<number>;
  /** Chunk indices in the order they finished (finish seq = position + 1); a re-opened chunk's entry is stale. */
  finished: number[];
  /** Each finished chunk's current finish seq; absent while open. */
  seqOf: Map<number, number>;
  /** Replica lease ids per chunk. */
  replicasOf: Map<number, string[]>;
  /** Each chunk's latest checkpoint. */
  checkpoints: Map<number, StoredCheckpoint>;
}

const copy = <T extends object>(value: T): T => ({ ...value });
const copyKey = (key: ApiKey): ApiKey => (key.quota ? { ...key, quota: { ...key.quota } } : { ...key });

class MemoryRepo implements Repo {
  private readonly rows = new Map<string, JobRows>();
  private readonly order: string[] = [];
  private readonly replicaRows = new Map<string, ReplicaRecord>();
  private readonly running = new Set<string>();
  /** Replicas holding a lone decision back (publishAt set). */
  private readonly held = new Set<string>();
  private readonly contributors = new Map<string, string>();
  private readonly trusts = new Map<string, Trust>();
  /** Lease ids per contributor of replicas that decided their chunk alone. */
  private readonly alone = new Map<string, Set<string>>();

  transaction<T>(fn: () => T): T {
    return fn();
  }

  /** Chunks of jobs being created, until their job row arrives. */
  private readonly pending = new Map<string, { chunks: Chunk[]; inputs: unknown[] }>();

  insertChunks(jobId: string, from: number, chunks: Chunk[], inputs: unknown[]): void {
    const pending = this.pending.get(jobId) ?? { chunks: [], inputs };
    chunks.forEach((chunk, i) => (pending.chunks[from + i] = copy(chunk)));
    this.pending.set(jobId, pending);
  }

  insertJob(job: JobRecord, fields: RuntimeFields): void {
    const { chunks, inputs } = this.pending.get(job.id)!;
    this.pending.delete(job.id);
    this.rows.set(job.id, { job: copy(job), fields, chunks, inputs, freshFrom: 0, partial: new Set(), finished: [], seqOf: new Map(), replicasOf: new Map(), checkpoints: new Map() });
    this.order.push(job.id);
  }

  job(jobId: string): JobRecord | undefined {
    const rows = this.rows.get(jobId);
    return rows && copy(rows.job);
  }

  jobFields(jobId: string): RuntimeFields | undefined {
    return this.rows.get(jobId)?.fields;
  }

  saveJob(job: JobRecord): void {
    this.rows.get(job.id)!.job = copy(job);
  }

  jobs(limit: number): JobRecord[] {
    return this.order.slice(-limit).reverse().map((id) => copy(this.rows.get(id)!.job));
  }

  servableJobs(runtimes: Runtime[]): JobRecord[] {
    return [...this.rows.values()]
      .map((rows) => rows.job)
      .filter((job) => job.state === 'active' && job.wanted > 0 && runtimes.includes(job.runtime))
      .sort((a, b) => a.lastServed - b.lastServed)
      .map(copy);
  }

  maxServed(): number {
    let max = 0;
    for (const rows of this.rows.values()) max = Math.max(max, rows.job.lastServed);
    return max;
  }

  chunk(jobId: string, index: number): Chunk | undefined {
    const chunk = this.rows.get(jobId)?.chunks[index];
    return chunk && copy(chunk);
  }

  input(jobId: string, index: number): unknown {
    return this.rows.get(jobId)!.inputs[index];
  }

  saveChunk(jobId: string, chunk: Chunk, finishSeq?: number | null): void {
    const rows = this.rows.get(jobId)!;
    rows.chunks[chunk.index] = copy(chunk);
    if (chunk.state === 'open' && chunk.wanted > 0 && chunk.issued > 0) rows.partial.add(chunk.index);
    else rows.partial.delete(chunk.index);
    if (finishSeq === null) rows.seqOf.delete(chunk.index);
    else if (finishSeq !== undefined) {
      rows.finished.push(chunk.index);
      rows.seqOf.set(chunk.index, rows.finished.length);
    }
  }

  partialChunksFor(jobId: string, contributorId: string, now: number, limit: number): Chunk[] {
    const rows = this.rows.get(jobId)!;
    const out: Chunk[] = [];
    for (const index of [...rows.partial].sort((a, b) => a - b)) {
      if (out.length >= limit) break;
      const chunk = rows.chunks[index];
      const held = (rows.replicasOf.get(index) ?? []).some((id) => {
        const r = this.replicaRows.get(id)!;
        return r.contributorId === contributorId && (r.state === 'running' || r.state === 'ok');
      });
      const cooling = chunk.lastFailedBy === contributorId && (chunk.retryAt ?? 0) > now;
      if (!held && !cooling) out.push(copy(chunk));
    }
    return out;
  }

  freshChunks(jobId: string, limit: number): Chunk[] {
    const rows = this.rows.get(jobId)!;
    while (rows.freshFrom < rows.chunks.length && rows.chunks[rows.freshFrom].issued > 0) rows.freshFrom++;
    const out: Chunk[] = [];
    for (let i = rows.freshFrom; i < rows.chunks.length && out.length < limit; i++) {
      const chunk = rows.chunks[i];
      if (chunk.state === 'open' && chunk.issued === 0 && chunk.wanted > 0) out.push(copy(chunk));
    }
    return out;
  }

  clearWanted(jobId: string): number {
    const rows = this.rows.get(jobId)!;
    let cleared = 0;
    rows.chunks.forEach((chunk) => {
      cleared += chunk.wanted;
      chunk.wanted = 0;
    });
    rows.partial.clear();
    return cleared;
  }

  replicas(jobId: string, index: number): ReplicaRecord[] {
    return (this.rows.get(jobId)!.replicasOf.get(index) ?? []).map((id) => copy(this.replicaRows.get(id)!));
  }

  replica(leaseId: string): ReplicaRecord | undefined {
    const replica = this.replicaRows.get(leaseId);
    return replica && copy(replica);
  }

  replicaWithSiblings(leaseId: string): ReplicaRecord[] {
    const replica = this.replicaRows.get(leaseId);
    return replica ? this.replicas(replica.jobId, replica.index) : [];
  }

  insertReplica(replica: ReplicaRecord): void {
    const byChunk = this.rows.get(replica.jobId)!.replicasOf;
    byChunk.set(replica.index, [...(byChunk.get(replica.index) ?? []), replica.leaseId]);
    this.saveReplica(replica);
  }

  saveReplica(replica: ReplicaRecord): void {
    this.replicaRows.set(replica.leaseId, copy(replica));
    if (replica.state === 'running') this.running.add(replica.leaseId);
    else this.running.delete(replica.leaseId);
    if (replica.publishAt !== undefined) this.held.add(replica.leaseId);
    else this.held.delete(replica.leaseId);
    let alone = this.alone.get(replica.contributorId);
    if (replica.decidedAlone) {
      if (!alone) this.alone.set(replica.contributorId, (alone = new Set()));
      alone.add(replica.leaseId);
    } else alone?.delete(replica.leaseId);
  }

  heldReplicas(now: number, limit: number): ReplicaRecord[] {
    const out: ReplicaRecord[] = [];
    for (const id of this.held) {
      const replica = this.replicaRows.get(id)!;
      if (replica.publishAt! <= now) out.push(copy(replica));
      if (out.length >= limit) break;
    }
    return out;
  }

  decidedAloneBy(contributorId: string): ReplicaRecord[] {
    return [...(this.alone.get(contributorId) ?? [])].map((id) => copy(this.replicaRows.get(id)!));
  }

  overdueReplicas(now: number, limit: number): ReplicaRecord[] {
    const out: ReplicaRecord[] = [];
    for (const id of this.running) {
      const replica = this.replicaRows.get(id)!;
      if (replica.deadline < now) out.push(copy(replica));
      if (out.length >= limit) break;
    }
    return out;
  }

  runningLeaseCount(contributorId: string): number {
    let count = 0;
    for (const id of this.running) if (this.replicaRows.get(id)!.contributorId === contributorId) count++;
    return count;
  }

  checkpoint(jobId: string, index: number): StoredCheckpoint | undefined {
    const checkpoint = this.rows.get(jobId)?.checkpoints.get(index);
    return checkpoint && { ...checkpoint, files: checkpoint.files.map(copy) };
  }

  saveCheckpoint(jobId: string, index: number, checkpoint: StoredCheckpoint): void {
    this.rows.get(jobId)!.checkpoints.set(index, { ...checkpoint, files: checkpoint.files.map(copy) });
  }

  deleteCheckpoint(jobId: string, index: number): void {
    this.rows.get(jobId)?.checkpoints.delete(index);
  }

  deleteCheckpoints(jobId: string): void {
    this.rows.get(jobId)?.checkpoints.clear();
  }

  runningReplicasOfJob(jobId: string): ReplicaRecord[] {
    return [...this.running].map((id) => this.replicaRows.get(id)!).filter((r) => r.jobId === jobId).map(copy);
  }

  finishedChunks(jobId: string, offset: number, limit: number): Chunk[] {
    const rows = this.rows.get(jobId);
    if (!rows) return [];
    const out: Chunk[] = [];
    for (let i = offset; i < rows.chunks.length && out.length < limit; i++) {
      if (rows.chunks[i].state !== 'open') out.push(copy(rows.chunks[i]));
    }
    return out;
  }

  finishedSince(jobId: string, cursor: number, limit: number): { chunk: Chunk; seq: number }[] {
    const rows = this.rows.get(jobId);
    if (!rows) return [];
    const out: { chunk: Chunk; seq: number }[] = [];
    for (let seq = cursor + 1; seq <= rows.finished.length && out.length < limit; seq++) {
      const index = rows.finished[seq - 1];
      if (rows.seqOf.get(index) === seq) out.push({ chunk: copy(rows.chunks[index]), seq });
    }
    return out;
  }

  private readonly keys = new Map<string, { key: ApiKey; hash: string }>();

  insertApiKey(key: ApiKey, secretHash: string): void {
    this.keys.set(key.id, { key: copyKey(key), hash: secretHash });
  }

  apiKeys(): ApiKey[] {
    return [...this.keys.values()].map(({ key }) => copyKey(key));
  }

  apiKeyByHash(secretHash: string): ApiKey | undefined {
    for (const { key, hash } of this.keys.values()) if (hash === secretHash) return copyKey(key);
    return undefined;
  }

  revokeApiKey(id: string, now: number): void {
    this.keys.get(id)!.key.revokedAt = now;
  }

  saveApiKeyQuota(id: string, quota: Quota): void {
    const { key } = this.keys.get(id)!;
    if (Object.keys(quota).length) key.quota = { ...quota };
    else delete key.quota;
  }

  /** Who stored each blob first, and its size. */
  private readonly blobs = new Map<string, { size: number; owner: string }>();

  insertBlob(name: string, size: number, owner: string): void {
    this.blobs.set(name, { size, owner });
  }

  ownerUsage(owner: string, since: number): QuotaUsage {
    const usage = noUsage();
    for (const { job } of this.rows.values()) {
      if (job.owner !== owner) continue;
      if (job.state === 'active') usage.jobs++;
      if (job.createdAt > since) usage.chunksPerDay += job.total;
    }
    for (const blob of this.blobs.values()) if (blob.owner === owner) usage.blobBytes += blob.size;
    return usage;
  }

  insertContributor(contributorId: string, tokenHash: string): void {
    this.contributors.set(contributorId, tokenHash);
  }

  contributorTokenHash(contributorId: string): string | undefined {
    return this.contributors.get(contributorId);
  }

  trust(contributorId: string, runtime: Runtime): Trust | undefined {
    return this.trusts.get(`${contributorId}\n${runtime}`);
  }

  saveTrust(contributorId: string, runtime: Runtime, trust: Trust): void {
    this.trusts.set(`${contributorId}\n${runtime}`, trust);
  }

  private readonly secrets = new Map<string, string>();
  secret(name: string): string {
    if (!this.secrets.has(name)) this.secrets.set(name, newSecret());
    return this.secrets.get(name)!;
  }

  close(): void {}
}

export class MemoryStore extends EngineStore {
  constructor(policy: SchedulingPolicy = defaultSchedulingPolicy, random?: () => number) {
    super(new MemoryRepo(), { policy, random });
  }
}
