// The fetch-based SSE reader: the parser against the WHATWG event stream rules, in any split of the text, and the
// follower's reconnects (Last-Event-ID, backoff, Retry-After) and refusals, over fake fetches.
import { describe, expect, it, vi } from 'vitest';
import { ApiError, type FetchLike } from './api.js';
import { EventStreamParser, followEventStream, type StreamEvent } from './event-stream.js';

const parseAll = (text: string) => new EventStreamParser().push(text);

describe('EventStreamParser', () => {
  it('reads event, data and id, joins data lines with newlines and defaults the type to message', () => {
    expect(parseAll('event: progress\ndata: {"a":1}\nid: 7\n\ndata: one\ndata: two\n\n')).toEqual([
      { event: 'progress', data: '{"a":1}', id: '7' },
      { event: 'message', data: 'one\ntwo', id: '7' },
    ]);
  });

  it('gives the same events however the text is split, CRLF across pieces included', () => {
    const text = 'event: chunks\r\ndata: [1,2]\r\nid: 3\r\n\r\n: keep-alive\r\nevent: end\rdata: {}\r\r';
    const whole = parseAll(text);
    expect(whole).toEqual([
      { event: 'chunks', data: '[1,2]', id: '3' },
      { event: 'end', data: '{}', id: '3' },
    ]);
    for (const size of [1, 2, 3, 5, 8]) {
      const parser = new EventStreamParser();
      const events: StreamEvent[] = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect([size, events]).toEqual([size, whole]);
    }
    // A CRLF split between pieces is one line end, not a line end and then a blank line that dispatches.
    const parser = new EventStreamParser();
    expect([...parser.push('data: a\r'), ...parser.push('\ndata: b\r'), ...parser.push('\n\r\n')]).toEqual([{ event: 'message', data: 'a\nb', id: '' }]);
  });

  it('ignores comments and unknown fields, strips one leading space only, and reads a field without a colon', () => {
    expect(parseAll(':comment\nfoo: bar\ndata:no-space\ndata:  two spaces\ndata\n\n')).toEqual([
      { event: 'message', data: 'no-space\n two spaces\n', id: '' },
    ]);
  });

  it('dispatches nothing without data, but keeps the id for the next event and for reconnecting', () => {
    const parser = new EventStreamParser();
    expect(parser.push('id: 41\nevent: ping\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('41');
    expect(parser.push('data: x\n\n')).toEqual([{ event: 'message', data: 'x', id: '41' }]);
    expect(parser.push('id\ndata: y\n\n')).toEqual([{ event: 'message', data: 'y', id: '' }]);
  });

  it('ignores an id holding NUL and a retry that is not all digits', () => {
    const parser = new EventStreamParser();
    parser.push('id: 5\nretry: 2500\n\nid: 6\0\nretry: 1e3\nretry: -1\n\n');
    expect(parser.lastEventId).toBe('5');
    expect(parser.retryMs).toBe(2500);
  });

  it('strips a byte-order mark at the start of the stream only, and drops an event the stream cut off', () => {
    const parser = new EventStreamParser();
    expect(parser.push('\uFEFFdata: a\n\n')).toEqual([{ event: 'message', data: 'a', id: '' }]);
    expect(parser.push('\uFEFFdata: b\n\n')).toEqual([]); // the BOM makes this line a field named "\uFEFFdata"
    expect(parser.push('data: cut off\n')).toEqual([]);
  });
});

const encoder = new TextEncoder();

/** A 200 event-stream answer that sends `pieces` one per read and closes (or breaks off, at a piece that is an Error). */
function streamResponse(...pieces: (string | Error)[]): Response {
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces.shift();
      if (piece === undefined) controller.close();
      else if (piece instanceof Error) controller.error(piece);
      else controller.enqueue(encoder.encode(piece));
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

const jsonError = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code, message: code.toLowerCase() } }), { status, headers: { 'content-type': 'application/json', ...headers } });

/** Fetch that answers from a script and records the Last-Event-ID of each call; past the script it never answers. */
function scriptedFetch(answers: (() => Response | Promise<Response>)[]) {
  const calls: (string | undefined)[] = [];
  const fetch: FetchLike = async (_url, init) => {
    calls.push((init?.headers as Record<string, string>)['Last-Event-ID']);
    const next = answers.shift();
    return next ? next() : new Promise<Response>(() => {});
  };
  return { fetch, calls };
}

/** Time for anything more to happen that should not (a reconnect after a stop, say). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('followEventStream', () => {
  it('reconnects after the stream ends early, sending the last id back, until a handler stops it', async () => {
    const { fetch, calls } = scriptedFetch([
      () => streamResponse('event: chunks\ndata: [0]\nid: 1\n\nevent: chunks\nda', 'ta: [1]\nid: 2\n\n'),
      () => streamResponse('event: end\ndata: {}\n\n'),
    ]);
    const events: string[] = [];
    const failures: number[] = [];
    const stop = followEventStream('/events', {
      fetch,
      delayMs: () => 0,
      onEvent: (event) => {
        events.push(`${event.event}:${event.data}`);
        if (event.event === 'end') stop();
      },
      onFailure: ({ failures: n }) => (failures.push(n), true),
      onRefused: () => {},
    });
    await vi.waitFor(() => expect(events).toEqual(['chunks:[0]', 'chunks:[1]', 'end:{}']));
    await settle();
    expect(calls).toEqual([undefined, '2']);
    expect(failures).toEqual([1]);
  });

  it('counts failures in a row, backs off by the delay, and stops when onFailure says so', async () => {
    const broken = () => Promise.reject(new TypeError('Failed to fetch'));
    const { fetch, calls } = scriptedFetch([broken, () => jsonError(503, 'INTERNAL'), broken]);
    const seen: { failures: number; retryInMs: number; status: number }[] = [];
    followEventStream('/events', {
      fetch,
      delayMs: (failures) => failures * 10,
      onEvent: () => {},
      onFailure: ({ error, failures, retryInMs }) => {
        seen.push({ failures, retryInMs, status: error.status });
        return failures < 2;
      },
      onRefused: () => {},
    });
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    await settle();
    expect(seen).toEqual([
      { failures: 1, retryInMs: 10, status: 0 },
      { failures: 2, retryInMs: 20, status: 503 },
    ]);
    expect(calls).toHaveLength(2);
  });

  it('resets the failure count after an event arrives', async () => {
    const { fetch } = scriptedFetch([() => Promise.reject(new TypeError('down')), () => streamResponse('data: a\n\n', new Error('reset')), () => Promise.reject(new TypeError('down'))]);
    const counts: number[] = [];
    const stop = followEventStream('/events', { fetch, delayMs: () => 0, onEvent: () => {}, onFailure: ({ failures }) => (counts.push(failures), true), onRefused: () => {} });
    await vi.waitFor(() => expect(counts).toEqual([1, 1, 2]));
    stop();
  });

  it('waits at least Retry-After when the coordinator has no stream slot free (429)', async () => {
    const { fetch } = scriptedFetch([() => jsonError(429, 'TOO_MANY_STREAMS', { 'retry-after': '5' })]);
    let retryInMs = 0;
    followEventStream('/events', { fetch, delayMs: () => 100, onEvent: () => {}, onFailure: (f) => ((retryInMs = f.retryInMs), false), onRefused: () => {} });
    await settle();
    expect(retryInMs).toBe(5_000);
  });

  it('gives up without retrying when the coordinator refuses the stream (403 NOT_JOB_OWNER)', async () => {
    const { fetch, calls } = scriptedFetch([() => jsonError(403, 'NOT_JOB_OWNER')]);
    const refused: ApiError[] = [];
    followEventStream('/events', { fetch, delayMs: () => 0, onEvent: () => {}, onFailure: () => true, onRefused: (error) => refused.push(error) });
    await settle();
    expect(refused.map((e) => [e.status, e.code])).toEqual([[403, 'NOT_JOB_OWNER']]);
    expect(calls).toHaveLength(1);
  });

  it('treats an answer that is not an event stream as a failure', async () => {
    const { fetch } = scriptedFetch([() => new Response('<html>', { headers: { 'content-type': 'text/html' } })]);
    const codes: string[] = [];
    followEventStream('/events', { fetch, delayMs: () => 0, onEvent: () => {}, onFailure: ({ error }) => (codes.push(error.code), false), onRefused: () => {} });
    await settle();
    expect(codes).toEqual(['INVALID_RESPONSE']);
  });
});
