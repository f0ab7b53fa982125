// The site's one way to call the coordinator: JSON in, JSON out, and `{ error: { code, message } }` turned into ApiError.
import type { ChunkDetail, ChunkResult, ErrorBody, JobSource, JobSubmission, JobSummary } from '../../protocol/index.js';

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

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

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
  let response: Response;
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

function errorFromResponse(status: number, text: string): ApiError {
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

/** Where the pages keep the submitter's API key (`--auth keys`), so it is asked for once per browser. */
const KEY_STORAGE = 'idle-sense:api-key';

/** The API key the pages keep, if any (for requests that cannot go through keyedFetch, like an upload with progress). */
export const storedApiKey = (): string | null => localStorage.getItem(KEY_STORAGE);

/** Forgets the stored API key; the next call that needs one asks again. */
export function forgetApiKey(): void {
  localStorage.removeItem(KEY_STORAGE);
}

/**
 * fetch that sends the stored API key as a Bearer token and, when the coordinator answers 401 API_KEY_REQUIRED, asks
 * the user for a key once, keeps it and retries. In open mode no call is ever refused that way, so nothing is asked.
 */
export const keyedFetch: FetchLike = async (input, init = {}) => {
  const send = (key: string | null) =>
    fetch(input, key ? { ...init, headers: { ...(init.headers as Record<string, string> | undefined), Authorization: `Bearer ${key}` } } : init);
  const stored = localStorage.getItem(KEY_STORAGE);
  const response = await send(stored);
  if (response.status !== 401) return response;
  const code = await response
    .clone()
    .json()
    .then((body: Partial<ErrorBody>) => body.error?.code)
    .catch(() => undefined);
  if (code !== 'API_KEY_REQUIRED') return response;
  const entered = window.prompt(stored ? 'That API key was refused. Enter another key:' : 'This coordinator needs an API key (npm run keys -- create NAME). Key:');
  if (!entered?.trim()) return response;
  localStorage.setItem(KEY_STORAGE, entered.trim());
  return send(entered.trim());
};

const jobPath = (id: string) => `/api/jobs/${encodeURIComponent(id)}`;

/** The job API used by the submit, jobs and job pages. */
export const jobsApi = {
  submit: (body: JobSubmission) => requestJson<JobSummary>(keyedFetch, 'POST', '/api/jobs', body),
  list: () => requestJson<JobSummary[]>(keyedFetch, 'GET', '/api/jobs'),
  get: (id: string) => requestJson<JobSummary>(keyedFetch, 'GET', jobPath(id)),
  source: (id: string) => requestJson<JobSource>(keyedFetch, 'GET', `${jobPath(id)}/source`),
  cancel: (id: string) => requestJson<JobSummary>(keyedFetch, 'DELETE', jobPath(id)),
  /** Up to `limit` finished results with index >= `offset`, in index order. */
  results: (id: string, offset: number, limit: number) =>
    requestJson<ChunkResult[]>(keyedFetch, 'GET', `${jobPath(id)}/results?format=json&offset=${offset}&limit=${limit}`),
  /** One chunk with every result (replica) it received, for the chunk detail view. */
  chunk: (id: string, index: number) => requestJson<ChunkDetail>(keyedFetch, 'GET', `${jobPath(id)}/chunks/${index}`),
  resultsUrl: (id: string, format?: 'json' | 'csv') => `${jobPath(id)}/results${format ? `?format=${format}` : ''}`,
  eventsUrl: (id: string) => `${jobPath(id)}/events`,
  pageUrl: (id: string) => `/jobs/${encodeURIComponent(id)}`,
};

/** Where an attachment's bytes are served: `blobUrl('sha256:ab…')` → `/api/blobs/sha256:ab…`. */
export const blobUrl = (sha256: string): string => `/api/blobs/${encodeURIComponent(sha256).replace('%3A', ':')}`;
