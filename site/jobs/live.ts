// Follows a job live: Server-Sent Events from /api/jobs/:id/events read with fetch (so the stored API key goes with
// them), reconnecting with backoff and Last-Event-ID, and falling back to polling when the stream keeps failing.
import type { ChunkResult, JobSummary } from '../../protocol/index.js';
import { errorText, jobsApi, keyedFetch } from '../shared/api.js';
import { followEventStream } from '../shared/event-stream.js';
import { isActive } from './progress.js';

export interface JobWatcher {
  progress(job: JobSummary): void;
  /** Newly finished chunks (the stream only; polling cannot tell which chunks are new). */
  chunks(results: ChunkResult[]): void;
  end(job: JobSummary): void;
  /** A connection problem worth showing; `undefined` clears it. */
  problem(message: string | undefined): void;
}

const POLL_MS = 2_000;
const POLL_MAX_MS = 15_000;
/** Consecutive stream failures (each followed by a reconnect with backoff) before switching to polling. */
const SSE_MAX_ERRORS = 3;

/** Starts following job `id`; returns a function that stops. */
export function watchJob(id: string, watcher: JobWatcher): () => void {
  let stopped = false;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let stopStream: (() => void) | undefined;

  const parse = <T>(data: string): T | undefined => {
    try {
      return JSON.parse(data) as T;
    } catch {
      return undefined;
    }
  };

  const startPolling = () => {
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

  // fetch, not EventSource: the stream of a private job needs the owner's key in an Authorization header.
  stopStream = followEventStream(jobsApi.eventsUrl(id), {
    fetch: keyedFetch,
    onEvent: (event) => {
      watcher.problem(undefined);
      if (event.event === 'progress') {
        const job = parse<JobSummary>(event.data);
        if (job) watcher.progress(job);
      } else if (event.event === 'chunks') {
        const results = parse<ChunkResult[]>(event.data);
        if (results) watcher.chunks(results);
      } else if (event.event === 'end') {
        stopStream?.(); // the server closes the stream after its final event; nothing to reconnect to
        stopStream = undefined;
        const job = parse<JobSummary>(event.data);
        if (job) watcher.end(job);
      }
    },
    onFailure: ({ error, failures, retryInMs }) => {
      if (failures >= SSE_MAX_ERRORS) {
        // A proxy that breaks streams, or the coordinator's stream slots full: plain requests still get through.
        stopStream = undefined;
        startPolling();
        return false;
      }
      watcher.problem(`Live updates interrupted (${error.message}); reconnecting in ${Math.ceil(retryInMs / 1000)} s.`);
      return true;
    },
    onRefused: (error) => {
      stopStream = undefined;
      watcher.problem(`Live updates stopped: ${errorText(error)}`);
    },
  });

  return () => {
    stopped = true;
    stopStream?.();
    clearTimeout(pollTimer);
  };
}
