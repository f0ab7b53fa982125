// Checks the word-frequency job against word counts computed here in TypeScript from the same passages:
// each chunk's counts, totals and top-ten list exactly, then the merge of all chunks against the whole text.
import type { ChunkResult } from '../../protocol/index.js';
import { asRecord, outputsInOrder } from '../checking.js';
import job from './job.json' with { type: 'json' };

/** The tokenizer main.py documents: ASCII letters, optionally joined by apostrophes, in lower case. */
const WORD = /[a-z]+(?:'[a-z]+)*/g;
const TOP = 10;

function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(WORD) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** Most frequent first, ties in alphabetical order (code-point order, as Python sorts strings). */
function topWords(counts: Map<string, number>): [string, number][] {
  return [...counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0)).slice(0, TOP);
}

/** Reads a chunk's `counts` object into a Map, rejecting anything that is not a positive integer count. */
function countsOf(record: Record<string, unknown>, index: number): Map<string, number> {
  const counts = record.counts;
  if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) {
    throw new Error(`chunk ${index}: "counts" should be an object of word -> count`);
  }
  const map = new Map<string, number>();
  for (const [word, count] of Object.entries(counts)) {
    if (!Number.isInteger(count) || (count as number) < 1) throw new Error(`chunk ${index}: count of "${word}" is ${JSON.stringify(count)}`);
    map.set(word, count as number);
  }
  return map;
}

/** Names the first difference between two word-count maps, or returns undefined when they are equal. */
function firstDifference(actual: Map<string, number>, expected: Map<string, number>): string | undefined {
  for (const [word, count] of expected) {
    if (actual.get(word) !== count) return `"${word}" counted ${actual.get(word) ?? 0} times, expected ${count}`;
  }
  for (const [word, count] of actual) {
    if (!expected.has(word)) return `"${word}" counted ${count} times but does not occur`;
  }
  return undefined;
}

export function check(results: ChunkResult[]): void {
  const outputs = outputsInOrder(results, job.inputs.length);
  const merged = new Map<string, number>();
  outputs.forEach((output, index) => {
    const passage = job.inputs[index];
    const record = asRecord(output, index);
    const expected = countWords(passage.text);
    if (record.source !== passage.source) {
      throw new Error(`chunk ${index}: source should be ${JSON.stringify(passage.source)}, got ${JSON.stringify(record.source)}`);
    }
    const counts = countsOf(record, index);
    const difference = firstDifference(counts, expected);
    if (difference) throw new Error(`chunk ${index} (${passage.source}): ${difference}`);
    const words = [...expected.values()].reduce((sum, count) => sum + count, 0);
    if (record.words !== words) throw new Error(`chunk ${index}: words should be ${words}, got ${JSON.stringify(record.words)}`);
    if (record.distinct !== expected.size) {
      throw new Error(`chunk ${index}: distinct should be ${expected.size}, got ${JSON.stringify(record.distinct)}`);
    }
    const top = JSON.stringify(topWords(expected));
    if (JSON.stringify(record.top) !== top) throw new Error(`chunk ${index}: top should be ${top}, got ${JSON.stringify(record.top)}`);
    for (const [word, count] of counts) merged.set(word, (merged.get(word) ?? 0) + count);
  });
  // The merge must equal counting the whole text at once (passages are joined by blank lines, which split no word).
  const whole = countWords(job.inputs.map((passage) => passage.text).join('\n\n'));
  const difference = firstDifference(merged, whole);
  if (difference) throw new Error(`merged counts differ from counting the whole text: ${difference}`);
}
