// Checks the Monte Carlo pi job: every chunk answered for its own seed, and the counts are consistent with pi.
//
// A chunk's `inside` is Binomial(samples, pi/4). We accept a count within 6 standard deviations of its mean, per
// chunk and for the total. A correct run fails that with probability about 2e-9 per test (41 tests), while a
// wrong estimator (a square instead of a circle, a biased generator, lost samples) misses by hundreds of sigmas.
import type { ChunkResult } from '../../protocol/index.js';
import { asRecord, numberField, outputsInOrder } from '../checking.js';
import job from './job.json' with { type: 'json' };

const P_INSIDE = Math.PI / 4;
const SIGMAS = 6;

/** Largest deviation from the mean that a Binomial(samples, pi/4) count is allowed. */
function allowedDeviation(samples: number): number {
  return SIGMAS * Math.sqrt(samples * P_INSIDE * (1 - P_INSIDE));
}

export function check(results: ChunkResult[]): void {
  const outputs = outputsInOrder(results, job.inputs.length);
  let totalInside = 0;
  let totalSamples = 0;
  outputs.forEach((output, index) => {
    const record = asRecord(output, index);
    const input = job.inputs[index];
    const seed = numberField(record, 'seed', index);
    const samples = numberField(record, 'samples', index);
    const inside = numberField(record, 'inside', index);
    if (seed !== input.seed || samples !== input.samples) {
      throw new Error(`chunk ${index}: answered seed ${seed} with ${samples} samples, but its input was seed ${input.seed} with ${input.samples}`);
    }
    if (!Number.isInteger(inside) || inside < 0 || inside > samples) {
      throw new Error(`chunk ${index}: inside = ${inside} is not a count between 0 and ${samples}`);
    }
    const deviation = inside - samples * P_INSIDE;
    if (Math.abs(deviation) > allowedDeviation(samples)) {
      throw new Error(
        `chunk ${index}: ${inside} of ${samples} points inside gives pi ~= ${((4 * inside) / samples).toFixed(5)}, ` +
          `${(deviation / (allowedDeviation(samples) / SIGMAS)).toFixed(1)} standard deviations from the expected count`,
      );
    }
    totalInside += inside;
    totalSamples += samples;
  });
  const deviation = totalInside - totalSamples * P_INSIDE;
  if (Math.abs(deviation) > allowedDeviation(totalSamples)) {
    throw new Error(
      `merged estimate pi ~= ${((4 * totalInside) / totalSamples).toFixed(6)} from ${totalSamples} points is ` +
        `${(deviation / (allowedDeviation(totalSamples) / SIGMAS)).toFixed(1)} standard deviations from pi`,
    );
  }
}
