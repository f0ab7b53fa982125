// Pure helpers of the job pages: bar segment sizes, throughput over a sliding window, time left, the job id in the URL.
import type { ChunkCounts, JobSummary } from '../../protocol/index.js';

/** Chunks with a final result, successful or not. */
export const finishedCount = (counts: ChunkCounts): number => counts.completed + counts.failed;

/** Percent widths of the bar's segments; queued is the remainder. An empty job is an empty bar. */
export function segmentPercents(counts: ChunkCounts): { completed: number; failed: number; running: number } {
  if (counts.total <= 0) return { completed: 0, failed: 0, running: 0 };
  const percent = (n: number) => Math.min(100, Math.max(0, (n / counts.total) * 100));
  return { completed: percent(counts.completed), failed: percent(counts.failed), running: percent(counts.running) };
}

interface Sample {
  at: number;
  finished: number;
}

/**
 * Throughput over the last `windowMs`, from observations of the finished count. Call `observe` on every progress
 * update and also on a timer, so that a stalled job's rate falls to zero instead of freezing.
 *
 * Example: `meter.observe(0, 10); meter.observe(5000, 60); meter.rate(5000)` → 10 chunks/s.
 */
export class ThroughputMeter {
  private samples: Sample[] = [];

  constructor(
    private readonly windowMs = 30_000,
    /** Shorter spans give wild numbers; below this the rate is unknown. */
    private readonly minSpanMs = 2_000,
    /** Observations closer together than this update the latest sample instead of adding one. */
    private readonly resolutionMs = 500,
  ) {}

  observe(at: number, finished: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && finished < last.finished) this.samples = []; // counts went back (should not happen): start over
    const latest = this.samples[this.samples.length - 1];
    if (latest && this.samples.length > 1 && at - this.samples[this.samples.length - 2].at < this.resolutionMs) {
      latest.at = at;
      latest.finished = finished;
    } else {
      this.samples.push({ at, finished });
    }
    // Keep exactly one sample at or before the window start, so the window is fully covered.
    while (this.samples.length > 2 && this.samples[1].at <= at - this.windowMs) this.samples.shift();
  }

  /** Chunks per second, or undefined while there is too little history. */
  rate(now: number): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last) return undefined;
    const span = now - first.at;
    if (span < this.minSpanMs) return undefined;
    return ((last.finished - first.finished) / span) * 1000;
  }
}

/** Milliseconds until `remaining` chunks are done at `rate` chunks/s; undefined when the rate is unknown or zero. */
export function etaMs(remaining: number, rate: number | undefined): number | undefined {
  if (remaining <= 0) return 0;
  if (rate === undefined || !(rate > 0)) return undefined;
  return (remaining / rate) * 1000;
}

/** Average throughput over the job's whole life (creation to finish, or to `now` while it runs). */
export function averageRate(job: Pick<JobSummary, 'createdAt' | 'finishedAt' | 'completed' | 'failed'>, now: number): number | undefined {
  const start = Date.parse(job.createdAt);
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  const seconds = (end - start) / 1000;
  const finished = job.completed + job.failed;
  if (!Number.isFinite(seconds) || seconds <= 0 || finished === 0) return undefined;
  return finished / seconds;
}

/** True while chunks can still change. */
export const isActive = (status: JobSummary['status']): boolean => status === 'queued' || status === 'running';

/** The job id of the job page's address: `/jobs/<id>`, or `job.html?id=<id>` without the coordinator's clean URLs. */
export function jobIdFrom(location: Pick<Location, 'pathname' | 'search'>): string | undefined {
  const match = /^\/jobs\/([^/]+)\/?$/.exec(location.pathname);
  if (match) return decodeURIComponent(match[1]);
  return new URLSearchParams(location.search).get('id') || undefined;
}
