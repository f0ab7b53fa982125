// Wire shapes of the job API (`/api/jobs`): what a submitter sends and what comes back.
import { z } from 'zod';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_CHUNKS = 1_000_000;

export const Runtime = z.enum(['python']);
export type Runtime = z.infer<typeof Runtime>;

/** `POST /api/jobs` body. Each element of `inputs` is one chunk's input. */
export const JobSubmission = z.strictObject({
  name: z.string().max(200).optional(),
  description: z.string().max(10_000).optional(),
  runtime: Runtime,
  source: z.string().min(1, 'must not be empty').max(10 * 1024 * 1024),
  inputs: z.array(z.unknown()).min(1, 'needs at least one chunk input').max(MAX_CHUNKS, `at most ${MAX_CHUNKS} chunks`),
  entry: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Python identifier')
    .optional(),
  timeoutMs: z.number().int().min(100).max(24 * 3600 * 1000).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});
export type JobSubmission = z.infer<typeof JobSubmission>;

export const JobStatus = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

/** Progress counts of a job's chunks; they always add up to `total`. */
export interface ChunkCounts {
  total: number;
  completed: number;
  failed: number;
  running: number;
  queued: number;
}

/** `GET /api/jobs/:id` and each element of `GET /api/jobs`. */
export interface JobSummary extends ChunkCounts {
  id: string;
  name: string;
  description?: string;
  runtime: Runtime;
  status: JobStatus;
  entry?: string;
  timeoutMs: number;
  maxAttempts: number;
  createdAt: string;
  finishedAt?: string;
  /** Why the job failed as a whole (for example the script's SyntaxError). */
  error?: string;
}

/** `GET /api/jobs/:id/source` — the script as submitted, for the job page. */
export interface JobSource {
  id: string;
  runtime: Runtime;
  source: string;
  entry?: string;
}

export type ChunkStatus = 'ok' | 'error';

/** One line of `GET /api/jobs/:id/results` (NDJSON), in chunk index order. */
export interface ChunkResult {
  index: number;
  status: ChunkStatus;
  output?: unknown;
  stdout?: string;
  stderr?: string;
  error?: string;
  /** How many attempts the chunk took (leases issued). */
  attempts?: number;
  durationMs?: number;
  finishedAt?: string;
}

/** Server-Sent Events on `GET /api/jobs/:id/events`. Event name → data. */
export interface JobEvents {
  /** Sent first and whenever counts change. */
  progress: JobSummary;
  /** Newly finished chunks, in the order they finished (at most a few hundred per event). */
  chunks: ChunkResult[];
  /** The job reached a final status; the stream ends after it. */
  end: JobSummary;
}
