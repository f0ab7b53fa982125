// Reads and validates a JSON request body against a protocol schema; failures become 400s naming the field.
import type { Context } from 'hono';
import type { z } from 'zod';
import { ErrorCode, describeIssues } from '../../../protocol/index.js';
import { ApiError } from './errors.js';

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  const text = await c.req.text();
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ApiError(ErrorCode.InvalidJson, (err as Error).message);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, describeIssues(parsed.error));
  return parsed.data;
}
