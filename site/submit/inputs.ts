// Parses the submit form's inputs box into chunk inputs: a JSON array, one JSON value per line, or `range A..B`.
import { MAX_CHUNKS } from '../../protocol/index.js';

export type InputsFormat = 'array' | 'lines' | 'range';
export type ParsedInputs = { ok: true; inputs: unknown[]; format: InputsFormat } | { ok: false; error: string };

const RANGE = /^range\s+(-?\d+)\s*\.\.\s*(-?\d+)$/i;

/**
 * Example: `parseInputs('range 1..3')` → `{ ok: true, inputs: [1, 2, 3], format: 'range' }`;
 * `parseInputs('"a"\n"b"')` → two chunks; `parseInputs('[[1, 2]]')` → one chunk whose input is `[1, 2]`.
 */
export function parseInputs(text: string): ParsedInputs {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'Enter at least one input.' };

  const range = RANGE.exec(trimmed);
  if (range) return parseRange(Number(range[1]), Number(range[2]));
  if (/^range\b/i.test(trimmed)) return { ok: false, error: 'Write a range as "range A..B" with whole numbers, e.g. "range 1..100".' };

  // A JSON array may span lines; if the whole box is not one valid array, fall back to one value per line.
  let arrayError: string | undefined;
  if (trimmed.startsWith('[')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (Array.isArray(value)) return checked(value, 'array');
    } catch (error) {
      arrayError = (error as Error).message;
    }
  }

  const lines = trimmed.split(/\r?\n/);
  const inputs: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      inputs.push(JSON.parse(line));
    } catch (error) {
      if (arrayError !== undefined && !lines.slice(1).some((l) => l.trim().startsWith('['))) {
        return { ok: false, error: `Not a valid JSON array: ${arrayError}` };
      }
      const hint = /^[A-Za-z_]/.test(line) && !/^(true|false|null)\b/.test(line) ? ' (text needs double quotes)' : '';
      return { ok: false, error: `Line ${i + 1} is not valid JSON${hint}: ${(error as Error).message}` };
    }
  }
  return checked(inputs, 'lines');
}

function parseRange(start: number, end: number): ParsedInputs {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return { ok: false, error: 'Range bounds are too large.' };
  if (start > end) return { ok: false, error: `The range start (${start}) is larger than its end (${end}).` };
  const count = end - start + 1;
  if (count > MAX_CHUNKS) return { ok: false, error: tooMany(count) };
  return { ok: true, inputs: Array.from({ length: count }, (_, i) => start + i), format: 'range' };
}

function checked(inputs: unknown[], format: InputsFormat): ParsedInputs {
  if (inputs.length === 0) return { ok: false, error: 'Enter at least one input.' };
  if (inputs.length > MAX_CHUNKS) return { ok: false, error: tooMany(inputs.length) };
  return { ok: true, inputs, format };
}

const tooMany = (count: number) => `${count.toLocaleString()} inputs is more than the limit of ${MAX_CHUNKS.toLocaleString()} chunks per job.`;

/**
 * The most readable way to put `inputs` back in the box (used when an example fills the form):
 * consecutive integers as a range, short values one per line, anything else as an indented JSON array.
 */
export function formatInputs(inputs: unknown[]): string {
  const isRun =
    inputs.length >= 3 && inputs.every((value, i) => Number.isSafeInteger(value) && value === (inputs[0] as number) + i);
  if (isRun) return `range ${inputs[0] as number}..${inputs[inputs.length - 1] as number}`;
  const lines = inputs.map((value) => JSON.stringify(value));
  if (lines.every((line) => line !== undefined && line.length <= 200)) return lines.join('\n');
  return JSON.stringify(inputs, null, 2);
}
