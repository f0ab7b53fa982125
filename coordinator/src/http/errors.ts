// The HTTP edge's error type: thrown inside handlers, turned into `{ error: { code, message } }` by `onError`.
import { HTTPException } from 'hono/http-exception';
import type { Context } from 'hono';
import { ErrorCode, errorMessage, errorStatus, type ErrorBody } from '../../../protocol/index.js';

export class ApiError extends HTTPException {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
  ) {
    super(errorStatus[code] as 400, { message: errorMessage(code, detail) });
  }
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Hono `onError` handler: ApiError keeps its code; anything else is a logged 500 that leaks no internals. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
  if (err instanceof HTTPException) {
    const code = err.status === 413 ? ErrorCode.PayloadTooLarge : err.status === 404 ? ErrorCode.NotFound : ErrorCode.InvalidRequest;
    return c.json(errorBody(code, err.message || errorMessage(code)), err.status);
  }
  console.error(`[coordinator] ${c.req.method} ${c.req.path} failed:`, err);
  return c.json(errorBody(ErrorCode.Internal, errorMessage(ErrorCode.Internal)), 500);
}
