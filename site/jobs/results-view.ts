// How one finished chunk reads in the results table: the output (or printed text), and for errors a one-line summary
// with the full traceback behind a disclosure, and whether replicas verified it.
import type { ChunkResult, ResultDetail, VerificationPolicy } from '../../protocol/index.js';
import { h } from '../shared/dom.js';
import { formatDuration, plural } from '../shared/format.js';
import { isReplicated, verifiedCell } from './verification.js';

const PREVIEW_CHARS = 240;

/** Most values of one tensor written out; the full output is in the downloads. */
const TENSOR_VALUES_SHOWN = 1000;

type WireTensor = { type: string; dims: number[]; data: unknown[] };
const isTensor = (value: unknown): value is WireTensor =>
  typeof value === 'object' && value !== null && typeof (value as WireTensor).type === 'string' &&
  Array.isArray((value as WireTensor).dims) && Array.isArray((value as WireTensor).data);

/**
 * An ONNX chunk's output (tensors by name) as one line per tensor: name, element type, dims, then the values
 * ("label: int64 [3] = [4, 0, 9]"); undefined for any other output.
 */
export function tensorsText(output: unknown, maxValues = TENSOR_VALUES_SHOWN): string | undefined {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return undefined;
  const entries = Object.entries(output);
  if (entries.length === 0 || !entries.every(([, tensor]) => isTensor(tensor))) return undefined;
  return (entries as [string, WireTensor][])
    .map(([name, { type, dims, data }]) => {
      const shown = data.slice(0, maxValues).map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
      const more = data.length > maxValues ? `, … ${(data.length - maxValues).toLocaleString('en')} more` : '';
      return `${name}: ${type} [${dims.join(', ')}] = [${shown.join(', ')}${more}]`;
    })
    .join('\n');
}

/** The text shown for a result: its output (tensors by line), or what it printed when there is no output (script mode). */
export function outputText(result: ChunkResult | ResultDetail): string {
  if (result.output !== undefined && result.output !== null) {
    if (typeof result.output === 'string') return result.output;
    return tensorsText(result.output) ?? JSON.stringify(result.output);
  }
  return (result.stdout ?? '').replace(/\n$/, '');
}

/** The line of a traceback that names the error ("ZeroDivisionError: division by zero"): its last non-empty line. */
export function errorSummary(error: string | undefined): string {
  const lines = (error ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'failed without an error message';
}

/** Splits long text into a preview and whether the rest is hidden. */
export function preview(text: string, limit = PREVIEW_CHARS): { head: string; truncated: boolean } {
  const firstLines = text.split('\n').slice(0, 4).join('\n');
  const head = firstLines.length > limit ? firstLines.slice(0, limit) : firstLines;
  return { head, truncated: head.length < text.length };
}

export function expandable(summary: string, full: string, className: string): HTMLElement {
  return h('details', { class: className }, h('summary', {}, summary), h('pre', {}, full));
}

/** A result's output, or for an error its one-line summary with the traceback and captured output behind it. */
export function outputCell(result: ChunkResult | (ResultDetail & { status: 'ok' | 'error' })): Node {
  if (result.status === 'error') {
    const details = [result.error ?? '', result.stderr ? `\n--- stderr ---\n${result.stderr}` : '', result.stdout ? `\n--- stdout ---\n${result.stdout}` : '']
      .join('')
      .trim();
    return expandable(errorSummary(result.error), details || 'failed without an error message', 'traceback');
  }
  const text = outputText(result);
  const { head, truncated } = preview(text);
  return truncated ? expandable(head + ' …', text, 'output-more') : h('code', { class: 'output' }, text === '' ? '(no output)' : text);
}

/** One `<tr>` of the results table; its Details button (or a click on the row) opens the chunk detail view. */
export function resultRow(result: ChunkResult, policy: VerificationPolicy): HTMLTableRowElement {
  const verified = verifiedCell(result, policy);
  // Replicated chunks always take several results; only extra ones (retries, tie-breakers) are worth a note.
  const expected = isReplicated(policy) ? policy.replicas : 1;
  const word = isReplicated(policy) ? 'result' : 'attempt';
  const attempts = result.attempts && result.attempts > expected ? h('span', { class: 'hint' }, ` · ${plural(result.attempts, word)}`) : null;
  return h(
    'tr',
    { 'data-testid': 'result-row', 'data-index': result.index, 'data-status': result.status, class: 'result-row' },
    h('td', { class: 'num' }, result.index),
    h('td', {}, h('span', { class: `badge badge-${result.status}` }, result.status), attempts),
    h('td', { 'data-testid': 'result-verified', class: `verified tone-${verified.tone}`, title: verified.title }, verified.text),
    h('td', { class: 'output-cell' }, outputCell(result)),
    h('td', { class: 'num' }, result.durationMs === undefined ? '—' : formatDuration(result.durationMs)),
    h(
      'td',
      { class: 'detail-cell' },
      h('button', { type: 'button', class: 'button button-small', 'data-chunk-detail': result.index, 'aria-label': `Details of chunk ${result.index}` }, 'Details'),
    ),
  );
}
