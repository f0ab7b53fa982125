// Renders chunk counts into a segmented progress bar (completed / failed / running; queued is the empty rest).
import type { ChunkCounts } from '../../protocol/index.js';
import { h } from '../shared/dom.js';
import { finishedCount, segmentPercents } from './progress.js';

/** Updates a `.progress` element made by `progressBar()` or written in the page's HTML. */
export function updateProgressBar(bar: HTMLElement, counts: ChunkCounts): void {
  const percents = segmentPercents(counts);
  const [completed, failed, running] = bar.querySelectorAll<HTMLElement>('.segment');
  completed.style.width = `${percents.completed}%`;
  failed.style.width = `${percents.failed}%`;
  running.style.width = `${percents.running}%`;
  bar.setAttribute('aria-valuemax', String(counts.total));
  bar.setAttribute('aria-valuenow', String(finishedCount(counts)));
  bar.title = `${counts.completed} completed, ${counts.failed} failed, ${counts.running} running, ${counts.queued} queued`;
}

export function progressBar(counts: ChunkCounts, label: string): HTMLElement {
  const bar = h(
    'div',
    { class: 'progress progress-small', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0 },
    h('span', { class: 'segment segment-completed' }),
    h('span', { class: 'segment segment-failed' }),
    h('span', { class: 'segment segment-running' }),
  );
  updateProgressBar(bar, counts);
  return bar;
}
