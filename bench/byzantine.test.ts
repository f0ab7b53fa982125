// The proof of issue 3 and issue 9 (item 4): through the real HTTP protocol, each contributor on its own loopback
// address, quorum 2 accepts no wrong result from contributors that fail independently, a colluding pair cannot
// decide chunks once caught, a Sybil crowd on one network never holds both replicas of a chunk, and adaptive
// replication stays cheap with honest contributors while adversaries that adapt get nothing accepted once
// re-verification has run.
import { describe, expect, it } from 'vitest';
import { simulate, type Behaviour } from './byzantine.js';

const honest = (n: number): Behaviour[] => Array.from({ length: n }, () => ({ kind: 'honest' }));
const many = (n: number, behaviour: Behaviour): Behaviour[] => Array.from({ length: n }, () => behaviour);

describe('byzantine simulation (10,000 chunks, replicas 2, SQLite, real HTTP)', () => {
  it('accepts no wrong canonical result when 10% and 30% of answers are wrong at random', async () => {
    const result = await simulate({
      chunks: 10_000,
      contributors: [...honest(6), { kind: 'faulty', rate: 0.1 }, { kind: 'faulty', rate: 0.1 }, { kind: 'faulty', rate: 0.3 }, { kind: 'faulty', rate: 0.3 }],
      job: { replicas: 2 },
      seed: 42,
    });
    expect(result.job).toMatchObject({ status: 'completed', completed: 10_000, verified: 10_000 });
    expect(result.wrongAccepted).toBe(0);
    expect(result.failedChunks).toBe(0);
    // The faults were there and were caught: every wrong answer was judged invalid and replaced.
    expect(result.job.invalid).toBeGreaterThan(1_000);
    expect(result.resultsPerVerifiedChunk).toBeGreaterThan(2);
  }, 120_000);

  it('keeps a colluding pair from deciding chunks: wrong answers that get through stay under 0.5%', async () => {
    const result = await simulate({
      chunks: 10_000,
      contributors: [...honest(8), { kind: 'colluder' }, { kind: 'colluder' }],
      job: { replicas: 2 },
      seed: 7,
    });
    console.log(
      `colluding pair: ${result.colluderWins} wrong chunks accepted of ${result.job.total}, ` +
        `${result.job.invalid} invalid results, ${result.resultsPerVerifiedChunk.toFixed(3)} results per verified chunk`,
    );
    expect(result.job).toMatchObject({ status: 'completed', verified: 10_000 });
    expect(result.colluderWins).toBeLessThan(50);
    expect(result.job.invalid).toBeGreaterThan(1_000);
  }, 120_000);
});

describe('byzantine simulation: adversaries that adapt (3,000 chunks after a 1,000-chunk warm-up)', () => {
  const crowd = [...honest(7), ...many(3, { kind: 'sybil' })];

  it('never gives a Sybil crowd on one network both replicas of a chunk (and does without --distinct-networks off)', async () => {
    const guarded = await simulate({ chunks: 3_000, contributors: crowd, job: { replicas: 2 }, seed: 3 });
    expect(guarded.job).toMatchObject({ status: 'completed', verified: 3_000 });
    expect(guarded.colluderWins).toBe(0);
    const open = await simulate({ chunks: 3_000, contributors: crowd, job: { replicas: 2 }, seed: 3, policy: { distinctNetworks: false } });
    expect(open.colluderWins).toBeGreaterThan(0);
  }, 120_000);

  it('costs at most 1.15 results per verified chunk when everyone is honest', async () => {
    const result = await simulate({ chunks: 3_000, warmupChunks: 1_000, contributors: honest(10), job: { replicas: 2, adaptive: true }, seed: 5 });
    expect(result.job).toMatchObject({ status: 'completed', verified: 3_000 });
    expect(result.wrongAccepted).toBe(0);
    expect(result.resultsPerVerifiedChunk).toBeLessThanOrEqual(1.15);
    // The floor is there: about one result in ten is still cross-checked.
    expect(result.resultsPerVerifiedChunk).toBeGreaterThan(1.08);
  }, 120_000);

  it('accepts no wrong result, once re-verified, from trusted farmers cheating when unobserved or a trusted Sybil crowd', async () => {
    const farmers = await simulate({
      chunks: 3_000,
      warmupChunks: 1_000,
      contributors: [...honest(8), ...many(2, { kind: 'farmer' })],
      job: { replicas: 2, adaptive: true },
      seed: 11,
    });
    expect(farmers.byKind.farmer.cheated).toBeGreaterThan(10);
    expect(farmers.job).toMatchObject({ status: 'completed', verified: 3_000 });
    expect(farmers.wrongAccepted).toBeLessThanOrEqual(1);
    const sybils = await simulate({ chunks: 3_000, warmupChunks: 1_000, contributors: crowd, job: { replicas: 2, adaptive: true }, seed: 13 });
    expect(sybils.byKind.sybil.cheated).toBeGreaterThan(100);
    expect(sybils.job).toMatchObject({ status: 'completed', verified: 3_000 });
    expect(sybils.wrongAccepted).toBeLessThanOrEqual(1);
  }, 120_000);
});
