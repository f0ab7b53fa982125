// The HTTP edge's error type: thrown inside handlers, turned into `{ error: { code, message } }` by `onError`.
import { HTTPException } from 'hono/http-exception';
import type { Context } from 'hono';
import { ErrorCode, errorMessage, errorStatus, type ErrorBody, type ErrorInfo } from '../../../protocol/index.js';
import { QuotaExceededError } from '../domain/quota.js';

export class ApiError extends HTTPException {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    /** Fields the error body carries beside code and message (ErrorInfo). */
    readonly extra: Omit<ErrorInfo, 'code' | 'message'> = {},
  ) {
    super(errorStatus[code] as 400, { message: errorMessage(code, detail) });
  }
}

/** 429 QUOTA_EXCEEDED for a store's QuotaExceededError: the message and `quota` name the quota, limit and usage. */
export function quotaError(err: QuotaExceededError): ApiError {
  const { quota: name, limit, usage, requested } = err.excess;
  return new ApiError(ErrorCode.QuotaExceeded, err.message, { quota: { name, limit, usage, requested } });
}

export function errorBody(code: ErrorCode, message: string, extra: Omit<ErrorInfo, 'code' | 'message'> = {}): ErrorBody {
  return { error: { code, message, ...extra } };
}

/** Hono `onError` handler: ApiError keeps its code; anything else is a logged 500 that leaks no internals. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message, err.extra), err.status);
  if (err instanceof QuotaExceededError) return handleError(quotaError(err), c);
  if (err instanceof HTTPException) {
    const code = err.status === 413 ? ErrorCode.PayloadTooLarge : err.status === 404 ? ErrorCode.NotFound : ErrorCode.InvalidRequest;
    return c.json(errorBody(code, err.message || errorMessage(code)), err.status);
  }
  console.error(`[coordinator] ${c.req.method} ${c.req.path} failed:`, err);
  return c.json(errorBody(ErrorCode.Internal, errorMessage(ErrorCode.Internal)), 500);
}
