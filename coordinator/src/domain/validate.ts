// Validators: decide whether two results of one chunk agree. `exact` compares canonical JSON (object key order
// ignored, numbers by value); `tolerance` compares numbers within abs/rel bounds and everything else exactly.
// Strings (such as a script's stdout) always compare as exact text.
import type { Validation } from '../../../protocol/index.js';

export type Equivalence = (a: unknown, b: unknown) => boolean;

export function validator(validation: Validation): Equivalence {
  if (validation.kind === 'exact') return (a, b) => deepEqual(a, b, numbersEqual);
  const abs = validation.abs ?? 0;
  const rel = validation.rel ?? 0;
  const close = (x: number, y: number) => {
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
    if (x === y) return true;
    const diff = Math.abs(x - y);
    return diff <= abs || diff <= rel * Math.max(Math.abs(x), Math.abs(y));
  };
  return (a, b) => deepEqual(a, b, close);
}

const numbersEqual = (x: number, y: number) => x === y || (Number.isNaN(x) && Number.isNaN(y));

function deepEqual(a: unknown, b: unknown, numbers: (x: number, y: number) => boolean): boolean {
  if (typeof a === 'number' && typeof b === 'number') return numbers(a, b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i], numbers));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(y, key) && deepEqual(x[key], y[key], numbers));
}
