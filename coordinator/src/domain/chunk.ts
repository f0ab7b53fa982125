// The life of one chunk as a pure function: (chunk, event, policy, now) → next chunk. Stores read a chunk, call
// `nextChunk`, and write the answer back inside one atomic operation; nothing here reads the clock or does I/O.
import type { ChunkResult, FailureKind, ResultReport } from '../../../protocol/index.js';

/** `leased` chunks count as running; `ok` as completed; `error` as failed. */
export type ChunkState = 'queued' | 'leased' | 'ok' | 'error';

export interface Chunk {
  index: number;
  state: ChunkState;
  /** Leases issued so far (each lease is one attempt). */
  attempts: number;
  /** The lease currently running this chunk, while `leased`. */
  leaseId?: string;
  /** A contributor that just failed this chunk gets it again only after `retryAt`, so another one tries first. */
  lastFailedBy?: string;
  retryAt?: number;
  output?: unknown;
  stdout?: string;
  stderr?: string;
  error?: string;
  durationMs?: number;
  finishedAt?: number;
}

export interface ChunkPolicy {
  timeoutMs: number;
  maxAttempts: number;
  /** How long a contributor that failed a chunk waits before it may be given that chunk again. */
  retryCooldownMs: number;
}

export type ChunkEvent =
  | { type: 'leased'; leaseId: string }
  | { type: 'reported'; report: ResultReport; contributorId: string }
  | { type: 'expired'; contributorId: string }
  /** The job stopped (cancelled or failed): a running chunk goes back to the queue, unfinished. */
  | { type: 'released' };

export interface Transition {
  chunk: Chunk;
  /** Set when this event must fail the whole job (the script does not compile). */
  failJob?: string;
}

const retryable: ReadonlySet<FailureKind> = new Set(['timeout', 'crash']);

export function nextChunk(chunk: Chunk, event: ChunkEvent, policy: ChunkPolicy, now: number): Transition {
  switch (event.type) {
    case 'leased':
      if (chunk.state !== 'queued') throw new Error(`chunk ${chunk.index} cannot be leased in state ${chunk.state}`);
      return { chunk: { ...chunk, state: 'leased', attempts: chunk.attempts + 1, leaseId: event.leaseId } };

    case 'released':
      if (chunk.state !== 'leased') return { chunk };
      return { chunk: withoutLease({ ...chunk, state: 'queued', attempts: Math.max(0, chunk.attempts - 1) }) };

    case 'expired':
      if (chunk.state !== 'leased') return { chunk };
      return retryOrFail(chunk, policy, now, event.contributorId, lostMessage(chunk.attempts));

    case 'reported': {
      if (chunk.state !== 'leased') return { chunk };
      const r = event.report;
      const captured = { stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs };
      if (r.status === 'ok') {
        return { chunk: finish(chunk, { ...captured, state: 'ok', output: r.output ?? null }, now) };
      }
      const failure = r.failure ?? 'exception';
      const message = r.error || `chunk failed (${failure})`;
      if (retryable.has(failure)) {
        const finalMessage = failure === 'timeout' ? `timed out after ${policy.timeoutMs} ms` : message;
        return retryOrFail(chunk, policy, now, event.contributorId, finalMessage, captured);
      }
      const done = finish(chunk, { ...captured, state: 'error', error: message }, now);
      return failure === 'syntax' ? { chunk: done, failJob: message } : { chunk: done };
    }
  }
}

function retryOrFail(
  chunk: Chunk,
  policy: ChunkPolicy,
  now: number,
  contributorId: string,
  finalMessage: string,
  captured: Partial<Chunk> = {},
): Transition {
  if (chunk.attempts >= policy.maxAttempts) {
    const error = chunk.attempts > 1 ? `${finalMessage} (after ${chunk.attempts} attempts)` : finalMessage;
    return { chunk: finish(chunk, { ...captured, state: 'error', error }, now) };
  }
  return {
    chunk: withoutLease({ ...chunk, state: 'queued', lastFailedBy: contributorId, retryAt: now + policy.retryCooldownMs }),
  };
}

function finish(chunk: Chunk, fields: Partial<Chunk> & { state: 'ok' | 'error' }, now: number): Chunk {
  const done: Chunk = { ...withoutLease(chunk), ...fields, finishedAt: now };
  delete done.lastFailedBy;
  delete done.retryAt;
  return done;
}

function withoutLease(chunk: Chunk): Chunk {
  const copy = { ...chunk };
  delete copy.leaseId;
  return copy;
}

function lostMessage(attempts: number): string {
  return `lease expired: the contributor running it went away or stopped answering (${attempts} ${attempts === 1 ? 'attempt' : 'attempts'})`;
}

/** Whether `contributorId` may be given this queued chunk now. */
export function leasableBy(chunk: Pick<Chunk, 'lastFailedBy' | 'retryAt'>, contributorId: string, now: number): boolean {
  return chunk.lastFailedBy !== contributorId || (chunk.retryAt ?? 0) <= now;
}

export function isFinished(state: ChunkState): state is 'ok' | 'error' {
  return state === 'ok' || state === 'error';
}

/** A finished chunk as the results API shows it. */
export function toChunkResult(chunk: Chunk): ChunkResult {
  const result: ChunkResult = { index: chunk.index, status: chunk.state === 'ok' ? 'ok' : 'error' };
  if (chunk.state === 'ok') result.output = chunk.output;
  if (chunk.stdout) result.stdout = chunk.stdout;
  if (chunk.stderr) result.stderr = chunk.stderr;
  if (chunk.error !== undefined) result.error = chunk.error;
  result.attempts = chunk.attempts;
  if (chunk.durationMs !== undefined) result.durationMs = chunk.durationMs;
  if (chunk.finishedAt !== undefined) result.finishedAt = new Date(chunk.finishedAt).toISOString();
  return result;
}
