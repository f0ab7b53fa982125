// How the contributor core calls the coordinator: JSON in, JSON out over an injected fetch, and
// `{ error: { code, message } }` turned into ApiError. The site's pages use the same helpers (site/shared/api.ts).
import type { ErrorBody } from '../protocol/index.js';

/** A failed API call. `status` 0 means the coordinator could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** True when retrying later may help: the network failed or the coordinator had a server-side problem. */
  get unreachable(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

/** The part of a fetch request the core sends. */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

/** The part of a fetch response the core reads. */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
  /** The body as bytes (blob downloads); every real fetch has it, fakes may leave it out. */
  arrayBuffer?(): Promise<ArrayBuffer>;
}

/**
 * The transport: the platform's `fetch` satisfies it in browsers and in Node (`(url, init) => fetch(url, init)`);
 * tests pass a fake coordinator.
 */
export type FetchLike = (input: string, init?: FetchInit) => Promise<FetchResponse>;

/**
 * Sends one request and parses the JSON answer; throws ApiError for network failures and non-2xx answers.
 * Example: `await requestJson<JobSummary>(fetch, 'POST', '/api/jobs', body)`.
 */
export async function requestJson<T>(
  fetchFn: FetchLike,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  let response: FetchResponse;
  try {
    response = await fetchFn(path, {
      method,
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `could not reach the coordinator (${errorText(error)})`);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) throw errorFromResponse(response.status, text);
  try {
    return (text ? JSON.parse(text) : undefined) as T;
  } catch {
    throw new ApiError(response.status, 'INVALID_RESPONSE', `the coordinator sent an unreadable answer (HTTP ${response.status})`);
  }
}

/** The ApiError for a non-2xx answer: its `{ error: { code, message } }`, or a generic message. */
export function errorFromResponse(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error && typeof body.error.message === 'string') return new ApiError(status, body.error.code ?? 'UNKNOWN', body.error.message);
  } catch {
    // Not our JSON error shape (a proxy page, for instance): fall through to a generic message.
  }
  return new ApiError(status, 'HTTP_' + status, `the coordinator answered HTTP ${status}`);
}

/** A readable message for anything thrown. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
