// Follows a job live: Server-Sent Events from /api/jobs/:id/events, falling back to polling when SSE fails.
import type { ChunkResult, JobSummary } from '../../protocol/index.js';
import { errorText, jobsApi } from '../shared/api.js';
import { isActive } from './progress.js';

export interface JobWatcher {
  progress(job: JobSummary): void;
  /** Newly finished chunks (SSE only; polling cannot tell which chunks are new). */
  chunks(results: ChunkResult[]): void;
  end(job: JobSummary): void;
  /** A connection problem worth showing; `undefined` clears it. */
  problem(message: string | undefined): void;
}

const POLL_MS = 2_000;
const POLL_MAX_MS = 15_000;
/** Consecutive SSE errors (the browser reconnects by itself in between) before switching to polling. */
const SSE_MAX_ERRORS = 3;

/** Starts following job `id`; returns a function that stops. */
export function watchJob(id: string, watcher: JobWatcher): () => void {
  let stopped = false;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let source: EventSource | undefined;

  const parse = <T>(event: Event): T | undefined => {
    try {
      return JSON.parse((event as MessageEvent<string>).data) as T;
    } catch {
      return undefined;
    }
  };

  const startPolling = () => {
    source?.close();
    source = undefined;
    let delay = POLL_MS;
    const poll = async () => {
      if (stopped) return;
      try {
        const job = await jobsApi.get(id);
        watcher.problem(undefined);
        delay = POLL_MS;
        watcher.progress(job);
        if (!isActive(job.status)) {
          watcher.end(job);
          return;
        }
      } catch (error) {
        watcher.problem(`Live updates interrupted (${errorText(error)}); retrying.`);
        delay = Math.min(POLL_MAX_MS, delay * 2);
      }
      if (!stopped) pollTimer = setTimeout(poll, document.hidden ? Math.max(delay, 10_000) : delay);
    };
    void poll();
  };

  if (typeof EventSource === 'undefined') {
    startPolling();
  } else {
    let errors = 0;
    source = new EventSource(jobsApi.eventsUrl(id));
    source.addEventListener('progress', (event) => {
      errors = 0;
      watcher.problem(undefined);
      const job = parse<JobSummary>(event);
      if (job) watcher.progress(job);
    });
    source.addEventListener('chunks', (event) => {
      const results = parse<ChunkResult[]>(event);
      if (results) watcher.chunks(results);
    });
    source.addEventListener('end', (event) => {
      source?.close(); // otherwise the browser reconnects to a stream that has ended
      source = undefined;
      const job = parse<JobSummary>(event);
      if (job) watcher.end(job);
    });
    source.addEventListener('error', () => {
      if (!source) return;
      errors++;
      if (source.readyState === EventSource.CLOSED || errors >= SSE_MAX_ERRORS) startPolling();
    });
  }

  return () => {
    stopped = true;
    source?.close();
    clearTimeout(pollTimer);
  };
}
