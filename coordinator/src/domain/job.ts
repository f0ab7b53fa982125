// Job-level rules: which public status a job shows, and how chunk transitions move its counters.
import type { ChunkCounts, JobStatus } from '../../../protocol/index.js';
import type { ChunkState } from './chunk.js';

/** What a store keeps as a job's own state; the public status is derived from it and the counts. */
export type StoredJobState = 'active' | 'completed' | 'failed' | 'cancelled';

export function publicStatus(state: StoredJobState, counts: ChunkCounts): JobStatus {
  if (state !== 'active') return state;
  const started = counts.running + counts.completed + counts.failed;
  return started === 0 ? 'queued' : 'running';
}

const counter = { queued: 'queued', leased: 'running', ok: 'completed', error: 'failed' } as const satisfies Record<
  ChunkState,
  keyof ChunkCounts
>;

/** Moves one chunk between counters (in place) when its state changes. */
export function moveCount(counts: ChunkCounts, from: ChunkState, to: ChunkState): void {
  if (from === to) return;
  counts[counter[from]] -= 1;
  counts[counter[to]] += 1;
}

/**
 * The state an active job reaches once every chunk has finished: `completed` when at least one chunk succeeded,
 * `failed` when every chunk errored. Returns undefined while chunks are still outstanding.
 */
export function settledState(counts: ChunkCounts): StoredJobState | undefined {
  if (counts.completed + counts.failed < counts.total) return undefined;
  return counts.completed === 0 && counts.total > 0 ? 'failed' : 'completed';
}
