// Helpers the examples' check.ts files share: result-set completeness and small assertion utilities.
import type { ChunkResult } from '../protocol/index.js';

/**
 * Returns the outputs of `results` in chunk order after asserting that there is exactly one successful result
 * per chunk index `0..expectedChunks-1`. Failed chunks are reported with their error text.
 */
export function outputsInOrder(results: ChunkResult[], expectedChunks: number): unknown[] {
  const byIndex = new Map<number, ChunkResult>();
  for (const result of results) {
    if (byIndex.has(result.index)) throw new Error(`chunk ${result.index} has more than one result`);
    byIndex.set(result.index, result);
  }
  const missing: number[] = [];
  const failed: string[] = [];
  for (let index = 0; index < expectedChunks; index++) {
    const result = byIndex.get(index);
    if (!result) missing.push(index);
    else if (result.status !== 'ok') failed.push(`chunk ${index}: ${result.error ?? 'failed without an error message'}`);
  }
  const unexpected = [...byIndex.keys()].filter((index) => !Number.isInteger(index) || index < 0 || index >= expectedChunks);
  if (unexpected.length > 0) throw new Error(`results for chunks that do not exist: ${unexpected.join(', ')}`);
  if (missing.length > 0) throw new Error(`missing results for ${missing.length} of ${expectedChunks} chunks: ${missing.slice(0, 10).join(', ')}`);
  if (failed.length > 0) throw new Error(`${failed.length} chunks failed:\n${failed.slice(0, 5).join('\n')}`);
  return Array.from({ length: expectedChunks }, (_, index) => byIndex.get(index)!.output);
}

/** A script-mode chunk's output is its stdout; accept it in either field so checks do not depend on which one a runner fills. */
export function stdoutOf(result: ChunkResult): string {
  if (typeof result.stdout === 'string' && result.stdout !== '') return result.stdout;
  if (typeof result.output === 'string') return result.output;
  return result.stdout ?? '';
}

/** Narrows an output to a plain object, naming the chunk when it is not one. */
export function asRecord(output: unknown, index: number): Record<string, unknown> {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) {
    throw new Error(`chunk ${index}: expected an object, got ${JSON.stringify(output)}`);
  }
  return output as Record<string, unknown>;
}

/** Reads a finite number field, naming the chunk and field when it is missing or not a number. */
export function numberField(record: Record<string, unknown>, field: string, index: number): number {
  const value = record[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`chunk ${index}: field "${field}" should be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}
