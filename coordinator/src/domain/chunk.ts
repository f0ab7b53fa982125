// The transitioner: a chunk (BOINC's workunit) is recomputed from the states of its replicas (BOINC's results),
// never patched event by event. `settle(chunk, replicas, context)` is pure: it decides the chunk's state, how many
// more replicas it wants, the verdict on each replica, and the trust updates that follow. Stores change replicas
// (issued, reported, expired, released, cancelled), then call settle and write back what it returns.
import type { Attachment, FailureKind, ResultReport, VerificationPolicy } from '../../../protocol/index.js';
import { agreement, validator } from './validate.js';

/**
 * `released`: the contributor handed the lease back before it ended (it paused, or its tab stopped a chunk that would
 * not pause). Like `cancelled` it is no attempt at all: it uses up neither `maxErrors` nor `maxResults`.
 */
export type ReplicaState = 'running' | 'ok' | 'error' | 'expired' | 'released' | 'cancelled';
export type Verdict = 'pending' | 'valid' | 'invalid' | 'inconclusive';

/** One issued attempt at a chunk (a lease and, once reported, its result). */
export interface Replica {
  leaseId: string;
  contributorId: string;
  /** 1 for the chunk's first replica, then 2, 3, … */
  attempt: number;
  state: ReplicaState;
  verdict: Verdict;
  /**
   * Adaptive replication: issued to a trusted contributor, so its result may stand alone. When the result comes in,
   * the spot check is drawn and a checked result loses the flag (engine.ts); nothing the contributor sees changes.
   */
  standAlone: boolean;
  /** The chunk was accepted on this result alone; cleared once it is re-verified (its contributor was caught). */
  decidedAlone?: boolean;
  /**
   * A result that passed its spot check unchecked (it stands alone) decides its chunk only from this time: until
   * then the chunk looks exactly like one awaiting its next replica, so whoever watches the job cannot tell a lone
   * decision from a checked one by when it settles. Cleared when it is published (engine.ts, expireLeases).
   */
  publishAt?: number;
  /** The lessee's network (/24 or /48), when known: replicas of a chunk go to distinct networks. */
  network?: string;
  issuedAt: number;
  deadline: number;
  reportedAt?: number;
  output?: unknown;
  stdout?: string;
  stderr?: string;
  error?: string;
  failure?: FailureKind;
  attachments?: Attachment[];
  runtimeInfo?: Record<string, string>;
  durationMs?: number;
}

/** `open` until a canonical result is chosen (`ok`) or the chunk gives up (`error`). */
export type ChunkState = 'open' | 'ok' | 'error';

export interface Chunk {
  index: number;
  state: ChunkState;
  /** Replicas to issue now: the chunk is in the queue while this is above 0. */
  wanted: number;
  /** Replicas issued (cancelled ones excluded, released ones included) and those still running; derived from the replicas. */
  issued: number;
  running: number;
  /** The canonical replica, once chosen. */
  canonical?: string;
  verified: boolean;
  agreeing: number;
  output?: unknown;
  stdout?: string;
  stderr?: string;
  error?: string;
  attachments?: Attachment[];
  durationMs?: number;
  finishedAt?: number;
  /** A contributor whose replica just failed gets the chunk again only after `retryAt`, so another one tries first. */
  lastFailedBy?: string;
  retryAt?: number;
  /**
   * A known-answer chunk: the coordinator seeded it with an answer verified earlier, so one result is compared with
   * that answer instead of another replica. Never shown; the chunk looks like any other.
   */
  known?: { output: unknown };
}

export interface SettleContext {
  policy: VerificationPolicy;
  timeoutMs: number;
  retryCooldownMs: number;
  now: number;
  /** False once the job is cancelled or failed: nothing more is issued. */
  jobActive: boolean;
  isQuarantined: (contributorId: string) => boolean;
}

export interface TrustUpdate {
  contributorId: string;
  /** The replica judged. */
  leaseId: string;
  valid: boolean;
}

export interface Settlement {
  chunk: Chunk;
  replicas: Replica[];
  trust: TrustUpdate[];
}

export const newChunk = (index: number, policy: VerificationPolicy): Chunk => ({
  index,
  state: 'open',
  wanted: policy.adaptive ? 1 : policy.replicas,
  issued: 0,
  running: 0,
  verified: false,
  agreeing: 0,
});

/** A replica with a contributor's report applied. */
export function withReport<R extends Replica>(replica: R, report: ResultReport, now: number): R {
  const next: R = { ...replica, state: report.status === 'ok' ? 'ok' : 'error', reportedAt: now };
  if (report.status === 'ok') next.output = report.output ?? null;
  else {
    next.failure = report.failure ?? 'exception';
    next.error = report.error || `chunk failed (${next.failure})`;
  }
  if (report.stdout) next.stdout = report.stdout;
  if (report.stderr) next.stderr = report.stderr;
  if (report.attachments?.length) next.attachments = report.attachments;
  if (report.runtimeInfo && Object.keys(report.runtimeInfo).length) next.runtimeInfo = report.runtimeInfo;
  if (report.durationMs !== undefined) next.durationMs = report.durationMs;
  return next;
}

/** A job that takes one contributor's word for each chunk: no second opinion, retries by the same contributor allowed. */
export const isUnreplicated = (p: VerificationPolicy) => p.replicas === 1 && p.quorum === 1 && !p.adaptive;
// A reported `syntax` failure is an ordinary chunk error: the coordinator compiled the script itself at submission
// (routes/jobs.ts), so a contributor claiming otherwise is broken or lying, and must not decide the job's fate.
const FINAL_FAILURES: ReadonlySet<FailureKind> = new Set(['exception', 'output', 'syntax']);

export function settle(chunk: Chunk, replicas: Replica[], ctx: SettleContext): Settlement {
  const { policy } = ctx;
  const out = replicas.map((r) => ({ ...r }));
  const running = out.filter((r) => r.state === 'running');
  const successes = out.filter((r) => r.state === 'ok');
  const failed = out.filter((r) => r.state === 'error' || r.state === 'expired');
  // What counts against maxResults: a released lease was issued (its chunk loads its replicas again, its attempt
  // number is taken) but is no attempt.
  const attempts = out.filter((r) => r.state !== 'cancelled' && r.state !== 'released').length;
  const next: Chunk = { ...chunk, issued: out.filter((r) => r.state !== 'cancelled').length, running: running.length };
  const trust: TrustUpdate[] = [];
  const same = validator(policy.validation);
  const agree = agreement(policy);

  if (chunk.state === 'ok') {
    // Results arriving after verification are compared with the canonical one, for trust bookkeeping only.
    const canonical = out.find((r) => r.leaseId === chunk.canonical);
    for (const r of successes) {
      if (!canonical || r === canonical || (r.verdict !== 'pending' && r.verdict !== 'inconclusive')) continue;
      const valid = agree(r, canonical);
      r.verdict = valid ? 'valid' : 'invalid';
      if (valid) next.agreeing++;
      trust.push({ contributorId: r.contributorId, leaseId: r.leaseId, valid });
    }
    return { chunk: { ...next, wanted: 0 }, replicas: out, trust };
  }
  if (chunk.state === 'error' || !ctx.jobActive) return { chunk: { ...next, wanted: 0 }, replicas: out, trust };

  const lastFailure = [...failed].sort((a, b) => (a.reportedAt ?? 0) - (b.reportedAt ?? 0)).pop();
  if (lastFailure) {
    next.lastFailedBy = lastFailure.contributorId;
    next.retryAt = (lastFailure.reportedAt ?? ctx.now) + ctx.retryCooldownMs;
  }
  const unreplicated = isUnreplicated(policy);

  // Without replication a script error is the answer: running it again would fail the same way.
  if (unreplicated && lastFailure && FINAL_FAILURES.has(lastFailure.failure!)) {
    return { chunk: finishWithError(next, lastFailure.error!, ctx.now, lastFailure), replicas: out, trust };
  }

  // A known-answer chunk needs no quorum: the first result is compared with the answer the coordinator holds.
  if (chunk.known && successes.length > 0) {
    let agreeing = 0;
    for (const r of successes) {
      const valid = same(r.output, chunk.known.output);
      r.verdict = valid ? 'valid' : 'invalid';
      if (valid) agreeing++;
      trust.push({ contributorId: r.contributorId, leaseId: r.leaseId, valid });
    }
    const done: Chunk = { ...next, state: 'ok', wanted: 0, verified: true, agreeing, output: chunk.known.output, finishedAt: ctx.now };
    const first = successes.find((r) => r.verdict === 'valid');
    if (first) done.canonical = first.leaseId;
    delete done.lastFailedBy;
    delete done.retryAt;
    return { chunk: done, replicas: out, trust };
  }

  // Group the successful results by agreement (each group is compared through its first member).
  const groups: Replica[][] = [];
  for (const r of [...successes].sort((a, b) => (a.reportedAt ?? 0) - (b.reportedAt ?? 0))) {
    const group = groups.find((g) => agree(g[0], r));
    if (group) group.push(r);
    else groups.push([r]);
  }
  const trusted = (r: Replica) => !ctx.isQuarantined(r.contributorId);
  for (const group of [...groups].sort((a, b) => b.length - a.length)) {
    // A result stands alone only while nothing contradicts it: once answers differ, the quorum decides.
    const alone = groups.length === 1 ? group.find((r) => r.standAlone && trusted(r)) : undefined;
    if (!group.some(trusted) || (group.length < policy.quorum && !alone)) continue;
    if (group.length < policy.quorum && alone!.publishAt !== undefined && ctx.now < alone!.publishAt) {
      // Decided, not yet published: open, nothing wanted, as if its next replica were on its way.
      for (const r of successes) r.verdict = 'pending';
      return { chunk: { ...next, wanted: 0 }, replicas: out, trust };
    }
    const canonical = group.length >= policy.quorum ? group.find(trusted)! : alone!;
    const compared = successes.length >= 2;
    for (const r of successes) {
      const valid = group.includes(r);
      r.verdict = valid ? 'valid' : 'invalid';
      if (compared && !unreplicated) trust.push({ contributorId: r.contributorId, leaseId: r.leaseId, valid });
    }
    // Remembered so that the chunk is re-opened if this contributor is caught later.
    if (group.length < policy.quorum) canonical.decidedAlone = true;
    for (const r of out) delete r.publishAt; // published now
    const done: Chunk = {
      ...next,
      state: 'ok',
      wanted: 0,
      canonical: canonical.leaseId,
      verified: group.length >= 2 || !!alone,
      agreeing: group.length,
      output: canonical.output,
      stdout: canonical.stdout,
      stderr: canonical.stderr,
      attachments: canonical.attachments,
      durationMs: canonical.durationMs,
      finishedAt: ctx.now,
    };
    delete done.error;
    delete done.lastFailedBy;
    delete done.retryAt;
    return { chunk: done, replicas: out, trust };
  }

  // Errors count once per contributor: one identity cannot use up `maxErrors` alone. (In replicated jobs each
  // contributor gets a chunk at most once anyway, see mayTake; unreplicated jobs trust their one contributor.)
  const failedBy = new Set(failed.map((r) => r.contributorId));
  if ((unreplicated ? failed.length : failedBy.size) >= policy.maxErrors) {
    const message = failureMessage(lastFailure!, ctx.timeoutMs, attempts);
    for (const r of successes) r.verdict = 'inconclusive';
    return { chunk: finishWithError(next, message, ctx.now, lastFailure), replicas: out, trust };
  }

  // How many more successful results could reach a decision: a group made only of quarantined contributors
  // still needs one trusted member.
  let best = 0;
  for (const group of groups) best = Math.max(best, group.some(trusted) ? group.length : Math.min(group.length, policy.quorum - 1));
  let wanted: number;
  if (chunk.known) wanted = running.length ? 0 : 1;
  else if (attempts === 0) wanted = policy.adaptive ? 1 : policy.replicas;
  else if (policy.adaptive && successes.length === 0 && running.some((r) => r.standAlone && trusted(r))) wanted = 0;
  else wanted = Math.max(0, policy.quorum - best - running.length);
  wanted = Math.min(wanted, Math.max(0, policy.maxResults - attempts));

  for (const r of successes) r.verdict = groups.length > 1 ? 'inconclusive' : 'pending';
  if (wanted === 0 && running.length === 0) {
    // Nothing more may be issued and nothing is pending: give up.
    const message = successes.length
      ? `no consensus after ${attempts} results: ${groups.length} different answers`
      : failureMessage(lastFailure!, ctx.timeoutMs, attempts);
    for (const r of successes) r.verdict = 'inconclusive';
    return { chunk: finishWithError(next, message, ctx.now, successes.length ? undefined : lastFailure), replicas: out, trust };
  }
  return { chunk: { ...next, wanted }, replicas: out, trust };
}

/**
 * Re-opens a chunk that was accepted on one contributor's result alone, because that contributor has since been
 * caught: the result is no longer accepted and counts as one vote among the replicas the chunk asks for next (settle
 * decides how many). Settle the returned chunk and replicas as after any other change.
 */
export function reopen<R extends Replica>(chunk: Chunk, replicas: R[], leaseId: string): { chunk: Chunk; replicas: R[] } {
  const open: Chunk = { ...chunk, state: 'open', verified: false, agreeing: 0 };
  for (const key of ['canonical', 'output', 'stdout', 'stderr', 'attachments', 'durationMs', 'finishedAt', 'error'] as const) delete open[key];
  return {
    chunk: open,
    replicas: replicas.map((r) => (r.leaseId === leaseId ? { ...r, standAlone: false, decidedAlone: false, verdict: 'pending' } : r)),
  };
}

/** Ends a chunk as an error; the failing replica's captured output, if any, is kept with it. */
function finishWithError(chunk: Chunk, error: string, now: number, from?: Replica): Chunk {
  const done: Chunk = { ...chunk, state: 'error', wanted: 0, error, finishedAt: now };
  if (from?.stdout) done.stdout = from.stdout;
  if (from?.stderr) done.stderr = from.stderr;
  if (from?.durationMs !== undefined) done.durationMs = from.durationMs;
  delete done.lastFailedBy;
  delete done.retryAt;
  return done;
}

function failureMessage(replica: Replica, timeoutMs: number, issued: number): string {
  const base =
    replica.state === 'expired'
      ? 'lease expired: the contributor running it went away or stopped answering'
      : replica.failure === 'timeout'
        ? `timed out after ${timeoutMs} ms`
        : (replica.error ?? 'failed');
  return issued > 1 ? `${base} (after ${issued} attempts)` : base;
}

/**
 * Whether `contributorId` may be issued a replica of this chunk now: replicas go to distinct contributors. With
 * `once` (replicated jobs) a contributor gets a chunk at most once, whatever became of its replica, so one identity
 * can neither use up `maxErrors` nor `maxResults` by failing or abandoning the same chunk again and again.
 */
export function mayTake(
  chunk: Pick<Chunk, 'lastFailedBy' | 'retryAt'>,
  replicas: Pick<Replica, 'contributorId' | 'state'>[],
  contributorId: string,
  now: number,
  once = false,
): boolean {
  if (replicas.some((r) => r.contributorId === contributorId && (once || r.state === 'running' || r.state === 'ok'))) return false;
  return chunk.lastFailedBy !== contributorId || (chunk.retryAt ?? 0) <= now;
}
