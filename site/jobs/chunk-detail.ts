// The chunk detail dialog of the job page: one chunk's input, its canonical result and every result (replica) it
// received, with who sent it (anonymised), the verdict, output or traceback, captured output, runtime and files.
import type { ChunkDetail, ResultDetail, VerificationPolicy } from '../../protocol/index.js';
import { blobUrl, errorText, jobsApi } from '../shared/api.js';
import { h, setText } from '../shared/dom.js';
import { formatBytes, formatDuration } from '../shared/format.js';
import { expandable, outputCell, preview } from './results-view.js';
import { receivedSummary, resultStateText, verdictTone, verifiedCell } from './verification.js';

/** Fewer reloads than this apart are merged: a busy chunk must not hammer the coordinator. */
const REFRESH_MIN_MS = 1_000;

export interface ChunkDetailElements {
  dialog: HTMLDialogElement;
  title: HTMLElement;
  body: HTMLElement;
  close: HTMLButtonElement;
}

export class ChunkDetailView {
  private index?: number;
  private detail?: ChunkDetail;
  private lastLoad = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private loading = false;
  private reloadWanted = false;

  constructor(
    private readonly jobId: string,
    private readonly policy: VerificationPolicy,
    private readonly el: ChunkDetailElements,
  ) {
    el.close.addEventListener('click', () => el.dialog.close());
    // A click on the backdrop lands on the <dialog> itself (its content fills an inner wrapper).
    el.dialog.addEventListener('click', (event) => {
      if (event.target === el.dialog) el.dialog.close();
    });
    el.dialog.addEventListener('close', () => {
      this.index = undefined;
      this.detail = undefined;
      clearTimeout(this.timer);
      this.timer = undefined;
      if (/^#chunk-\d+$/.test(location.hash)) history.replaceState(null, '', location.pathname + location.search);
    });
  }

  /** Opens the dialog on chunk `index` and loads it. */
  open(index: number): void {
    this.index = index;
    this.detail = undefined;
    setText(this.el.title, `Chunk ${index}`);
    this.el.body.replaceChildren(h('p', { class: 'hint' }, 'Loading…'));
    if (!this.el.dialog.open) this.el.dialog.showModal();
    history.replaceState(null, '', `#chunk-${index}`);
    void this.load();
  }

  /** Reloads the open chunk now (for the job's final state). */
  refresh(): void {
    if (this.index !== undefined) void this.load();
  }

  /**
   * Something about the job changed: reload the open chunk if it may have changed too (it is one of `indexes`, or,
   * without indexes, it is still waiting for results).
   */
  changed(indexes?: number[]): void {
    if (this.index === undefined) return;
    const mayChange = indexes ? indexes.includes(this.index) : !this.detail || this.detail.results.some((r) => r.state === 'running') || this.detail.state === 'open';
    if (!mayChange || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.load();
    }, Math.max(0, this.lastLoad + REFRESH_MIN_MS - Date.now()));
  }

  private async load(): Promise<void> {
    const index = this.index;
    if (index === undefined) return;
    if (this.loading) {
      this.reloadWanted = true;
      return;
    }
    this.loading = true;
    this.reloadWanted = false;
    try {
      const detail = await jobsApi.chunk(this.jobId, index);
      if (index !== this.index) return; // closed or moved on meanwhile
      this.detail = detail;
      this.render(detail);
    } catch (error) {
      if (index === this.index) this.el.body.replaceChildren(h('p', { class: 'alert alert-error' }, `Could not load chunk ${index}: ${errorText(error)}`));
    } finally {
      this.loading = false;
      this.lastLoad = Date.now();
      if (this.reloadWanted) this.changed([this.index ?? -1]);
    }
  }

  private render(detail: ChunkDetail): void {
    // A reload must not close the stdout or traceback someone is reading: remember open disclosures by position.
    const open = new Set([...this.el.body.querySelectorAll('details')].flatMap((d, i) => (d.open ? [i] : [])));
    const state = h('span', { class: `badge badge-${detail.state === 'ok' ? 'ok' : detail.state}` }, detail.state);
    const verified = detail.result ? verifiedCell(detail.result, this.policy) : undefined;
    this.el.body.replaceChildren(
      h(
        'p',
        { class: 'detail-summary' },
        state,
        verified ? h('span', { class: `verified tone-${verified.tone}`, title: verified.title }, verified.text) : null,
        h('span', { class: 'hint' }, receivedSummary(detail.results)),
      ),
      h('h3', {}, 'Input'),
      block(JSON.stringify(detail.input, null, 2) ?? 'undefined'),
      h('h3', {}, 'Canonical result'),
      detail.result
        ? h('div', { class: 'output-cell canonical' }, outputCell(detail.result))
        : h('p', { class: 'hint' }, 'None yet: no result has met the quorum.'),
      h('h3', {}, 'Results received'),
      detail.results.length
        ? h('ol', { class: 'replica-list' }, ...detail.results.map((result) => replicaItem(result, result.leaseId === detail.canonical)))
        : h('p', { class: 'hint', 'data-testid': 'open-chunk-hint' }, detail.state === 'open' ? 'Shown once the chunk is settled: while it is open, nothing about its results is public (a contributor could copy them).' : 'None.'),
    );
    this.el.body.querySelectorAll('details').forEach((d, i) => {
      if (open.has(i)) d.open = true;
    });
  }
}

/** Long text collapsed to a preview, short text as it is. */
function block(text: string): HTMLElement {
  const { head, truncated } = preview(text, 600);
  return truncated ? expandable(head + ' …', text, 'output-more block') : h('pre', { class: 'code-block detail-block' }, text);
}

function replicaItem(result: ResultDetail, canonical: boolean): HTMLLIElement {
  const tone = result.state === 'ok' ? verdictTone(result.validation) : result.state === 'running' ? 'muted' : 'error';
  const verdict = result.state === 'ok' || result.validation !== 'pending' ? result.validation : undefined;
  const timing = [
    result.durationMs !== undefined ? formatDuration(result.durationMs) : '',
    `issued ${new Date(result.issuedAt).toLocaleTimeString()}`,
    result.reportedAt ? `reported ${new Date(result.reportedAt).toLocaleTimeString()}` : '',
  ].filter(Boolean);
  const captured = [
    result.stdout && result.state === 'ok' && result.output !== undefined && result.output !== null ? expandable('stdout', result.stdout, 'captured') : null,
    result.stderr && result.state === 'ok' ? expandable('stderr', result.stderr, 'captured') : null,
  ];
  let body: Node | null = null;
  if (result.state === 'ok') body = outputCell({ ...result, status: 'ok' });
  else if (result.state === 'error' || result.error) body = outputCell({ ...result, status: 'error' });
  return h(
    'li',
    {
      class: `replica tone-${tone}`,
      'data-testid': 'chunk-result',
      'data-contributor': result.contributor,
      'data-verdict': result.validation,
      'data-state': result.state,
      'data-canonical': canonical ? 'yes' : 'no',
    },
    h(
      'div',
      { class: 'replica-head' },
      h('strong', {}, `#${result.attempt}`),
      h('code', { class: 'contributor', title: 'anonymised contributor id' }, result.contributor),
      h('span', { class: `badge badge-${result.state}` }, resultStateText(result.state)),
      verdict ? h('span', { class: `badge verdict tone-${verdictTone(result.validation)}` }, verdict) : null,
      canonical ? h('span', { class: 'badge canonical', title: 'this result is the chunk’s answer' }, 'canonical') : null,
      h('span', { class: 'hint' }, timing.join(' · ')),
    ),
    body ? h('div', { class: 'output-cell replica-output' }, body) : null,
    ...captured,
    result.runtimeInfo && Object.keys(result.runtimeInfo).length
      ? h(
          'dl',
          { class: 'runtime-info' },
          ...Object.entries(result.runtimeInfo).flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, value)]),
        )
      : null,
    result.attachments?.length
      ? h(
          'ul',
          { class: 'attachments' },
          ...result.attachments.map((file) =>
            h(
              'li',
              {},
              h('a', { href: blobUrl(file.sha256), download: file.name.split('/').pop(), 'data-testid': 'attachment-link' }, file.name),
              h('span', { class: 'hint' }, ` ${formatBytes(file.size)}`),
            ),
          ),
        )
      : null,
  );
}
