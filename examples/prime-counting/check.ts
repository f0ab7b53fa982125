// Checks the prime-counting job against an independent sieve of Eratosthenes in TypeScript, chunk by chunk,
// and the merged totals against the published values pi(10^7) = 664,579 and 58,980 twin-prime pairs below 10^7.
import type { ChunkResult } from '../../protocol/index.js';
import { asRecord, outputsInOrder } from '../checking.js';
import job from './job.json' with { type: 'json' };

const PRIMES_BELOW_10_MILLION = 664_579;
const TWIN_PAIRS_BELOW_10_MILLION = 58_980;

/** `isComposite[n]` is 0 exactly when n is prime (0 and 1 are marked composite). */
function sieve(limit: number): Uint8Array {
  const isComposite = new Uint8Array(limit + 1);
  isComposite[0] = 1;
  if (limit >= 1) isComposite[1] = 1;
  for (let p = 2; p * p <= limit; p++) {
    if (isComposite[p]) continue;
    for (let multiple = p * p; multiple <= limit; multiple += p) isComposite[multiple] = 1;
  }
  return isComposite;
}

interface RangeStats {
  lo: number;
  hi: number;
  count: number;
  first: number | null;
  last: number | null;
  twins: number;
}

function expectedStats(isComposite: Uint8Array, lo: number, hi: number): RangeStats {
  const stats: RangeStats = { lo, hi, count: 0, first: null, last: null, twins: 0 };
  for (let n = lo; n < hi; n++) {
    if (isComposite[n]) continue;
    stats.count++;
    stats.first ??= n;
    stats.last = n;
    if (!isComposite[n + 2]) stats.twins++;
  }
  return stats;
}

export function check(results: ChunkResult[]): void {
  const outputs = outputsInOrder(results, job.inputs.length);
  const isComposite = sieve(Math.max(...job.inputs.map((input) => input.hi)) + 2);
  let totalCount = 0;
  let totalTwins = 0;
  outputs.forEach((output, index) => {
    const { lo, hi } = job.inputs[index];
    const expected = expectedStats(isComposite, lo, hi);
    const record = asRecord(output, index);
    for (const field of Object.keys(expected) as (keyof RangeStats)[]) {
      if (record[field] !== expected[field]) {
        throw new Error(`chunk ${index} [${lo}, ${hi}): ${field} should be ${expected[field]}, got ${JSON.stringify(record[field])}`);
      }
    }
    totalCount += expected.count;
    totalTwins += expected.twins;
  });
  // Guards the reference sieve and the job's ranges themselves (a gap or overlap between ranges changes the totals).
  if (totalCount !== PRIMES_BELOW_10_MILLION) {
    throw new Error(`the ranges hold ${totalCount} primes in total, but pi(10^7) = ${PRIMES_BELOW_10_MILLION}`);
  }
  if (totalTwins !== TWIN_PAIRS_BELOW_10_MILLION) {
    throw new Error(`the ranges hold ${totalTwins} twin-prime pairs, but there are ${TWIN_PAIRS_BELOW_10_MILLION} below 10^7`);
  }
}
