// The proof of issue 3: over 10,000 chunks through the real HTTP protocol, quorum 2 accepts no wrong result from
// contributors that fail independently, and a colluding pair cannot decide chunks once it has been caught.
import { describe, expect, it } from 'vitest';
import { simulate, type Behaviour } from './byzantine.js';

const honest = (n: number): Behaviour[] => Array.from({ length: n }, () => ({ kind: 'honest' }));

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
