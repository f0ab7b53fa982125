// Validators: decide whether two results of one chunk agree. `exact` compares canonical JSON (object key order
// ignored, numbers by value); `tolerance` compares numbers within abs/rel bounds and everything else exactly.
// Strings (such as a script's stdout) always compare as exact text. `agreement` adds what else a policy compares.
import type { Attachment, ComparedField, Validation, VerificationPolicy } from '../../../protocol/index.js';

export type Equivalence = (a: unknown, b: unknown) => boolean;

/** The parts of a result replicas are compared on. */
export interface Comparable {
  output?: unknown;
  stdout?: string;
  stderr?: string;
  attachments?: readonly Attachment[];
}

/**
 * Whether two results agree on everything the policy compares: the output by its validation, captured text and
 * attachments (name, size, sha256, in any order) exactly. What a verified chunk publishes was compared, or is
 * labelled unverified (see unverifiedFields).
 */
export function agreement(policy: Pick<VerificationPolicy, 'validation' | 'compared'>): (a: Comparable, b: Comparable) => boolean {
  const same = validator(policy.validation);
  const compared = new Set(policy.compared ?? ['output']);
  return (a, b) =>
    same(a.output, b.output) &&
    (!compared.has('stdout') || (a.stdout ?? '') === (b.stdout ?? '')) &&
    (!compared.has('stderr') || (a.stderr ?? '') === (b.stderr ?? '')) &&
    (!compared.has('attachments') || attachmentKey(a.attachments) === attachmentKey(b.attachments));
}

const attachmentKey = (files: readonly Attachment[] = []) =>
  JSON.stringify(files.map((f) => [f.name, f.size, f.sha256]).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));

/** The fields a verified result publishes that its replicas were not compared on. */
export function unverifiedFields(result: Comparable, policy: Pick<VerificationPolicy, 'compared'>): ComparedField[] {
  const compared = new Set(policy.compared ?? ['output']);
  const published: ComparedField[] = [];
  if (result.stdout) published.push('stdout');
  if (result.stderr) published.push('stderr');
  if (result.attachments?.length) published.push('attachments');
  return published.filter((field) => !compared.has(field));
}

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
