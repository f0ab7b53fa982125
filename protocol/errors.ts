// Error codes shared by the coordinator, the site and the runner. One enum, one message function:
// every component turns a code into the same words, and HTTP errors carry `{ error: { code, message } }`.

export const ErrorCode = {
  InvalidRequest: 'INVALID_REQUEST',
  InvalidJson: 'INVALID_JSON',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  NotFound: 'NOT_FOUND',
  JobNotFound: 'JOB_NOT_FOUND',
  JobFinished: 'JOB_FINISHED',
  Unauthorized: 'UNAUTHORIZED',
  ApiKeyRequired: 'API_KEY_REQUIRED',
  NotJobOwner: 'NOT_JOB_OWNER',
  AdminRequired: 'ADMIN_REQUIRED',
  NoVerifiedChunks: 'NO_VERIFIED_CHUNKS',
  LeaseNotFound: 'LEASE_NOT_FOUND',
  LeaseTokenInvalid: 'LEASE_TOKEN_INVALID',
  LeaseExpired: 'LEASE_EXPIRED',
  LeaseReleased: 'LEASE_RELEASED',
  LeaseFinished: 'LEASE_FINISHED',
  JobCancelled: 'JOB_CANCELLED',
  BlobNotFound: 'BLOB_NOT_FOUND',
  BlobHashMismatch: 'BLOB_HASH_MISMATCH',
  AttachmentMissing: 'ATTACHMENT_MISSING',
  CheckpointBlobMissing: 'CHECKPOINT_BLOB_MISSING',
  PythonCheckUnavailable: 'PYTHON_CHECK_UNAVAILABLE',
  RateLimited: 'RATE_LIMITED',
  TooManyStreams: 'TOO_MANY_STREAMS',
  BlobAllowanceSpent: 'BLOB_ALLOWANCE_SPENT',
  QuotaExceeded: 'QUOTA_EXCEEDED',
  CrossSiteRefused: 'CROSS_SITE_REFUSED',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code, used at the HTTP edge only. */
export const errorStatus: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  INVALID_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  JOB_FINISHED: 409,
  UNAUTHORIZED: 401,
  API_KEY_REQUIRED: 401,
  NOT_JOB_OWNER: 403,
  ADMIN_REQUIRED: 403,
  NO_VERIFIED_CHUNKS: 409,
  LEASE_NOT_FOUND: 404,
  LEASE_TOKEN_INVALID: 403,
  LEASE_EXPIRED: 410,
  LEASE_RELEASED: 409,
  LEASE_FINISHED: 409,
  JOB_CANCELLED: 410,
  BLOB_NOT_FOUND: 404,
  BLOB_HASH_MISMATCH: 400,
  ATTACHMENT_MISSING: 400,
  CHECKPOINT_BLOB_MISSING: 400,
  PYTHON_CHECK_UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  TOO_MANY_STREAMS: 429,
  BLOB_ALLOWANCE_SPENT: 429,
  QUOTA_EXCEEDED: 429,
  CROSS_SITE_REFUSED: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
};

const baseMessage: Record<ErrorCode, string> = {
  INVALID_REQUEST: 'the request is invalid',
  INVALID_JSON: 'the request body is not valid JSON',
  PAYLOAD_TOO_LARGE: 'the request body is too large',
  NOT_FOUND: 'not found',
  JOB_NOT_FOUND: 'no job with this id',
  JOB_FINISHED: 'the job has already finished',
  UNAUTHORIZED: 'missing or wrong contributor credentials',
  API_KEY_REQUIRED: 'this coordinator needs an API key: send Authorization: Bearer <key> (created with npm run keys -- create NAME)',
  NOT_JOB_OWNER: 'only the job\'s owner or an admin key may do this',
  ADMIN_REQUIRED: 'only an admin key may do this (created with npm run keys -- create NAME --admin)',
  NO_VERIFIED_CHUNKS: 'the job has no chunk verified by agreeing replicas to take known answers from',
  LEASE_NOT_FOUND: 'no lease with this id',
  LEASE_TOKEN_INVALID: 'the lease token does not match',
  LEASE_EXPIRED: 'the lease has expired; the chunk was given back to the queue',
  LEASE_RELEASED: 'the lease was released; the chunk went back to the queue',
  LEASE_FINISHED: 'the lease has already been reported; there is nothing to release',
  JOB_CANCELLED: 'the job was cancelled',
  BLOB_NOT_FOUND: 'no blob with this name',
  BLOB_HASH_MISMATCH: 'the body does not hash to the blob name',
  ATTACHMENT_MISSING: 'an attachment was not uploaded first (PUT /api/blobs/<sha256>)',
  CHECKPOINT_BLOB_MISSING: 'a checkpoint file was not uploaded first (PUT /api/blobs/sha256:<hex>), or has another size',
  PYTHON_CHECK_UNAVAILABLE: 'the coordinator cannot check Python scripts right now, so it accepts none',
  RATE_LIMITED: 'too many requests from this address; retry after the time in Retry-After',
  TOO_MANY_STREAMS: 'too many open event streams; close one or retry after the time in Retry-After',
  BLOB_ALLOWANCE_SPENT: 'this address has stored its allowance of blob bytes for now; retry after the time in Retry-After',
  QUOTA_EXCEEDED: 'this submitter has reached a quota (npm run keys -- list shows them; set-quota changes them)',
  CROSS_SITE_REFUSED: 'a request from another site may not act on this coordinator',
  UNSUPPORTED_MEDIA_TYPE: 'the request body has the wrong Content-Type',
  INTERNAL: 'internal error',
};

/** The one place a code becomes words. `detail` narrows it down (a field name, an id). */
export function errorMessage(code: ErrorCode, detail?: string): string {
  return detail ? `${baseMessage[code]}: ${detail}` : baseMessage[code];
}

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** With QUOTA_EXCEEDED: which quota, its limit, the usage before the request and what the request would add. */
  quota?: QuotaExceededInfo;
}

export interface QuotaExceededInfo {
  /** `jobs` (unfinished jobs), `chunksPerDay` (chunks submitted in the last 24 hours) or `blobBytes` (stored). */
  name: 'jobs' | 'chunksPerDay' | 'blobBytes';
  limit: number;
  usage: number;
  requested: number;
}

/** Body of every HTTP error response. */
export interface ErrorBody {
  error: ErrorInfo;
}

/** Errors crossing a boundary travel as data, never as thrown classes. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };
