// Server-Sent Events read with fetch, because EventSource cannot send an Authorization header and a private job's
// stream needs the owner's key. The parser follows the WHATWG "event stream interpretation" rules; the follower
// reconnects with backoff and Last-Event-ID as EventSource would. DOM-free, so it is unit-tested in Node.
import { backoffDelay, sleep } from '../../contributor-core/backoff.js';
import { ApiError, errorFromResponse, errorText, type FetchLike } from './api.js';

/** One dispatched event. `id` is the stream's last event id when it was dispatched (it carries over, per spec). */
export interface StreamEvent {
  event: string;
  data: string;
  id: string;
}

/**
 * Turns text as it arrives (in any split) into events. Lines end in CRLF, LF or CR; `:` starts a comment; a blank
 * line dispatches. An event cut off by the end of the stream is dropped, as the spec says.
 * Example: `new EventStreamParser().push('event: end\ndata: {}\n\n')` → `[{ event: 'end', data: '{}', id: '' }]`.
 */
export class EventStreamParser {
  /** The last event id seen (sent back as Last-Event-ID on reconnect). */
  lastEventId = '';
  /** The reconnection delay the server asked for with `retry:`, if any. */
  retryMs: number | undefined;
  private buffer = '';
  private started = false;
  private afterCR = false;
  private data = '';
  private type = '';
  private idBuffer = '';

  push(text: string): StreamEvent[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR ends a line at once; an LF right after it (maybe in the next piece) belongs to the same line end.
    if (this.afterCR && text.startsWith('\n')) text = text.slice(1);
    this.afterCR = false;
    this.buffer += text;
    const events: StreamEvent[] = [];
    let start = 0;
    for (const match of this.buffer.matchAll(/\r\n|\r|\n/g)) {
      const event = this.line(this.buffer.slice(start, match.index));
      if (event) events.push(event);
      start = match.index + match[0].length;
      this.afterCR = match[0] === '\r' && start === this.buffer.length;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string): StreamEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data += value + '\n';
    else if (field === 'id') {
      if (!value.includes('\0')) this.idBuffer = value;
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) this.retryMs = Number(value);
    }
    return undefined;
  }

  private dispatch(): StreamEvent | undefined {
    this.lastEventId = this.idBuffer;
    const { data, type } = this;
    this.data = '';
    this.type = '';
    if (data === '') return undefined;
    return { event: type || 'message', data: data.endsWith('\n') ? data.slice(0, -1) : data, id: this.lastEventId };
  }
}

export interface FollowOptions {
  /** Sends the requests: the pages pass keyedFetch, so the stored key goes with them. */
  fetch: FetchLike;
  onEvent(event: StreamEvent): void;
  /**
   * A connection failed or ended before the server closed the stream for good. `failures` counts in a row (reset
   * by any event received). Return false to stop following (the caller switches to polling, say).
   */
  onFailure(failure: { error: ApiError; failures: number; retryInMs: number }): boolean;
  /** The server refused the stream (4xx other than 429, or 429 handed to the caller): nothing to retry. */
  onRefused(error: ApiError): void;
  /** Delay before reconnecting after failure n (the server's `retry:` replaces the base). Defaults to backoffDelay. */
  delayMs?: (failures: number, retryMs: number | undefined) => number;
}

/**
 * Follows an SSE stream until `stop()` is called or an event handler calls it (on a final event, say): reconnects
 * after each failure with backoff, sending the last event id back, like EventSource does, and with the headers the
 * fetch adds. Returns `stop`.
 * Example: `const stop = followEventStream('/api/jobs/j1/events', { fetch: keyedFetch, onEvent, onFailure, onRefused })`.
 */
export function followEventStream(url: string, options: FollowOptions): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  const parser = new EventStreamParser();
  const delayMs = options.delayMs ?? ((failures, retryMs) => backoffDelay(failures, Math.random, retryMs ?? 1_000));
  let failures = 0;
  let nextDelayMs = 0;

  const connect = async (): Promise<'again' | 'done'> => {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (parser.lastEventId) headers['Last-Event-ID'] = parser.lastEventId;
    let response: Response;
    try {
      response = await options.fetch(url, { headers, signal, cache: 'no-store' });
    } catch (error) {
      if (signal.aborted) return 'done';
      return fail(new ApiError(0, 'NETWORK', `could not reach the coordinator (${errorText(error)})`));
    }
    if (!response.ok) {
      const error = errorFromResponse(response.status, await response.text().catch(() => ''));
      // 429 TOO_MANY_STREAMS says when a slot may be free; wait at least that long.
      const retryAfterMs = Number(response.headers.get('retry-after') ?? '') * 1000;
      if (error.unreachable || error.status === 429) return fail(error, Number.isFinite(retryAfterMs) ? retryAfterMs : 0);
      options.onRefused(error);
      return 'done';
    }
    if (!response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      return fail(new ApiError(response.status, 'INVALID_RESPONSE', 'the coordinator did not answer with an event stream'));
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          failures = 0;
          options.onEvent(event);
          if (signal.aborted) return 'done';
        }
      }
    } catch (error) {
      if (signal.aborted) return 'done';
      return fail(new ApiError(0, 'NETWORK', `the event stream broke off (${errorText(error)})`));
    } finally {
      reader.cancel().catch(() => {});
    }
    // The server ended the stream without a final event (a restart, a proxy timeout): reconnect as EventSource would.
    return signal.aborted ? 'done' : fail(new ApiError(0, 'NETWORK', 'the event stream ended early'));
  };

  const fail = (error: ApiError, atLeastMs = 0): 'again' | 'done' => {
    failures++;
    nextDelayMs = Math.max(atLeastMs, delayMs(failures, parser.retryMs));
    return options.onFailure({ error, failures, retryInMs: nextDelayMs }) ? 'again' : 'done';
  };

  void (async () => {
    while (!signal.aborted) {
      if ((await connect()) === 'done') break;
      await sleep(nextDelayMs, signal);
    }
  })();

  return () => controller.abort();
}
