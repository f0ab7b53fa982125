// The site's one way to call the coordinator: JSON in, JSON out, and `{ error: { code, message } }` turned into ApiError;
// keyedFetch adds the submitter's API key, jobsApi names the job endpoints.
import { requestJson } from '../../contributor-core/api.js';
import { ErrorCode, type ChunkDetail, type ChunkResult, type ErrorBody, type JobSource, type JobSubmission, type JobSummary } from '../../protocol/index.js';
import { forgetApiKey, rememberApiKey, storedApiKey } from './api-key.js';
import { askForApiKey, type KeyRefusal } from './key-form.js';

// ApiError, requestJson, errorFromResponse and errorText live in the contributor core (the tab's loop and the runner
// call the coordinator with them too); re-exported so the pages import one module.
export { ApiError, errorFromResponse, errorText, requestJson } from '../../contributor-core/api.js';

/** The pages' fetch: the DOM's, so callers keep the whole Response (streams, `json()`). It satisfies the core's FetchLike. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export { forgetApiKey, storedApiKey } from './api-key.js';

/**
 * What a refused answer means for the key: 401 API_KEY_REQUIRED (no key, or one the coordinator does not know) or
 * 403 NOT_JOB_OWNER (a live key that is not the job's owner's); undefined for any other answer.
 */
async function keyRefusal(response: Response, keySent: boolean): Promise<KeyRefusal | undefined> {
  if (response.status !== 401 && response.status !== 403) return undefined;
  const code = await response
    .clone()
    .json()
    .then((body: Partial<ErrorBody>) => body.error?.code)
    .catch(() => undefined);
  if (response.status === 401 && code === ErrorCode.ApiKeyRequired) return { status: 401, keySent };
  if (response.status === 403 && code === ErrorCode.NotJobOwner) return { status: 403, keySent };
  return undefined;
}

/**
 * fetch that sends the stored API key as a Bearer token. When the coordinator refuses the request for its key (401
 * API_KEY_REQUIRED, 403 NOT_JOB_OWNER) it shows the key form, retries with the key entered and keeps that key once
 * the coordinator accepts it; Cancel returns the refusal. A stored key answered 401 is unknown or revoked: it is
 * dropped, so public reads work without it. In open mode nothing is refused that way, so nothing is asked.
 */
export const keyedFetch: FetchLike = async (input, init = {}) => {
  const send = (key: string | null) =>
    fetch(input, key ? { ...init, headers: { ...(init.headers as Record<string, string> | undefined), Authorization: `Bearer ${key}` } } : init);
  let stored = storedApiKey();
  let key = stored;
  let typed = false;
  let response = await send(key);
  for (;;) {
    const refusal = await keyRefusal(response, key !== null);
    if (!refusal) {
      if (typed && key) rememberApiKey(key);
      return response;
    }
    if (refusal.status === 401 && !typed && key !== null && key === storedApiKey()) forgetApiKey();
    const now = storedApiKey();
    if (now !== null && now !== stored) {
      // Another request was given a key meanwhile: try that one before asking.
      key = stored = now;
      typed = false;
    } else {
      const entered = await askForApiKey(refusal);
      if (entered === null) return response;
      key = entered;
      typed = true;
      stored = storedApiKey();
    }
    response = await send(key);
  }
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
