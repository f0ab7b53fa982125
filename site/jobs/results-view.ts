// How one finished chunk reads in the results table: the output (or printed text), and for errors a one-line summary
// with the full traceback behind a disclosure.
import type { ChunkResult } from '../../protocol/index.js';
import { h } from '../shared/dom.js';
import { formatDuration } from '../shared/format.js';

const PREVIEW_CHARS = 240;

/** The text shown for a result: its JSON output, or what it printed when there is no output (script mode). */
export function outputText(result: ChunkResult): string {
  if (result.output !== undefined && result.output !== null) {
    return typeof result.output === 'string' ? result.output : JSON.stringify(result.output);
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

function expandable(summary: string, full: string, className: string): HTMLElement {
  return h('details', { class: className }, h('summary', {}, summary), h('pre', {}, full));
}

/** One `<tr>` of the results table. */
export function resultRow(result: ChunkResult): HTMLTableRowElement {
  let cell: Node;
  if (result.status === 'error') {
    const details = [result.error ?? '', result.stderr ? `\n--- stderr ---\n${result.stderr}` : '', result.stdout ? `\n--- stdout ---\n${result.stdout}` : '']
      .join('')
      .trim();
    cell = expandable(errorSummary(result.error), details || 'failed without an error message', 'traceback');
  } else {
    const text = outputText(result);
    const { head, truncated } = preview(text);
    cell = truncated ? expandable(head + ' …', text, 'output-more') : h('code', { class: 'output' }, text === '' ? '(no output)' : text);
  }
  const attempts = result.attempts && result.attempts > 1 ? h('span', { class: 'hint' }, ` · ${result.attempts} attempts`) : null;
  return h(
    'tr',
    { 'data-testid': 'result-row', 'data-index': result.index, 'data-status': result.status },
    h('td', { class: 'num' }, result.index),
    h('td', {}, h('span', { class: `badge badge-${result.status}` }, result.status), attempts),
    h('td', { class: 'output-cell' }, cell),
    h('td', { class: 'num' }, result.durationMs === undefined ? '—' : formatDuration(result.durationMs)),
  );
}
