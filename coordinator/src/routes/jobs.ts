// The submitter's API: create, list, inspect, cancel jobs; read results (NDJSON / JSON / CSV) and live events (SSE).
import { Hono, type Context } from 'hono';
import { stream, streamSSE } from 'hono/streaming';
import {
  CanaryRequest,
  ErrorCode,
  JobSubmission,
  type CanaryJob,
  type ChunkResult,
  type JobSummary,
} from '../../../protocol/index.js';
import { newJobFrom } from '../domain/policy.js';
import { clientAddress } from '../http/client-address.js';
import { StreamSlots } from '../http/stream-slots.js';
import { principalQuota, requireOwner, requirePrincipal, requireReader } from '../http/submitter-auth.js';
import { QuotaExceededError, exceededQuota } from '../domain/quota.js';
import { readJson } from '../http/body.js';
import { ApiError, quotaError } from '../http/errors.js';
import type { AppDeps } from '../app.js';
import { checkSubmission } from '../runtimes.js';

const PAGE = 1000;
const FINAL: ReadonlySet<JobSummary['status']> = new Set(['completed', 'failed', 'cancelled']);

export function jobRoutes({ store, clock, notices, config, blobs, pythonPackages, pythonSyntax }: AppDeps): Hono {
  const app = new Hono();

  const streamSlots = new StreamSlots({ perAddress: config.maxStreamsPerAddress, total: config.maxStreams });

  const mustGetJob = async (id: string): Promise<JobSummary> => {
    const job = await store.getJob(id);
    if (!job) throw new ApiError(ErrorCode.JobNotFound, id);
    return job;
  };

  app.post('/', async (c) => {
    // The job belongs to the key that submits it, or in open mode to the network it comes from.
    const principal = requirePrincipal(c);
    const owner = principal.id;
    const quota = principalQuota(principal, config.keyQuota);
    const body = await readJson(c, JobSubmission);
    // A submission already over quota is refused before the syntax check spends time on it; createJob checks again,
    // atomically, and a job refused there is refused whole.
    const excess = Object.keys(quota).length
      ? exceededQuota(quota, await store.quotaUsage(owner, clock.now()), { jobs: 1, chunksPerDay: body.inputs.length })
      : undefined;
    if (excess) throw quotaError(new QuotaExceededError(excess));
    const facts = await checkSubmission(body, { blobs, pythonPackages, pythonSyntax });
    const job = await store.createJob({ ...newJobFrom(body, facts), owner, quota }, clock.now());
    const { replicas, quorum, adaptive } = job.verification;
    const verification = replicas > 1 || quorum > 1 || adaptive ? `, ${replicas} replicas, quorum ${quorum}${adaptive ? ', adaptive' : ''}` : '';
    const requires = job.requires ? `, requires ${JSON.stringify(job.requires)}` : '';
    config.log(`job ${job.id} "${job.name}" submitted: ${job.total} chunks, runtime ${body.runtime}${verification}${requires}`);
    notices.changed(job.id);
    return c.json(job, 201);
  });

  /** 404 for an unknown job; 401/403 when the job is private and the principal is not its owner or an admin. */
  const mayRead = async (c: Context, id: string): Promise<void> => {
    const access = await store.jobAccess(id);
    if (!access) throw new ApiError(ErrorCode.JobNotFound, id);
    requireReader(c, access);
  };

  app.get('/', async (c) => {
    const limit = intParam(c, 'limit', 200, 1, 10_000);
    // A private job is not even listed to others: its name and description are the submitter's too.
    const principal = c.get('principal');
    const jobs = await store.listJobs({ limit });
    const access = await Promise.all(jobs.map((job) => (job.private ? store.jobAccess(job.id) : undefined)));
    return c.json(jobs.filter((job, i) => !job.private || principal?.admin || access[i]?.owner === principal?.id));
  });

  app.get('/:id', async (c) => {
    await mayRead(c, c.req.param('id'));
    return c.json(await mustGetJob(c.req.param('id')));
  });

  app.get('/:id/source', async (c) => {
    await mayRead(c, c.req.param('id'));
    const source = await store.getJobSource(c.req.param('id'));
    if (!source) throw new ApiError(ErrorCode.JobNotFound, c.req.param('id'));
    return c.json(source);
  });

  app.get('/:id/chunks/:index', async (c) => {
    await mayRead(c, c.req.param('id'));
    const job = await mustGetJob(c.req.param('id'));
    const index = Number(c.req.param('index'));
    if (!Number.isInteger(index) || index < 0 || index >= job.total) {
      throw new ApiError(ErrorCode.NotFound, `chunk ${c.req.param('index')}: job ${job.id} has chunks 0 to ${job.total - 1}`);
    }
    return c.json(await store.getChunk(job.id, index));
  });

  app.delete('/:id', async (c) => {
    const access = await store.jobAccess(c.req.param('id'));
    if (!access) throw new ApiError(ErrorCode.JobNotFound, c.req.param('id'));
    requireOwner(c, access);
    const job = await store.cancelJob(c.req.param('id'), clock.now());
    if (!job) throw new ApiError(ErrorCode.JobNotFound, c.req.param('id'));
    if (job.status === 'cancelled') config.log(`job ${job.id} cancelled`);
    notices.changed(job.id);
    return c.json(job);
  });

  // Known-answer chunks (docs/verification.md): an admin turns chunks that agreeing replicas verified into a job of
  // their own, whose every chunk is checked against that answer with one result. To contributors it is one more job.
  app.post('/:id/canaries', async (c) => {
    const principal = requirePrincipal(c);
    if (!principal.admin) throw new ApiError(ErrorCode.AdminRequired, 'known-answer jobs can catch contributors, so only admins seed them');
    const id = c.req.param('id');
    const request = await readJson(c, CanaryRequest);
    const source = await mustGetJob(id);
    const fields = await store.getJobSource(id);
    if (!fields) throw new ApiError(ErrorCode.JobNotFound, id);
    const wanted = request.chunks ?? 20;
    // Only answers two or more contributors agreed on: a lone (trusted or known-answer) result is not an answer to
    // hold others to. Reservoir sampling, so a million-chunk job is read page by page, never held whole.
    const picked: ChunkResult[] = [];
    let seen = 0;
    for (let offset = 0; ; ) {
      const page = await store.listResults(id, { offset, limit: PAGE });
      for (const result of page) {
        if (result.status !== 'ok' || !result.verified || (result.agreeing ?? 0) < 2) continue;
        seen++;
        if (picked.length < wanted) picked.push(result);
        else {
          const slot = Math.floor(Math.random() * seen);
          if (slot < wanted) picked[slot] = result;
        }
      }
      if (page.length < PAGE) break;
      offset = page[page.length - 1].index + 1;
    }
    if (picked.length === 0) throw new ApiError(ErrorCode.NoVerifiedChunks, id);
    picked.sort((a, b) => a.index - b.index);
    const inputs = await Promise.all(picked.map(async (result) => (await store.getChunk(id, result.index))!.input));
    const { id: _sourceId, ...runtimeFields } = fields;
    const job = await store.createJob(
      {
        name: request.name ?? source.name,
        description: source.description,
        fields: runtimeFields,
        inputs,
        timeoutMs: source.timeoutMs,
        maxAttempts: source.maxAttempts,
        policy: source.verification,
        ...(source.requires ? { requires: source.requires } : {}),
        private: true,
        owner: principal.id,
        // Admin keys only, so no limit unless the key has its own quota; a seeded job counts like any other.
        quota: principalQuota(principal, config.keyQuota),
        known: picked.map((result, index) => ({ index, output: result.output })),
      },
      clock.now(),
    );
    config.log(`job ${job.id} "${job.name}" seeded: ${job.total} known-answer chunks from job ${id}`);
    notices.changed(job.id);
    const body: CanaryJob = { job, canaryOf: id, sourceChunks: picked.map((result) => result.index) };
    return c.json(body, 201);
  });

  app.get('/:id/results', async (c) => {
    await mayRead(c, c.req.param('id'));
    const job = await mustGetJob(c.req.param('id'));
    const format = c.req.query('format') ?? 'ndjson';
    if (!['ndjson', 'json', 'csv'].includes(format)) {
      throw new ApiError(ErrorCode.InvalidRequest, 'format: must be ndjson, json or csv');
    }
    const offset = intParam(c, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c, 'limit', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
    const contentType = { ndjson: 'application/x-ndjson', json: 'application/json', csv: 'text/csv' }[format]!;
    c.header('Content-Type', `${contentType}; charset=utf-8`);
    if (c.req.query('download') !== undefined) {
      c.header('Content-Disposition', `attachment; filename="${job.id}-results.${format}"`);
    }
    c.header('Cache-Control', 'no-store');
    // Pages of finished chunks are written as they are read: the body is never built whole in memory.
    return stream(c, async (out) => {
      if (format === 'json') await out.write('[');
      if (format === 'csv') await out.write('index,status,output,stdout,error\n');
      let next = offset;
      let written = 0;
      while (written < limit) {
        const page = await store.listResults(job.id, { offset: next, limit: Math.min(PAGE, limit - written) });
        for (const result of page) {
          await out.write(encodeResult(result, format, written === 0));
          written++;
        }
        if (page.length < PAGE || out.aborted) break;
        next = page[page.length - 1].index + 1;
      }
      if (format === 'json') await out.write(']');
    });
  });

  app.get('/:id/events', async (c) => {
    await mayRead(c, c.req.param('id'));
    const first = await mustGetJob(c.req.param('id'));
    const resumeFrom = lastEventId(c);
    const release = streamSlots.acquire(clientAddress(c, config.trustProxy));
    if (!release) {
      // A page retries an EventSource on its own; Retry-After tells other clients when a slot may be free.
      c.header('Retry-After', String(Math.max(1, Math.ceil(config.ssePollMs / 1000)) * 5));
      throw new ApiError(ErrorCode.TooManyStreams, `at most ${config.maxStreamsPerAddress} per address and ${config.maxStreams} in all (flags --max-streams-per-address, --max-streams)`);
    }
    c.header('Cache-Control', 'no-store');
    return streamSSE(c, async (sse) => {
      // A `chunks` event's id is the job's finish cursor after it: a client that reconnects with Last-Event-ID gets
      // only the chunks that finished since, and a fresh `progress`.
      let cursor = resumeFrom;
      let last = '';
      let wake: () => void = () => {};
      const stopWatching = [notices.watch(first.id, () => wake()), notices.watch('*', () => wake())];
      sse.onAbort(() => wake());
      try {
        while (!sse.aborted) {
          const job = await store.getJob(first.id);
          if (!job) break;
          const { results, cursor: nextCursor } = await store.finishedSince(job.id, cursor, 500);
          cursor = nextCursor;
          if (results.length) await sse.writeSSE({ event: 'chunks', data: JSON.stringify(results), id: String(cursor) });
          const snapshot = JSON.stringify(job);
          if (snapshot !== last) {
            last = snapshot;
            await sse.writeSSE({ event: 'progress', data: snapshot });
          }
          if (FINAL.has(job.status) && results.length < 500) {
            await sse.writeSSE({ event: 'end', data: snapshot });
            break;
          }
          if (results.length === 500) continue;
          // Sleep until something changes, at most one poll interval, at least a short coalescing delay.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, config.ssePollMs);
            wake = () => {
              clearTimeout(timer);
              setTimeout(resolve, 100);
              wake = () => {};
            };
          });
        }
      } finally {
        stopWatching.forEach((stop) => stop());
        release();
      }
    });
  });

  return app;
}

function encodeResult(result: ChunkResult, format: string, first: boolean): string {
  if (format === 'ndjson') return JSON.stringify(result) + '\n';
  if (format === 'json') return (first ? '' : ',') + JSON.stringify(result);
  const output = result.output === undefined ? '' : JSON.stringify(result.output);
  return [result.index, result.status, output, result.stdout ?? '', result.error ?? ''].map(csvField).join(',') + '\n';
}

/**
 * One CSV cell. A cell a spreadsheet would read as a formula (starting with = + - @, tab or carriage return) gets a
 * leading apostrophe, so results written by contributors cannot run formulas on the submitter's machine (OWASP's
 * CSV injection advice). Plain numbers such as -1.5 are left alone: they are not formulas.
 *
 * @example csvField('=HYPERLINK("http://x")') → `"'=HYPERLINK(""http://x"")"`
 */
export function csvField(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The finish cursor a reconnecting stream resumes from (`Last-Event-ID`, as a client sends it back); 0 without one. */
function lastEventId(c: Context): number {
  const header = c.req.header('last-event-id')?.trim();
  if (header === undefined || header === '') return 0;
  if (!/^\d{1,15}$/.test(header)) {
    throw new ApiError(ErrorCode.InvalidRequest, 'Last-Event-ID: must be the id of an event this stream sent (a whole number)');
  }
  return Number(header);
}

function intParam(c: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(ErrorCode.InvalidRequest, `${name}: must be an integer from ${min} to ${max}`);
  }
  return value;
}
