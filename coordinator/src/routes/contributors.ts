// The contributor protocol (docs/protocol.md): register, lease a batch, fetch a job's spec, heartbeat, report results,
// release a lease it will not finish, upload a running lease's checkpoint.
// Every call after registration carries `Authorization: Bearer <token>` for the contributor in the path.
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import {
  CheckpointRequest,
  ErrorCode,
  HeartbeatRequest,
  LeaseRequest,
  RegisterRequest,
  ReleaseRequest,
  ReportRequest,
  errorMessage,
  type Attachment,
  type CheckpointFile,
  type LeaseResponse,
  type ReportOutcome,
} from '../../../protocol/index.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { readJson } from '../http/body.js';
import { clientNetwork } from '../http/client-network.js';
import { ApiError } from '../http/errors.js';
import { leaseCapabilities } from '../domain/requirements.js';
import type { AppDeps } from '../app.js';

export function contributorRoutes({ store, clock, notices, config, blobs }: AppDeps): Hono {
  const app = new Hono();

  app.post('/', async (c) => {
    const body = await readJson(c, RegisterRequest);
    const registered = await store.registerContributor({ agent: body.agent }, clock.now());
    config.log(`contributor ${registered.contributorId} registered${body.agent ? ` (${body.agent.slice(0, 80)})` : ''}`);
    return c.json(registered, 201);
  });

  const authenticated = createMiddleware(async function contributorAuth(c, next) {
    const header = c.req.header('Authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token) throw new ApiError(ErrorCode.Unauthorized, 'send Authorization: Bearer <token> from registration');
    if (!(await store.authenticateContributor(c.req.param('id') ?? '', token))) {
      throw new ApiError(ErrorCode.Unauthorized, 'unknown contributor or wrong token; register again');
    }
    await next();
  });

  app.post('/:id/leases', authenticated, async (c) => {
    const body = await readJson(c, LeaseRequest);
    // Capabilities decide what it may be leased; a caller without them is a tab of today, never given a native job.
    const capabilities = leaseCapabilities(body);
    const batch = await store.leaseChunks(
      c.req.param('id'),
      { max: body.max, runtimes: capabilities.runtimes, capabilities, network: clientNetwork(c, config.trustProxy), ...(body.threads ? { threads: body.threads } : {}), ...(body.loadedJobs ? { loadedJobs: body.loadedJobs } : {}), ...(body.finishedLeases ? { finishedLeases: body.finishedLeases } : {}), haveSpecs: body.haveSpecs },
      clock.now(),
    );
    const response: LeaseResponse = batch;
    if (batch.leases.length === 0) response.retryAfterMs = config.idleRetryMs;
    else for (const jobId of new Set(batch.leases.map((lease) => lease.jobId))) notices.changed(jobId);
    return c.json(response);
  });

  // A job's spec on its own, for a contributor holding a lease of a job whose spec it no longer has.
  app.get('/:id/jobs/:jobId', authenticated, async (c) => {
    const spec = await store.getJobSpec(c.req.param('jobId'));
    if (!spec) throw new ApiError(ErrorCode.JobNotFound, c.req.param('jobId'));
    return c.json(spec);
  });

  app.post('/:id/heartbeat', authenticated, async (c) => {
    const body = await readJson(c, HeartbeatRequest);
    return c.json({ leases: await store.heartbeat(c.req.param('id'), body.leases, clock.now()) });
  });

  // A lease handed back before it ends (the contributor paused; its tab stopped a chunk that would not pause): the chunk
  // is queued again now rather than when the lease would have expired, and counts as no attempt.
  app.post('/:id/leases/:leaseId/release', authenticated, async (c) => {
    const body = await readJson(c, ReleaseRequest);
    const leaseId = c.req.param('leaseId');
    const released = await store.releaseLease(c.req.param('id'), { leaseId, leaseToken: body.leaseToken }, clock.now());
    if (!released.ok) throw new ApiError(released.error.code, leaseId);
    notices.changed('*');
    return c.json(released.value);
  });

  // A running lease's checkpoint (its chunk's /work/checkpoint/, each file a blob uploaded first): a later lease of the
  // chunk resumes from it. Only the holder, only while the lease runs.
  app.put('/:id/leases/:leaseId/checkpoint', authenticated, async (c) => {
    const body = await readJson(c, CheckpointRequest);
    const leaseId = c.req.param('leaseId');
    const missing = await missingCheckpointBlob(blobs, body.files);
    if (missing) throw new ApiError(ErrorCode.CheckpointBlobMissing, missing);
    const saved = await store.saveCheckpoint(c.req.param('id'), { leaseId, leaseToken: body.leaseToken }, body.files, clock.now());
    if (!saved.ok) throw new ApiError(saved.error.code, leaseId);
    return c.json(saved.value);
  });

  app.post('/:id/results', authenticated, async (c) => {
    const body = await readJson(c, ReportRequest);
    // A result may name attachments only once their bytes are stored; otherwise it is rejected, not half-kept.
    const missing = await Promise.all(body.results.map((report) => missingAttachment(blobs, report.attachments)));
    const accepted = body.results.filter((_, i) => !missing[i]);
    const stored = accepted.length ? await store.reportResults(c.req.param('id'), accepted, clock.now()) : [];
    const results = body.results.map((report, i): ReportOutcome => {
      const name = missing[i];
      if (!name) return stored.shift()!;
      return { leaseId: report.leaseId, outcome: 'rejected', error: { code: ErrorCode.AttachmentMissing, message: errorMessage(ErrorCode.AttachmentMissing, name) } };
    });
    if (results.some((r) => r.outcome === 'accepted')) notices.changed('*');
    return c.json({ results });
  });

  return app;
}

/** The first checkpoint file whose blob is absent or of another size, described; undefined when all are stored. */
async function missingCheckpointBlob(blobs: BlobStore, files: CheckpointFile[]): Promise<string | undefined> {
  for (const file of files) {
    const info = await blobs.stat(file.blob);
    if (!info) return `${file.name} (${file.blob})`;
    if (info.size !== file.size) return `${file.name}: stored blob has ${info.size} bytes, not ${file.size}`;
  }
  return undefined;
}

/** The first attachment whose blob is absent or of another size, described; undefined when all are stored. */
async function missingAttachment(blobs: BlobStore, attachments: Attachment[] | undefined): Promise<string | undefined> {
  for (const attachment of attachments ?? []) {
    const info = await blobs.stat(attachment.sha256);
    if (!info) return `${attachment.name} (${attachment.sha256})`;
    if (info.size !== attachment.size) return `${attachment.name}: stored blob has ${info.size} bytes, not ${attachment.size}`;
  }
  return undefined;
}
