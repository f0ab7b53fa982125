// The transitioner as a pure function: every state and edge of a chunk's life under replication.
import { describe, expect, it } from 'vitest';
import type { VerificationPolicy } from '../../../protocol/index.js';
import { mayTake, newChunk, reopen, settle, withReport, type Chunk, type Replica, type SettleContext } from './chunk.js';

const T = 1_000_000;
const policy = (p: Partial<VerificationPolicy> = {}): VerificationPolicy => ({
  replicas: 1,
  quorum: 1,
  maxResults: 3,
  maxErrors: 3,
  validation: { kind: 'exact' },
  adaptive: false,
  ...p,
});
const ctx = (p: Partial<VerificationPolicy> = {}, extra: Partial<SettleContext> = {}): SettleContext => ({
  policy: policy(p),
  timeoutMs: 5_000,
  retryCooldownMs: 30_000,
  now: T,
  jobActive: true,
  isQuarantined: () => false,
  ...extra,
});

let seq = 0;
function issue(contributorId: string, extra: Partial<Replica> = {}): Replica {
  seq++;
  return { leaseId: `l${seq}`, contributorId, attempt: seq, state: 'running', verdict: 'pending', standAlone: false, issuedAt: T, deadline: T + 10_000, ...extra };
}
const ok = (r: Replica, output: unknown, at = T + seq) => withReport(r, { leaseId: r.leaseId, leaseToken: 't', status: 'ok', output }, at);
const fail = (r: Replica, failure: 'exception' | 'timeout' | 'crash' | 'syntax' | 'output', error = 'boom', at = T + seq) =>
  withReport(r, { leaseId: r.leaseId, leaseToken: 't', status: 'error', failure, error, stderr: 'trace' }, at);

/** Runs settle the way a store does: after each change, with the previous chunk. */
function run(p: Partial<VerificationPolicy>, replicas: Replica[], extra: Partial<SettleContext> = {}, start?: Chunk) {
  const c = ctx(p, extra);
  return settle(start ?? newChunk(0, c.policy), replicas, c);
}

describe('a new chunk', () => {
  it('wants `replicas` results at first, or one under adaptive replication', () => {
    expect(newChunk(0, policy({ replicas: 3, quorum: 2 })).wanted).toBe(3);
    expect(newChunk(0, policy({ replicas: 2, quorum: 2, adaptive: true })).wanted).toBe(1);
  });
  it('once issued, wants what is still missing', () => {
    const s = run({ replicas: 2, quorum: 2 }, [issue('a')]);
    expect(s.chunk).toMatchObject({ state: 'open', wanted: 1, issued: 1, running: 1 });
  });
});

describe('without replication (quorum 1)', () => {
  it('accepts the first successful result, unverified', () => {
    const s = run({}, [ok(issue('a'), 42)]);
    expect(s.chunk).toMatchObject({ state: 'ok', output: 42, verified: false, agreeing: 1, wanted: 0 });
    expect(s.trust).toEqual([]);
  });
  it('makes a Python exception final at once, keeping stderr', () => {
    const s = run({}, [fail(issue('a'), 'exception', 'Traceback ...\nValueError: x')]);
    expect(s.chunk).toMatchObject({ state: 'error', error: 'Traceback ...\nValueError: x', stderr: 'trace' });
  });
  it('treats a reported syntax error as an error of its chunk only', () => {
    const s = run({}, [fail(issue('a'), 'syntax', 'SyntaxError: invalid syntax')]);
    expect(s).not.toHaveProperty('failJob');
    expect(s.chunk).toMatchObject({ state: 'error', error: 'SyntaxError: invalid syntax' });
  });
  it('retries a timeout, with the failing contributor cooling down', () => {
    const s = run({ maxResults: 3, maxErrors: 3 }, [fail(issue('a'), 'timeout', 'KeyboardInterrupt', T)]);
    expect(s.chunk).toMatchObject({ state: 'open', wanted: 1, lastFailedBy: 'a', retryAt: T + 30_000 });
    expect(mayTake(s.chunk, s.replicas, 'a', T + 29_999)).toBe(false);
    expect(mayTake(s.chunk, s.replicas, 'a', T + 30_000)).toBe(true);
    expect(mayTake(s.chunk, s.replicas, 'b', T)).toBe(true);
  });
  it('gives up after maxErrors timeouts with "timed out after N ms"', () => {
    const s = run({ maxResults: 2, maxErrors: 2 }, [fail(issue('a'), 'timeout'), fail(issue('b'), 'timeout')]);
    expect(s.chunk).toMatchObject({ state: 'error', error: 'timed out after 5000 ms (after 2 attempts)' });
  });
  it('treats expired leases as lost attempts', () => {
    const lost = { ...issue('a'), state: 'expired' as const, reportedAt: T };
    expect(run({ maxErrors: 1, maxResults: 1 }, [lost]).chunk.error).toMatch(/^lease expired/);
  });
  it('asks a second contributor when the only result comes from a quarantined one', () => {
    const s = run({}, [ok(issue('q'), 1)], { isQuarantined: (id) => id === 'q' });
    expect(s.chunk).toMatchObject({ state: 'open', wanted: 1 });
    const decided = run({}, [...s.replicas, ok(issue('h'), 1)], { isQuarantined: (id) => id === 'q' }, s.chunk);
    expect(decided.chunk).toMatchObject({ state: 'ok', agreeing: 2, verified: true });
  });
});

describe('with quorum 2', () => {
  const p = { replicas: 2, quorum: 2, maxResults: 5, maxErrors: 3 };
  it('waits for the second result, then verifies when both agree', () => {
    const a = ok(issue('a'), { x: 1, y: 2 });
    const first = run(p, [a, issue('b')]);
    expect(first.chunk).toMatchObject({ state: 'open', wanted: 0, running: 1 });
    expect(first.replicas[0].verdict).toBe('pending');
    const both = run(p, [a, ok(issue('b'), { y: 2, x: 1 })]);
    expect(both.chunk).toMatchObject({ state: 'ok', verified: true, agreeing: 2, output: { x: 1, y: 2 } });
    expect(both.replicas.map((r) => r.verdict)).toEqual(['valid', 'valid']);
    expect(both.trust).toEqual([
      expect.objectContaining({ contributorId: 'a', valid: true }),
      expect.objectContaining({ contributorId: 'b', valid: true }),
    ]);
  });
  it('on disagreement marks both inconclusive and issues a third; the majority decides', () => {
    const a = ok(issue('a'), 1);
    const b = ok(issue('b'), 2);
    const tie = run(p, [a, b]);
    expect(tie.chunk).toMatchObject({ state: 'open', wanted: 1 });
    expect(tie.replicas.map((r) => r.verdict)).toEqual(['inconclusive', 'inconclusive']);
    const decided = run(p, [a, b, ok(issue('c'), 2)], {}, tie.chunk);
    expect(decided.chunk).toMatchObject({ state: 'ok', output: 2, agreeing: 2 });
    expect(decided.replicas.map((r) => r.verdict)).toEqual(['invalid', 'valid', 'valid']);
    expect(decided.trust).toContainEqual(expect.objectContaining({ contributorId: 'a', valid: false }));
  });
  it('fails with "no consensus" when maxResults is reached, keeping every answer inconclusive', () => {
    const replicas = [ok(issue('a'), 1), ok(issue('b'), 2), ok(issue('c'), 3)];
    const s = run({ ...p, maxResults: 3 }, replicas);
    expect(s.chunk).toMatchObject({ state: 'error', error: 'no consensus after 3 results: 3 different answers' });
    expect(s.replicas.every((r) => r.verdict === 'inconclusive')).toBe(true);
  });
  it('does not count errors toward the quorum and replaces them', () => {
    const s = run(p, [ok(issue('a'), 1), fail(issue('b'), 'timeout')]);
    expect(s.chunk).toMatchObject({ state: 'open', wanted: 1 });
  });
  it('fails after maxErrors error results, with the last error', () => {
    const s = run(p, [fail(issue('a'), 'exception', 'E1'), fail(issue('b'), 'exception', 'E2'), fail(issue('c'), 'exception', 'E3')]);
    expect(s.chunk).toMatchObject({ state: 'error', error: 'E3 (after 3 attempts)' });
  });
  it('counts the errors of one contributor once: it cannot use up maxErrors alone', () => {
    const s = run(p, [fail(issue('x'), 'exception'), fail(issue('x'), 'syntax'), { ...issue('x'), state: 'expired', reportedAt: T }]);
    expect(s.chunk).toMatchObject({ state: 'open', wanted: 2 });
    const third = run(p, [...s.replicas, fail(issue('b'), 'exception'), fail(issue('c'), 'exception', 'E3')], {}, s.chunk);
    expect(third.chunk).toMatchObject({ state: 'error', error: 'E3 (after 5 attempts)' });
  });
  it('gives a replicated chunk to a contributor at most once, whatever became of its replica', () => {
    const s = run(p, [fail(issue('a'), 'timeout', 'slow', T)]);
    expect(mayTake(s.chunk, s.replicas, 'a', T + 10 * 60_000, true)).toBe(false);
    expect(mayTake(s.chunk, s.replicas, 'b', T, true)).toBe(true);
  });
  it('a pair of quarantined contributors cannot decide alone', () => {
    const q = (id: string) => id.startsWith('q');
    const s = run(p, [ok(issue('q1'), 9), ok(issue('q2'), 9)], { isQuarantined: q });
    expect(s.chunk).toMatchObject({ state: 'open', wanted: 1 });
    const honest = run(p, [...s.replicas, ok(issue('h'), 7)], { isQuarantined: q }, s.chunk);
    expect(honest.chunk.state).toBe('open');
    const agree = run(p, [...honest.replicas, ok(issue('h2'), 7)], { isQuarantined: q }, honest.chunk);
    expect(agree.chunk).toMatchObject({ state: 'ok', output: 7 });
  });
  it('compares late results with the canonical one, for trust only', () => {
    const verified = run({ ...p, replicas: 3 }, [ok(issue('a'), 5), ok(issue('b'), 5), issue('c')]);
    expect(verified.chunk.state).toBe('ok');
    const [a, b, c] = verified.replicas;
    const late = run({ ...p, replicas: 3 }, [a, b, ok(c, 6)], {}, verified.chunk);
    expect(late.chunk).toMatchObject({ state: 'ok', output: 5, agreeing: 2 });
    expect(late.replicas[2].verdict).toBe('invalid');
    expect(late.trust).toEqual([expect.objectContaining({ contributorId: 'c', valid: false })]);
  });
  it('uses tolerance validation when asked', () => {
    const tol = { ...p, validation: { kind: 'tolerance' as const, abs: 1e-6 } };
    expect(run(tol, [ok(issue('a'), [0.1 + 0.2]), ok(issue('b'), [0.3])]).chunk.state).toBe('ok');
    expect(run(tol, [ok(issue('a'), [0.3]), ok(issue('b'), [0.300002])]).chunk.state).toBe('open');
  });
  it('never gives two replicas of one chunk to the same contributor', () => {
    const s = run(p, [issue('a')]);
    expect(mayTake(s.chunk, s.replicas, 'a', T)).toBe(false);
    expect(mayTake(s.chunk, s.replicas, 'b', T)).toBe(true);
  });
});

describe('adaptive replication', () => {
  const p = { replicas: 2, quorum: 2, maxResults: 5, maxErrors: 3, adaptive: true };
  it("accepts a trusted contributor's result alone, verified but without trust bookkeeping", () => {
    const waiting = run(p, [issue('t', { standAlone: true })]);
    expect(waiting.chunk.wanted).toBe(0);
    const s = run(p, [ok(issue('t', { standAlone: true }), 3)]);
    expect(s.chunk).toMatchObject({ state: 'ok', verified: true, agreeing: 1 });
    expect(s.trust).toEqual([]);
  });
  it('asks for a second replica at once when the first goes to an untrusted contributor', () => {
    expect(run(p, [issue('u')]).chunk.wanted).toBe(1);
  });
  it('falls back to the quorum when a stand-alone replica fails', () => {
    expect(run(p, [fail(issue('t', { standAlone: true }), 'crash')]).chunk.wanted).toBe(2);
  });
});

describe('a stopped job', () => {
  it('wants nothing more and leaves the chunk open', () => {
    const s = run({ replicas: 2, quorum: 2 }, [{ ...issue('a'), state: 'cancelled' }], { jobActive: false });
    expect(s.chunk).toMatchObject({ state: 'open', wanted: 0, issued: 0 });
  });
});

describe('adaptive replication: lone decisions, re-verification, known answers', () => {
  const adaptive = { replicas: 2, quorum: 2, adaptive: true, maxResults: 5 };
  it('marks a result accepted alone, so that it can be re-opened if its contributor is caught', () => {
    const s = run(adaptive, [ok(issue('a', { standAlone: true }), 7)]);
    expect(s.chunk).toMatchObject({ state: 'ok', verified: true, agreeing: 1 });
    expect(s.replicas[0].decidedAlone).toBe(true);
    const checked = run(adaptive, [ok(issue('a'), 7), ok(issue('b'), 7)]);
    expect(checked.replicas.some((r) => r.decidedAlone)).toBe(false);
  });
  it('re-opens a chunk decided alone: the result is no longer accepted and another replica is wanted', () => {
    const lone = run(adaptive, [ok(issue('a', { standAlone: true }), 666)]);
    const opened = reopen(lone.chunk, lone.replicas, lone.replicas[0].leaseId);
    expect(opened.chunk).toMatchObject({ state: 'open', verified: false, agreeing: 0 });
    expect(opened.chunk.output).toBeUndefined();
    expect(opened.replicas[0]).toMatchObject({ standAlone: false, decidedAlone: false, verdict: 'pending' });
    const again = settle(opened.chunk, opened.replicas, ctx(adaptive));
    expect(again.chunk).toMatchObject({ state: 'open', wanted: 1 });
    // An honest second opinion disagrees; a third decides, and the caught contributor's answer is judged invalid.
    const second = ok(issue('b'), 42);
    const third = ok(issue('c'), 42);
    const decided = settle(again.chunk, [...again.replicas, second, third], ctx(adaptive));
    expect(decided.chunk).toMatchObject({ state: 'ok', output: 42, agreeing: 2 });
    expect(decided.replicas[0].verdict).toBe('invalid');
    expect(decided.trust).toContainEqual(expect.objectContaining({ contributorId: 'a', valid: false }));
  });
  it('checks a known-answer chunk against the answer the coordinator holds, with one result', () => {
    const known: Chunk = { ...newChunk(0, policy(adaptive)), known: { output: 42 } };
    const wrong = settle(known, [ok(issue('a', { standAlone: true }), 41)], ctx(adaptive));
    expect(wrong.chunk).toMatchObject({ state: 'ok', output: 42, verified: true, agreeing: 0 });
    expect(wrong.replicas[0].verdict).toBe('invalid');
    expect(wrong.trust).toEqual([expect.objectContaining({ contributorId: 'a', valid: false })]);
    const right = settle(known, [ok(issue('b'), 42)], ctx(adaptive));
    expect(right.chunk).toMatchObject({ state: 'ok', agreeing: 1 });
    expect(right.trust).toEqual([expect.objectContaining({ contributorId: 'b', valid: true })]);
    // While its one replica runs it wants nothing more; after an error, one more.
    expect(settle(known, [issue('c')], ctx(adaptive)).chunk.wanted).toBe(0);
    expect(settle(known, [fail(issue('c'), 'crash')], ctx(adaptive)).chunk.wanted).toBe(1);
  });
});
