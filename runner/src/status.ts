// What the runner tells its owner. On a terminal: a live status block (what each thread runs, pause reason, totals;
// no points, no ranks), redrawn in place. Otherwise: JSON lines on stdout, one per event (a chunk started or ended,
// a pause began or ended, the coordinator became unreachable...), so a service manager's journal keeps them.
import type { ContributorSnapshot, ThreadView } from '../../contributor-core/contributor.js';
import { describeCoordinator, describeThread } from '../../contributor-core/contributor.js';

export interface LogSink {
  write(text: string): void;
}

/** One JSON line: `{"time": ISO, "event": name, ...fields}`. */
export function jsonLine(event: string, fields: Record<string, unknown> = {}, now = Date.now()): string {
  return JSON.stringify({ time: new Date(now).toISOString(), event, ...fields }) + '\n';
}

function threadKey(view: ThreadView): string {
  return `${view.phase}|${view.jobName ?? ''}|${view.chunkIndex ?? ''}|${view.startedAt ?? ''}`;
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 120) return `${m.toFixed(1)} min`;
  return `${(m / 60).toFixed(1)} h`;
}

/** The status block for a terminal, one line per thread. */
export function renderStatus(snapshot: ContributorSnapshot, now: number, header: string): string[] {
  const t = snapshot.totals;
  const lines = [
    `${header} — ${snapshot.state}${snapshot.paused.length ? ` · paused: ${snapshot.paused.join('; ')}` : ''}`,
    `coordinator: ${describeCoordinator(snapshot.coordinator, now)} · done ${t.done} · errors ${t.errors} · given back ${t.givenBack} · rejected ${t.rejected} · unsent ${snapshot.unreported} · computed ${formatMs(t.cpuMs)}`,
  ];
  snapshot.threads.forEach((view, i) => {
    const running = view.startedAt !== undefined && view.phase === 'running' ? ` (${formatMs(now - view.startedAt)})` : '';
    lines.push(`  thread ${i + 1}: ${describeThread(view)}${view.runtime && view.phase === 'running' ? ` [${view.runtime}]` : ''}${running}`);
  });
  return lines;
}

/**
 * Follows snapshots and reports them: `text` redraws a block on a TTY, `json` writes one line per change.
 * @example
 * const reporter = new Reporter('json', process.stdout);
 * contributor = new Contributor({ ..., onChange: (s) => reporter.update(s) });
 */
export class Reporter {
  private lastThreads: string[] = [];
  private lastPaused = '';
  private lastCoordinator = '';
  private lastTotals = '0|0|0|0|0';
  private drawn = 0;
  private latest?: ContributorSnapshot;
  private timer?: ReturnType<typeof setInterval>;

  constructor(
    readonly mode: 'text' | 'json',
    private readonly out: LogSink,
    private readonly header = 'idle-sense runner',
    private readonly now: () => number = Date.now,
  ) {
    // The running time on a terminal moves even when nothing else changes.
    if (mode === 'text') this.timer = setInterval(() => this.latest && this.draw(this.latest), 1000).unref();
  }

  /** A free-form event (started, capabilities, shutdown...). */
  event(event: string, fields: Record<string, unknown> = {}): void {
    if (this.mode === 'json') {
      this.out.write(jsonLine(event, fields, this.now()));
      return;
    }
    this.clear();
    const detail = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    this.out.write(`${new Date(this.now()).toISOString().slice(11, 19)} ${event}${detail ? ' ' + detail : ''}\n`);
    if (this.latest) this.draw(this.latest);
  }

  update(snapshot: ContributorSnapshot): void {
    this.latest = snapshot;
    if (this.mode === 'text') {
      this.draw(snapshot);
      return;
    }
    const paused = snapshot.paused.join('; ');
    if (paused !== this.lastPaused) {
      this.out.write(jsonLine(paused ? 'paused' : 'resumed', paused ? { reasons: snapshot.paused } : {}, this.now()));
      this.lastPaused = paused;
    }
    const coordinator = snapshot.coordinator.state === 'unreachable' ? `unreachable:${snapshot.coordinator.message}` : snapshot.coordinator.state;
    if (coordinator !== this.lastCoordinator && snapshot.coordinator.state !== 'idle') {
      this.out.write(jsonLine('coordinator', { state: snapshot.coordinator.state, ...(snapshot.coordinator.state === 'unreachable' ? { message: snapshot.coordinator.message } : {}) }, this.now()));
    }
    this.lastCoordinator = coordinator;
    // A chunk starting, a thread failing to load; the idle moments between chunks are not events.
    snapshot.threads.forEach((view, i) => {
      const key = threadKey(view);
      if (this.lastThreads[i] === key) return;
      this.lastThreads[i] = key;
      if (view.phase === 'running') {
        this.out.write(jsonLine('chunk', { thread: i + 1, job: view.jobName, chunk: view.chunkIndex, runtime: view.runtime }, this.now()));
      } else if (view.phase === 'error') {
        this.out.write(jsonLine('thread-error', { thread: i + 1, error: view.error }, this.now()));
      }
    });
    this.lastThreads.length = snapshot.threads.length;
    // A chunk ending: the totals say how (done, error, given back, rejected by the coordinator).
    const totals = `${snapshot.totals.done}|${snapshot.totals.errors}|${snapshot.totals.givenBack}|${snapshot.totals.rejected}|${snapshot.unreported}`;
    if (totals !== this.lastTotals) {
      this.lastTotals = totals;
      const t = snapshot.totals;
      this.out.write(jsonLine('progress', { done: t.done, errors: t.errors, givenBack: t.givenBack, rejected: t.rejected, unsent: snapshot.unreported, cpuMs: Math.round(t.cpuMs) }, this.now()));
    }
  }

  /** The last totals as a JSON line or a final text line; stops redrawing. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (!this.latest) return;
    const t = this.latest.totals;
    if (this.mode === 'text') this.draw(this.latest);
    else this.out.write(jsonLine('totals', { ...t, unsent: this.latest.unreported }, this.now()));
    this.drawn = 0;
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(snapshot: ContributorSnapshot): void {
    const lines = renderStatus(snapshot, this.now(), this.header);
    this.clear();
    this.out.write(lines.map((line) => line.slice(0, 200)).join('\n') + '\n');
    this.drawn = lines.length;
  }
}
