// Job-level rules: which public status a job shows, how its counters follow its chunks and replicas, and when it
// is settled.
import type { ChunkCounts, JobStatus, ResultCounts } from '../../../protocol/index.js';
import type { Chunk, Replica } from './chunk.js';

/** What a store keeps as a job's own state; the public status is derived from it and the counts. */
export type StoredJobState = 'active' | 'completed' | 'failed' | 'cancelled';

export type JobCounters = ChunkCounts & ResultCounts & { /** Sum of the chunks' `wanted`. */ wanted: number };

export const emptyCounters = (total: number, wanted: number): JobCounters => ({
  total,
  queued: total,
  running: 0,
  completed: 0,
  failed: 0,
  verified: 0,
  resultsIssued: 0,
  valid: 0,
  invalid: 0,
  inconclusive: 0,
  wanted,
});

export function publicStatus(state: StoredJobState, counts: ChunkCounts): JobStatus {
  if (state !== 'active') return state;
  const started = counts.running + counts.completed + counts.failed;
  return started === 0 ? 'queued' : 'running';
}

/**
 * The progress counter a chunk counts under: `queued` until its first replica is issued, then `running` until it
 * settles. Whether a replica computes it right now is deliberately not counted: the count would move when a sibling
 * replica is issued or ends, and tell a contributor (anyone may read a public job's counts) whether its chunk has one.
 */
export function chunkCounter(chunk: Pick<Chunk, 'state' | 'issued'>): keyof ChunkCounts {
  if (chunk.state === 'ok') return 'completed';
  if (chunk.state === 'error') return 'failed';
  return chunk.issued > 0 ? 'running' : 'queued';
}

/** Moves a job's counters (in place) from one version of a chunk and its replicas to the next. */
export function moveCounters(
  counters: JobCounters,
  before: { chunk: Chunk; replicas: readonly Replica[] },
  after: { chunk: Chunk; replicas: readonly Replica[] },
): void {
  counters[chunkCounter(before.chunk)] -= 1;
  counters[chunkCounter(after.chunk)] += 1;
  counters.wanted += after.chunk.wanted - before.chunk.wanted;
  counters.verified += Number(after.chunk.verified) - Number(before.chunk.verified);
  // Results are counted only once their chunk is settled: counts that moved with an open chunk's replicas would
  // tell a contributor whether its chunk has a sibling, and which verdict the sibling got.
  counters.resultsIssued += settled(after.chunk, after.chunk.issued) - settled(before.chunk, before.chunk.issued);
  for (const verdict of ['valid', 'invalid', 'inconclusive'] as const) {
    counters[verdict] += settled(after.chunk, count(after.replicas, verdict)) - settled(before.chunk, count(before.replicas, verdict));
  }
}

const settled = (chunk: Chunk, n: number) => (chunk.state === 'open' ? 0 : n);
const count = (replicas: readonly Replica[], verdict: Replica['verdict']) => replicas.filter((r) => r.verdict === verdict).length;

/**
 * The state an active job reaches once every chunk has finished: `completed` when at least one chunk succeeded,
 * `failed` when every chunk errored. Undefined while chunks are outstanding.
 */
export function settledState(counts: ChunkCounts): StoredJobState | undefined {
  if (counts.completed + counts.failed < counts.total) return undefined;
  return counts.completed === 0 && counts.total > 0 ? 'failed' : 'completed';
}
