// API tests: the whole Hono app over a real store, driven with app.request() (no socket).
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChunkResult, JobSummary, LeaseResponse, RegisterResponse } from '../../protocol/index.js';
import { createApp } from './app.js';
import { LeaseReaper } from './reaper.js';
import { MemoryStore } from './store/memory.js';
import { PythonSyntaxChecker, sharedPythonSyntaxChecker } from './python/syntax-check.js';

// Python submissions are compiled by the coordinator's own Pyodide: warm it once for the whole file.
beforeAll(() => sharedPythonSyntaxChecker().start());

function setup(config = {}) {
  let now = Date.UTC(2026, 5, 1);
  const clock = { now: () => now };
  const store = new MemoryStore({ leaseGraceMs: 1_000, retryCooldownMs: 1_000 });
  const { app } = createApp({ store, clock, config });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  const register = async () => {
    const { json } = await call('POST', '/api/contributors', { agent: 'vitest' });
    const r = json as RegisterResponse;
    const auth = { Authorization: `Bearer ${r.token}` };
    return {
      ...r,
      lease: async (max: number) => (await call('POST', `/api/contributors/${r.contributorId}/leases`, { max }, auth)).json as LeaseResponse,
      report: (results: unknown[]) => call('POST', `/api/contributors/${r.contributorId}/results`, { results }, auth),
      heartbeat: (leases: unknown[]) => call('POST', `/api/contributors/${r.contributorId}/heartbeat`, { leases }, auth),
    };
  };
  const submit = async (body: object) =>
    call('POST', '/api/jobs', { runtime: 'python', source: 'def main(x):\n    return x * 2\n', ...body });
  return { call, register, submit, store, clock, advance: (ms: number) => (now += ms), reaper: new LeaseReaper(store, clock) };
}

describe('POST /api/jobs', () => {
  it('refuses a Python script that does not compile, naming the field, line and message', async () => {
    const { submit, call } = setup();
    const res = await submit({ source: 'def main(x):\n    return (x\n', inputs: [1] });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({ code: 'INVALID_REQUEST', message: "the request is invalid: source: line 2: SyntaxError: '(' was never closed" });
    expect((await call('GET', '/api/jobs')).json).toEqual([]);
  });

  it('compares stdout and stderr in script mode, and publishes them unverified in function mode (found by compiling)', async () => {
    const { submit, register, call } = setup();
    const script = (await submit({ source: 'import sys\nprint(sys.argv)\n', inputs: [1], replicas: 2 })).json;
    expect(script.verification.compared).toEqual(['output', 'stdout', 'stderr', 'attachments']);
    const fn = (await submit({ inputs: [1], replicas: 2 })).json;
    expect(fn.verification.compared).toEqual(['output', 'attachments']);
    const named = (await submit({ source: 'def go(x):\n    return x\n', entry: 'go', inputs: [1], replicas: 2 })).json;
    expect(named.verification.compared).toEqual(['output', 'attachments']);
    for (const stdout of ['imported once', undefined]) {
      const c = await register();
      const lease = (await c.lease(10)).leases.find((l) => l.jobId === fn.id)!;
      await c.report([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 2, stdout }]);
    }
    const [line] = (await call('GET', `/api/jobs/${fn.id}/results?format=json`)).json;
    expect(line).toMatchObject({ verified: true, stdout: 'imported once', unverified: ['stdout'] });
  });

  it('refuses Python jobs with 503 and the reason while the syntax check cannot start', async () => {
    const store = new MemoryStore();
    const broken = new PythonSyntaxChecker({ indexURL: '/nonexistent/pyodide/' });
    const { app } = createApp({ store, pythonSyntax: broken });
    const res = await app.request('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ runtime: 'python', source: 'x = 1', inputs: [1] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'PYTHON_CHECK_UNAVAILABLE', message: expect.stringMatching(/could not start/) });
  });

  it('creates a queued job with defaults and returns 201', async () => {
    const { submit, call } = setup();
    const res = await submit({ name: 'double', inputs: [1, 2, 3] });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: 'double', status: 'queued', total: 3, queued: 3, timeoutMs: 60000, maxAttempts: 3 });
    const got = await call('GET', `/api/jobs/${res.json.id}`);
    expect(got.json).toEqual(res.json);
  });

  it.each([
    [{ runtime: 'python', inputs: [1] }, 'source: is required'],
    [{ runtime: 'python', source: 'x', inputs: [] }, 'inputs: needs at least one chunk input'],
    [{ runtime: 'cobol', source: 'x', inputs: [1] }, 'runtime'],
    [{ runtime: 'python', source: 'x', inputs: 'abc' }, 'inputs'],
    [{ runtime: 'python', source: 'x', inputs: [1], timeoutMs: 1.5 }, 'timeoutMs'],
    [{ runtime: 'python', source: 'x', inputs: [1], entry: 'not valid' }, 'entry: must be a Python identifier'],
    [{ runtime: 'python', source: 'x', inputs: [1], colour: 'red' }, 'unknown field "colour"'],
    [{ runtime: 'python', source: 'x', inputs: [1], replicas: 2, quorum: 3 }, 'quorum: must not exceed replicas (2)'],
    [{ runtime: 'python', source: 'x', inputs: [1], quorum: 0 }, 'quorum'],
    [{ runtime: 'python', source: 'x', inputs: [1], replicas: 3, maxResults: 2 }, 'maxResults: must be at least replicas (3)'],
    [{ runtime: 'python', source: 'x', inputs: [1], adaptive: true }, 'adaptive: needs replicas of at least 2'],
    [{ runtime: 'python', source: 'x', inputs: [1], validation: { kind: 'tolerance' } }, 'validation: tolerance needs abs or rel'],
    [{ runtime: 'python', source: 'x', inputs: [1], validation: { kind: 'fuzzy' } }, 'validation.kind'],
  ])('rejects %j with a 400 naming the field', async (body, field) => {
    const { call } = setup();
    const res = await call('POST', '/api/jobs', body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_REQUEST');
    expect(res.json.error.message).toContain(field);
  });

  it('rejects malformed JSON with INVALID_JSON', async () => {
    const { call } = setup();
    const res = await call('POST', '/api/jobs', '{"runtime": ');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_JSON');
  });

  it('answers 413 with the limit when the body is too large', async () => {
    const { submit } = setup({ maxBodyBytes: 1024 });
    const res = await submit({ inputs: Array.from({ length: 500 }, (_, i) => i) });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(res.json.error.message).toContain('1024 bytes');
  });

  it('lists jobs newest first', async () => {
    const { submit, call, advance } = setup();
    const a = await submit({ name: 'a', inputs: [1] });
    advance(1);
    const b = await submit({ name: 'b', inputs: [1] });
    const list = await call('GET', '/api/jobs');
    expect(list.json.map((j: JobSummary) => j.id)).toEqual([b.json.id, a.json.id]);
  });

  it('404s with JOB_NOT_FOUND for unknown jobs and NOT_FOUND for unknown API paths', async () => {
    const { call } = setup();
    expect((await call('GET', '/api/jobs/nope')).json.error.code).toBe('JOB_NOT_FOUND');
    expect((await call('DELETE', '/api/jobs/nope')).status).toBe(404);
    const res = await call('GET', '/api/nothing');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('NOT_FOUND');
  });
});

describe('contributor protocol over HTTP', () => {
  it('refuses calls without the right token', async () => {
    const { call, register } = setup();
    const c = await register();
    const none = await call('POST', `/api/contributors/${c.contributorId}/leases`, { max: 1 });
    expect(none.status).toBe(401);
    const wrong = await call('POST', `/api/contributors/${c.contributorId}/leases`, { max: 1 }, { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('UNAUTHORIZED');
  });

  it('validates lease requests', async () => {
    const { call, register } = setup();
    const c = await register();
    const res = await call('POST', `/api/contributors/${c.contributorId}/leases`, { max: 0 }, { Authorization: `Bearer ${c.token}` });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('max');
  });

  it("sends a job's spec only to contributors that do not list it in haveSpecs, and serves it on its own", async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [1, 2, 3] })).json;
    const c = await register();
    const auth = { Authorization: `Bearer ${c.token}` };
    const leases = `/api/contributors/${c.contributorId}/leases`;
    const first = (await call('POST', leases, { max: 1 }, auth)).json as LeaseResponse;
    expect(Object.keys(first.jobs)).toEqual([job.id]);
    const second = (await call('POST', leases, { max: 1, haveSpecs: [job.id] }, auth)).json as LeaseResponse;
    expect(second.leases).toHaveLength(1);
    expect(second.jobs).toEqual({});
    const spec = await call('GET', `/api/contributors/${c.contributorId}/jobs/${job.id}`, undefined, auth);
    expect(spec.status).toBe(200);
    expect(spec.json).toEqual(first.jobs[job.id]);
    const missing = await call('GET', `/api/contributors/${c.contributorId}/jobs/j-nope`, undefined, auth);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('JOB_NOT_FOUND');
    expect((await call('GET', `/api/contributors/${c.contributorId}/jobs/${job.id}`)).status).toBe(401);
    const tooMany = await call('POST', leases, { max: 1, haveSpecs: Array.from({ length: 257 }, (_, i) => `j${i}`) }, auth);
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.message).toContain('haveSpecs');
  });

  it('runs a job end to end: lease, report, results in index order as NDJSON, JSON and CSV', async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [5, 6, 7] })).json;
    const c = await register();
    const batch = await c.lease(8);
    expect(batch.leases).toHaveLength(3);
    expect(batch.jobs[job.id]).toMatchObject({ runtime: 'python', source: expect.stringContaining('def main') });
    const reports = batch.leases.reverse().map((l) => ({
      leaseId: l.leaseId,
      leaseToken: l.leaseToken,
      status: 'ok',
      output: (l.input as number) * 2,
      stdout: l.chunkIndex === 1 ? 'a "quoted", line\n' : undefined,
    }));
    const reported = await c.report(reports);
    expect(reported.json.results.map((r: { outcome: string }) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    expect((await call('GET', `/api/jobs/${job.id}`)).json).toMatchObject({ status: 'completed', completed: 3 });

    const ndjson = await call('GET', `/api/jobs/${job.id}/results`);
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = ndjson.text.trim().split('\n').map((l) => JSON.parse(l) as ChunkResult);
    expect(lines.map((l) => [l.index, l.output])).toEqual([[0, 10], [1, 12], [2, 14]]);

    const json = await call('GET', `/api/jobs/${job.id}/results?format=json&offset=1&limit=1`);
    expect(json.json.map((r: ChunkResult) => r.index)).toEqual([1]);

    const csv = await call('GET', `/api/jobs/${job.id}/results?format=csv`);
    expect(csv.text.split('\n')[0]).toBe('index,status,output,stdout,error');
    expect(csv.text).toContain('1,ok,12,"a ""quoted"", line\n",');

    const again = await c.report(reports.slice(0, 1));
    expect(again.json.results[0].outcome).toBe('duplicate');
  });

  it('returns results finished so far while the job runs', async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [1, 2, 3, 4] })).json;
    const c = await register();
    const [first] = (await c.lease(1)).leases;
    await c.report([{ leaseId: first.leaseId, leaseToken: first.leaseToken, status: 'ok', output: 2 }]);
    const res = await call('GET', `/api/jobs/${job.id}/results?format=json`);
    expect(res.json).toHaveLength(1);
    expect((await call('GET', `/api/jobs/${job.id}`)).json.status).toBe('running');
  });

  it('rejects a result with a wrong lease token and one for an expired lease', async () => {
    const { submit, register, advance, reaper } = setup();
    await submit({ inputs: [1], timeoutMs: 1000 });
    const c = await register();
    const [lease] = (await c.lease(1)).leases;
    const forged = await c.report([{ leaseId: lease.leaseId, leaseToken: 'forged', status: 'ok', output: 1 }]);
    expect(forged.json.results[0]).toMatchObject({ outcome: 'rejected', error: { code: 'LEASE_TOKEN_INVALID' } });
    advance(2_001);
    expect(await reaper.runOnce()).toBe(1);
    const late = await c.report([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 1 }]);
    expect(late.json.results[0]).toMatchObject({ outcome: 'rejected', error: { code: 'LEASE_EXPIRED' } });
  });

  it('tells contributors of a cancelled job to stop at their next heartbeat', async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [1, 2] })).json;
    const c = await register();
    const [lease] = (await c.lease(1)).leases;
    const cancelled = await call('DELETE', `/api/jobs/${job.id}`);
    expect(cancelled.json.status).toBe('cancelled');
    const beat = await c.heartbeat([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken }]);
    expect(beat.json.leases[0].state).toBe('cancelled');
    const next = await c.lease(4);
    expect(next.leases).toEqual([]);
    expect(next.retryAfterMs).toBeGreaterThan(0);
  });

  it('releases a lease at once: the chunk is queued again, no error counted; 404/403/409 JSON for the rest', async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [1] })).json;
    const c = await register();
    const other = await register();
    const [lease] = (await c.lease(1)).leases;
    const release = (who: typeof c, leaseId: string, body: unknown) =>
      call('POST', `/api/contributors/${who.contributorId}/leases/${leaseId}/release`, body, { Authorization: `Bearer ${who.token}` });

    const foreign = await release(other, lease.leaseId, { leaseToken: lease.leaseToken });
    expect(foreign.status).toBe(404);
    expect(foreign.json.error).toMatchObject({ code: 'LEASE_NOT_FOUND', message: expect.stringContaining(lease.leaseId) });
    expect((await release(c, 'l-nope', { leaseToken: 'x' })).json.error.code).toBe('LEASE_NOT_FOUND');
    expect((await release(c, lease.leaseId, { leaseToken: 'forged' })).status).toBe(403);
    const noToken = await release(c, lease.leaseId, {});
    expect(noToken.status).toBe(400);
    expect(noToken.json.error.message).toContain('leaseToken');
    const unauthenticated = await call('POST', `/api/contributors/${c.contributorId}/leases/${lease.leaseId}/release`, { leaseToken: lease.leaseToken });
    expect(unauthenticated.status).toBe(401);

    const released = await release(c, lease.leaseId, { leaseToken: lease.leaseToken });
    expect(released.status).toBe(200);
    expect(released.json).toEqual({ leaseId: lease.leaseId, state: 'released' });
    expect((await call('GET', `/api/jobs/${job.id}`)).json).toMatchObject({ queued: 0, running: 1, failed: 0 });
    const [again] = (await other.lease(1)).leases;
    expect(again).toMatchObject({ chunkIndex: 0 });
    await other.report([{ leaseId: again.leaseId, leaseToken: again.leaseToken, status: 'ok', output: 2 }]);
    const finished = await release(other, again.leaseId, { leaseToken: again.leaseToken });
    expect(finished.status).toBe(409);
    expect(finished.json.error.code).toBe('LEASE_FINISHED');
  });

  it('a contributor reporting a syntax error fails only that chunk, not the job', async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [1, 2, 3] })).json;
    const c = await register();
    const [lease] = (await c.lease(1)).leases;
    const message = 'SyntaxError: forged';
    await c.report([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'error', failure: 'syntax', error: message }]);
    const summary = (await call('GET', `/api/jobs/${job.id}`)).json;
    expect(summary).toMatchObject({ status: 'running', failed: 1, queued: 2, running: 0 });
    expect(summary.error).toBeUndefined();
  });
});

describe('CSV export', () => {
  it('neutralises cells a spreadsheet would run as formulas', async () => {
    const { submit, register, call } = setup();
    const hostile = ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tx', '\rx'];
    const job = (await submit({ inputs: [...hostile, 'fine'] })).json;
    const c = await register();
    const leases = (await c.lease(10)).leases;
    await c.report(leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok', output: l.chunkIndex === 6 ? -1.5 : 1, stdout: l.input })));
    const csv = (await call('GET', `/api/jobs/${job.id}/results?format=csv`)).text;
    const cells = csv.trim().split('\n').slice(1).map((line) => line.split(',')[3]);
    expect(cells).toEqual(["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", '"\'\rx"', 'fine']);
    expect(csv).toContain('6,ok,-1.5,fine,');
  });
});

describe('verification over HTTP', () => {
  it('shows nothing about an open chunk: no sibling output, no sign that a sibling exists', async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [3], replicas: 2 })).json;
    const first = await register();
    const [lease] = (await first.lease(1)).leases;
    await first.report([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 'first answer', stdout: 'printed' }]);
    const second = await register();
    await second.lease(1);
    const detail = await call('GET', `/api/jobs/${job.id}/chunks/0`);
    expect(detail.json).toEqual({ index: 0, input: 3, state: 'open', results: [] });
    const seen = [detail.text, (await call('GET', `/api/jobs/${job.id}`)).text, (await call('GET', `/api/jobs/${job.id}/results`)).text, (await call('GET', '/api/jobs')).text];
    for (const text of seen) expect(text).not.toMatch(/first answer|printed/);
    expect((await call('GET', `/api/jobs/${job.id}`)).json).toMatchObject({ resultsIssued: 0, valid: 0, inconclusive: 0 });
  });

  it('a second replica\'s lease looks like a first one: same fields, no attempt number', async () => {
    const { submit, register } = setup();
    await submit({ inputs: [3], replicas: 2 });
    const [first] = (await (await register()).lease(1)).leases;
    const [second] = (await (await register()).lease(1)).leases;
    expect(second.chunkIndex).toBe(first.chunkIndex);
    const fields = ['chunkIndex', 'deadline', 'input', 'jobId', 'leaseId', 'leaseToken'];
    expect(Object.keys(first).sort()).toEqual(fields);
    expect(Object.keys(second).sort()).toEqual(fields);
    expect({ ...second, leaseId: '', leaseToken: '' }).toEqual({ ...first, leaseId: '', leaseToken: '' });
  });

  it("a job's counts do not move when a sibling replica is issued, or when a result leaves its chunk open", async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [3], replicas: 2 })).json;
    const counts = async () => {
      const { running, queued, completed, failed, verified, resultsIssued, valid, invalid, inconclusive, status } = (await call('GET', `/api/jobs/${job.id}`)).json;
      return { running, queued, completed, failed, verified, resultsIssued, valid, invalid, inconclusive, status };
    };
    const first = await register();
    const [lease] = (await first.lease(1)).leases;
    const afterLease = await counts();
    expect(afterLease).toMatchObject({ running: 1, queued: 0, status: 'running' });
    // The first contributor reports: whether a sibling is running now or not, nothing it can read changes.
    const [outcome] = (await first.report([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 6 }])).json.results;
    expect(outcome).toEqual({ leaseId: lease.leaseId, outcome: 'accepted' });
    expect(await counts()).toEqual(afterLease);
    // The sibling is issued later: still nothing moves until the chunk settles.
    const second = await register();
    const [sibling] = (await second.lease(1)).leases;
    expect(sibling.chunkIndex).toBe(lease.chunkIndex);
    expect(await counts()).toEqual(afterLease);
    await second.report([{ leaseId: sibling.leaseId, leaseToken: sibling.leaseToken, status: 'ok', output: 6 }]);
    expect(await counts()).toMatchObject({ running: 0, completed: 1, verified: 1, resultsIssued: 2, valid: 2, status: 'completed' });
  });

  it('shows verified results, agreeing counts and a chunk detail view', async () => {
    const { submit, register, call } = setup();
    const job = (await submit({ inputs: [3], replicas: 2, validation: { kind: 'tolerance', rel: 1e-9 } })).json;
    expect(job.verification).toMatchObject({ replicas: 2, quorum: 2, validation: { kind: 'tolerance', rel: 1e-9 } });
    for (const output of [6, 6.000000000001]) {
      const c = await register();
      const [lease] = (await c.lease(1)).leases;
      await c.report([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output, runtimeInfo: { executionProvider: 'wasm' } }]);
    }
    const summary = (await call('GET', `/api/jobs/${job.id}`)).json;
    expect(summary).toMatchObject({ status: 'completed', verified: 1, valid: 2, invalid: 0, inconclusive: 0, resultsIssued: 2 });
    const [line] = (await call('GET', `/api/jobs/${job.id}/results?format=json`)).json;
    expect(line).toMatchObject({ index: 0, output: 6, verified: true, agreeing: 2, attempts: 2 });
    const detail = (await call('GET', `/api/jobs/${job.id}/chunks/0`)).json;
    expect(detail.results).toHaveLength(2);
    expect(detail.results[1]).toMatchObject({ validation: 'valid', runtimeInfo: { executionProvider: 'wasm' } });
    expect((await call('GET', `/api/jobs/${job.id}/chunks/1`)).status).toBe(404);
  });

  it('rejects a result whose attachment was never uploaded', async () => {
    const { submit, register } = setup();
    await submit({ inputs: [1] });
    const c = await register();
    const [lease] = (await c.lease(1)).leases;
    const attachment = { name: 'plot.png', sha256: `sha256:${'a'.repeat(64)}`, size: 10 };
    const res = await c.report([{ leaseId: lease.leaseId, leaseToken: lease.leaseToken, status: 'ok', output: 1, attachments: [attachment] }]);
    expect(res.json.results[0]).toMatchObject({ outcome: 'rejected', error: { code: 'ATTACHMENT_MISSING' } });
    expect(res.json.results[0].error.message).toContain('plot.png');
  });
});

describe('GET /api/jobs/:id/events', () => {
  it('streams progress, finished chunks and a final end event', async () => {
    const { submit, register, call } = setup({ ssePollMs: 20 });
    const job = (await submit({ inputs: [1, 2] })).json;
    const c = await register();
    const leases = (await c.lease(2)).leases;
    await c.report(leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok', output: l.input })));
    const res = await call('GET', `/api/jobs/${job.id}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = res.text
      .trim()
      .split('\n\n')
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'),
      }));
    expect(events.map((e) => e.event)).toEqual(['chunks', 'progress', 'end']);
    expect(events[0].data.map((r: ChunkResult) => r.index).sort()).toEqual([0, 1]);
    expect(events[2].data.status).toBe('completed');
  });
});

describe('GET /api/jobs/:id/events with Last-Event-ID', () => {
  const parse = (text: string) =>
    text
      .trim()
      .split('\n\n')
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], id: /^id: (.*)$/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') }));

  it('numbers chunks events with the finish cursor and resumes after the id sent back', async () => {
    const { submit, register, call } = setup({ ssePollMs: 20 });
    const job = (await submit({ inputs: [1, 2, 3] })).json;
    const c = await register();
    const leases = (await c.lease(3)).leases;
    await c.report(leases.slice(0, 2).map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok', output: l.input })));
    await c.report([{ leaseId: leases[2].leaseId, leaseToken: leases[2].leaseToken, status: 'ok', output: 3 }]);
    const all = parse((await call('GET', `/api/jobs/${job.id}/events`)).text);
    expect(all[0]).toMatchObject({ event: 'chunks', id: '3' });
    const resumed = parse((await call('GET', `/api/jobs/${job.id}/events`, undefined, { 'Last-Event-ID': '2' })).text);
    expect(resumed.map((e) => e.event)).toEqual(['chunks', 'progress', 'end']);
    expect(resumed[0]).toMatchObject({ id: '3' });
    expect(resumed[0].data.map((r: ChunkResult) => r.output)).toEqual([3]);
    const caughtUp = parse((await call('GET', `/api/jobs/${job.id}/events`, undefined, { 'Last-Event-ID': '3' })).text);
    expect(caughtUp.map((e) => e.event)).toEqual(['progress', 'end']);
  });

  it('refuses a Last-Event-ID that is not a whole number, naming the header', async () => {
    const { submit, call } = setup();
    const job = (await submit({ inputs: [1] })).json;
    const res = await call('GET', `/api/jobs/${job.id}/events`, undefined, { 'Last-Event-ID': 'abc' });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('Last-Event-ID');
  });
});

describe('serving', () => {
  it('answers /healthz and sends cross-origin isolation headers', async () => {
    const { call } = setup();
    const res = await call('GET', '/healthz');
    expect(res.json.ok).toBe(true);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('serves the Pyodide runtime files under /pyodide/', async () => {
    const { app } = createApp({ store: new MemoryStore() });
    const res = await app.request('/pyodide/pyodide-lock.json');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { info: { python: string } }).info.python).toMatch(/^3\./);
  });
});
