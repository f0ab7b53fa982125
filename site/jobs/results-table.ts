// The paged results table of the job page. Pages are cursors over chunk indexes (`offset` = first index to show), so a
// page stays stable while other chunks finish; it reloads (throttled) when new results could land on it.
import type { ChunkResult, VerificationPolicy } from '../../protocol/index.js';
import { errorText, jobsApi } from '../shared/api.js';
import { setText } from '../shared/dom.js';
import { resultRow } from './results-view.js';

export const PAGE_SIZE = 50;
const REFRESH_MIN_MS = 1_000;

export interface ResultsTableElements {
  body: HTMLTableSectionElement;
  empty: HTMLElement;
  prev: HTMLButtonElement;
  next: HTMLButtonElement;
  info: HTMLElement;
}

export class ResultsTable {
  /** Offsets of the pages before this one, for "Previous". */
  private history: number[] = [];
  private offset = 0;
  private shown: ChunkResult[] = [];
  private nextOffset?: number;
  private loading = false;
  private reloadWanted = false;
  private lastLoad = 0;
  private reloadTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly jobId: string,
    private readonly policy: VerificationPolicy,
    private readonly el: ResultsTableElements,
  ) {
    el.prev.addEventListener('click', () => this.goTo(this.history.pop() ?? 0));
    el.next.addEventListener('click', () => {
      if (this.nextOffset === undefined) return;
      this.history.push(this.offset);
      this.goTo(this.nextOffset);
    });
  }

  /** Loads the current page now. */
  load(): Promise<void> {
    return this.fetchPage();
  }

  /** Called when chunks finished: reload if any of them belongs on this page (unknown indexes: when the page has room). */
  chunksFinished(indexes?: number[]): void {
    const full = this.nextOffset !== undefined;
    const lastShown = this.shown[this.shown.length - 1]?.index ?? -1;
    const lands = indexes
      ? indexes.some((i) => i >= this.offset && (!full || i < lastShown))
      : !full;
    if (lands) this.scheduleReload();
  }

  private goTo(offset: number): void {
    this.offset = offset;
    void this.fetchPage();
  }

  private scheduleReload(): void {
    if (this.loading) {
      this.reloadWanted = true;
      return;
    }
    if (this.reloadTimer !== undefined) return;
    const wait = Math.max(0, this.lastLoad + REFRESH_MIN_MS - Date.now());
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.fetchPage();
    }, wait);
  }

  private async fetchPage(): Promise<void> {
    this.loading = true;
    this.reloadWanted = false;
    const offset = this.offset;
    try {
      // One extra row tells whether a next page exists, and where it starts.
      const rows = await jobsApi.results(this.jobId, offset, PAGE_SIZE + 1);
      if (offset !== this.offset) return; // the reader paged away meanwhile
      this.shown = rows.slice(0, PAGE_SIZE);
      this.nextOffset = rows.length > PAGE_SIZE ? rows[PAGE_SIZE].index : undefined;
      this.render();
    } catch (error) {
      setText(this.el.info, `Could not load results: ${errorText(error)}`);
    } finally {
      this.loading = false;
      this.lastLoad = Date.now();
      if (this.reloadWanted) this.scheduleReload();
    }
  }

  private render(): void {
    const { body, empty, prev, next, info } = this.el;
    // A reload must not close the traceback someone is reading.
    const open = new Set([...body.querySelectorAll('tr:has(details[open])')].map((row) => (row as HTMLElement).dataset.index));
    body.replaceChildren(...this.shown.map((result) => resultRow(result, this.policy)));
    for (const row of body.querySelectorAll<HTMLElement>('tr')) {
      if (open.has(row.dataset.index)) row.querySelector('details')?.setAttribute('open', '');
    }
    empty.hidden = this.shown.length > 0 || this.offset > 0;
    prev.disabled = this.offset === 0 && this.history.length === 0;
    next.disabled = this.nextOffset === undefined;
    const first = this.shown[0]?.index;
    const last = this.shown[this.shown.length - 1]?.index;
    setText(info, first === undefined ? '' : `Chunks ${first}–${last}`);
  }
}
