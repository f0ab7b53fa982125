// Every bundled example, run with native CPython, must pass its own check, and each check must reject
// results that are wrong in the ways a broken or dishonest contributor would make them wrong.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChunkResult } from '../protocol/index.js';
import { examples as catalog } from './catalog.js';
import { EXAMPLE_ORDER } from './example.js';
import { loadExamples } from './load.js';
import { runNatively } from './run-native.js';

const examples = await loadExamples();

type Corruption = [description: string, corrupt: (results: ChunkResult[]) => void];
type Output = Record<string, any>;
const output = (results: ChunkResult[], index: number) => results[index].output as Output;

/** Wrong-but-plausible result sets, per example; each must make its check throw. */
const corruptions: Record<string, Corruption[]> = {
  'monte-carlo-pi': [
    ['a square-ish estimator (pi ~= 3.2 in every chunk)', (results) => results.forEach((r) => ((r.output as Output).inside = 80_000))],
    // +600 per chunk stays inside each chunk's 6-sigma band (~780) but puts the total ~29 sigma off.
    ['a small bias in every chunk that only the merged total reveals', (results) => results.forEach((r) => ((r.output as Output).inside += 600))],
    ['a chunk that answered with another seed', (results) => (output(results, 3).seed = 1004)],
  ],
  'prime-counting': [
    ['one prime too many in one range', (results) => (output(results, 7).count += 1)],
    ['a wrong twin-prime count', (results) => (output(results, 0).twins -= 1)],
    ['two ranges swapped', (results) => ([results[1].output, results[2].output] = [results[2].output, results[1].output])],
  ],
  'sir-sweep': [
    ['a peak one day late', (results) => (output(results, 12).peak_day += 1)],
    ['a final size 1% too large', (results) => (output(results, 5).final_size *= 1.01)],
    ['an epidemic where R0 < 1', (results) => Object.assign(output(results, 10), { peak_infected: 500, peak_day: 3 })],
  ],
  'word-frequencies': [
    ['one extra occurrence of "the"', (results) => (output(results, 0).counts.the += 1)],
    ['a word missing from a chunk', (results) => delete output(results, 4).counts[Object.keys(output(results, 4).counts)[0]]],
    ['a top-ten list out of order', (results) => output(results, 2).top.reverse()],
  ],
  'collatz-cli': [
    ['a longest chain one step short', (results) => (results[9].output = (results[9].output as string).replace(/steps=(\d+)/, (_, s) => `steps=${Number(s) - 1}`))],
    ['a report cut short', (results) => (results[0].output = (results[0].output as string).split('\n').slice(0, 3).join('\n'))],
    ['an empty report', (results) => (results[4].output = '')],
  ],
};

/** Corruptions that every check must catch whatever the example. */
const generic: Corruption[] = [
  ['a missing chunk', (results) => results.pop()],
  ['a failed chunk', (results) => Object.assign(results[0], { status: 'error', error: 'Traceback: boom', output: undefined })],
  ['a duplicated chunk', (results) => results.push(structuredClone(results[0]))],
];

describe('the example catalog', () => {
  it('lists every example folder, in the intended order', () => {
    expect(examples.map((example) => example.slug)).toEqual(EXAMPLE_ORDER);
  });

  it('gives the browser the same scripts and jobs as the Node loader', () => {
    expect(catalog).toEqual(examples.map(({ check: _check, ...example }) => example));
  });

  it.each(examples)('$slug has a name, a description and 20-200 chunks', (example) => {
    expect(example.name).not.toBe('');
    expect(example.description).not.toBe('');
    expect(example.job.inputs.length).toBeGreaterThanOrEqual(20);
    expect(example.job.inputs.length).toBeLessThanOrEqual(200);
  });
});

describe.each(examples)('example $slug', (example) => {
  let results: ChunkResult[];
  beforeAll(async () => {
    results = await runNatively(example);
  }, 20_000);

  it('passes its check when run with native Python', () => {
    expect(results).toHaveLength(example.job.inputs.length);
    expect(() => example.check(results)).not.toThrow();
  });

  it.each([...(corruptions[example.slug] ?? []), ...generic])('rejects %s', (_description, corrupt) => {
    const corrupted = structuredClone(results);
    corrupt(corrupted);
    expect(() => example.check(corrupted)).toThrow(Error);
  });

  if (example.slug === 'collatz-cli') {
    it('reads a script\'s report from `stdout` as well as from `output`', () => {
      const moved = results.map((result) => ({ ...result, stdout: result.output as string, output: undefined }));
      expect(() => example.check(moved)).not.toThrow();
    });
  }

  it('has at least one example-specific corruption', () => {
    expect(corruptions[example.slug]?.length ?? 0).toBeGreaterThan(0);
  });
});
