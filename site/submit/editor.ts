// Code-box editing: Tab indents by four spaces instead of moving focus; Shift+Tab dedents. Esc then Tab leaves the box,
// so keyboard users are never trapped.

const INDENT = '    ';

export interface TextEdit {
  value: string;
  selectionStart: number;
  selectionEnd: number;
}

/**
 * The result of pressing Tab (or Shift+Tab with `outdent`) on `edit`. Without a multi-line selection, Tab inserts four
 * spaces at the cursor; with one, every selected line is indented. Shift+Tab removes up to four leading spaces per line.
 */
export function indent(edit: TextEdit, outdent: boolean): TextEdit {
  const { value, selectionStart: start, selectionEnd: end } = edit;
  const multiline = value.slice(start, end).includes('\n');
  if (!outdent && !multiline) {
    return { value: value.slice(0, start) + INDENT + value.slice(end), selectionStart: start + INDENT.length, selectionEnd: start + INDENT.length };
  }
  const lineStart = value.lastIndexOf('\n', start - 1) + 1;
  // A selection ending right after a newline does not include the next line.
  const lastLineEnd = end > start && value[end - 1] === '\n' ? end - 1 : end;
  const block = value.slice(lineStart, lastLineEnd);
  const lines = block.split('\n');
  let firstDelta = 0;
  let total = 0;
  const changed = lines.map((line, i) => {
    if (!outdent) {
      if (i === 0) firstDelta = INDENT.length;
      total += INDENT.length;
      return INDENT + line;
    }
    const removed = line.length - line.replace(/^ {1,4}/, '').length;
    if (i === 0) firstDelta = -removed;
    total -= removed;
    return line.slice(removed);
  });
  const next = value.slice(0, lineStart) + changed.join('\n') + value.slice(lastLineEnd);
  return {
    value: next,
    selectionStart: Math.max(lineStart, start + firstDelta),
    selectionEnd: Math.max(lineStart, end + total),
  };
}

/** Makes `textarea` a code box: Tab/Shift+Tab indent, Esc releases the next Tab to the browser. */
export function enableCodeEditing(textarea: HTMLTextAreaElement): void {
  let released = false;
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      released = true;
      return;
    }
    if (event.key !== 'Tab' || event.ctrlKey || event.altKey || event.metaKey || released) {
      released = false;
      return;
    }
    event.preventDefault();
    const next = indent(textarea, event.shiftKey);
    // setRangeText keeps the browser's undo history usable, unlike assigning .value.
    const common = commonEdit(textarea.value, next.value);
    textarea.setRangeText(common.insert, common.from, common.to, 'preserve');
    textarea.setSelectionRange(next.selectionStart, next.selectionEnd);
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  });
  textarea.addEventListener('blur', () => {
    released = false;
  });
}

/** The smallest replacement turning `before` into `after`. */
function commonEdit(before: string, after: string): { from: number; to: number; insert: string } {
  let from = 0;
  while (from < before.length && from < after.length && before[from] === after[from]) from++;
  let tail = 0;
  while (tail < before.length - from && tail < after.length - from && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  return { from, to: before.length - tail, insert: after.slice(from, after.length - tail) };
}
