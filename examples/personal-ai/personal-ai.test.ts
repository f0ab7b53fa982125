// The personal-AI example end to end: a coordinator, a runner, the training job as a native chunk under bubblewrap
// with Debian's PyTorch. The loss falls, the weights come back, and they load in PyTorch; the check refuses a run
// that did not learn or lost its weights.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChunkResult, JobSummary } from '../../protocol/index.js';
import { startCoordinator, waitForJob, type RunningCoordinator } from '../../e2e/coordinator.js';
import { startRunner, type RunningRunner } from '../../runner/src/spawn-runner.js';
import { checkTraining, personalAiJob } from './personal-ai.js';

const run = promisify(execFile);
const hasTorch = await run('/usr/bin/python3', ['-c', 'import torch']).then(() => true, () => false);
let coordinator: RunningCoordinator | undefined;
let runner: RunningRunner | undefined;
afterAll(async () => {
  await runner?.kill();
  await coordinator?.kill();
});

describe('examples/personal-ai', () => {
  it.skipIf(!hasTorch)('trains on a runner: the loss falls and the weights come back and load', async () => {
    coordinator = await startCoordinator({ store: 'memory' });
    const res = await fetch(`${coordinator.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(personalAiJob()) });
    expect(res.status).toBe(201);
    const job = (await res.json()) as JobSummary;
    runner = startRunner(coordinator.url, ['--threads', '1', '--runtimes', 'native']);
    await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed' || j.status === 'failed', 180_000);
    const results = (await (await fetch(`${coordinator.url}/api/jobs/${job.id}/results?format=json`)).json()) as ChunkResult[];
    const output = checkTraining(results);
    expect(output.device).toBe('cpu');
    const weights = results[0].attachments!.find((a) => a.name === 'model.pt')!;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'weights-')), 'model.pt');
    writeFileSync(file, Buffer.from(await (await fetch(`${coordinator.url}/api/blobs/${weights.sha256}`)).arrayBuffer()));
    const loaded = await run('/usr/bin/python3', ['-c', `import torch; s = torch.load(${JSON.stringify(file)}); print(len(s["vocab"]), sorted(s["model"].keys())[0])`]);
    expect(loaded.stdout).toMatch(/^\d+ embed\.weight/);

    // The check refuses runs that did not learn, or whose weights are missing.
    const flat = structuredClone(results);
    (flat[0].output as { finalLoss: number }).finalLoss = output.initialLoss * 0.95;
    expect(() => checkTraining(flat)).toThrow(/did not fall/);
    const noWeights = structuredClone(results);
    noWeights[0].attachments = [];
    expect(() => checkTraining(noWeights)).toThrow(/weights/);
  }, 240_000);

  it('asks for a GPU only when told to, and validates as a job', async () => {
    const { JobSubmission } = await import('../../protocol/index.js');
    expect(JobSubmission.safeParse(personalAiJob()).success).toBe(true);
    expect(personalAiJob({ gpu: true }).requires).toEqual({ gpu: true });
    expect(personalAiJob().requires).toBeUndefined();
  });
});
