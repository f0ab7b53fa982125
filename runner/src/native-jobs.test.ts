// Native jobs through the whole path: a real coordinator, the runner process, bubblewrap. The output is what
// python3 prints when run directly on the same program; /work/out/ files come back as attachments, byte for byte; a
// chunk whose runner is killed resumes from its last uploaded checkpoint on the next lease.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChunkResult, JobSummary } from '../../protocol/index.js';
import { startCoordinator, waitForJob, type RunningCoordinator } from '../../e2e/coordinator.js';
import { startRunner, type RunningRunner } from './spawn-runner.js';

const run = promisify(execFile);
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function coordinator(args: string[] = []): Promise<RunningCoordinator> {
  const started = await startCoordinator({ store: 'sqlite', args });
  cleanup.push(async () => {
    if (started.process.exitCode === null && started.process.signalCode === null) await started.kill();
  });
  return started;
}

function runner(url: string, args: string[], options: Parameters<typeof startRunner>[2] = {}): RunningRunner {
  const started = startRunner(url, ['--runtimes', 'native', ...args], options);
  cleanup.push(() => started.kill());
  return started;
}

async function submit(url: string, body: object): Promise<JobSummary> {
  const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime: 'native', ...body }) });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
  return (await res.json()) as JobSummary;
}

async function results(url: string, jobId: string): Promise<ChunkResult[]> {
  return (await (await fetch(`${url}/api/jobs/${jobId}/results?format=json`)).json()) as ChunkResult[];
}

// A program whose output depends on its arguments, floating point, hashing and the standard library.
const PROGRAM = `
import hashlib, math, sys, os, json
n = int(sys.argv[1])
digest = hashlib.sha256(str(n).encode()).hexdigest()
print(f"n={n} sqrt={math.sqrt(n):.12f} sum={sum(i * i for i in range(n * 1000))} sha={digest[:16]}")
print("argv", sys.argv[1:])
os.makedirs("out", exist_ok=True)
with open(f"out/table-{n}.csv", "w") as f:
    f.write("\\n".join(f"{i},{i ** 3}" for i in range(n * 10)))
`;

describe('native jobs on the runner', () => {
  it('print what python3 prints run directly on the same program, and return /work/out/ files byte for byte', async () => {
    const c = await coordinator();
    const inputs = [[3], [7], [11]];
    const job = await submit(c.url, { command: ['python3', 'main.py'], source: PROGRAM, inputs });
    runner(c.url, ['--threads', '1']);
    await waitForJob(c.url, job.id, (j) => j.status === 'completed', 60_000);
    const got = await results(c.url, job.id);

    const dir = mkdtempSync(path.join(tmpdir(), 'native-direct-'));
    writeFileSync(path.join(dir, 'main.py'), PROGRAM);
    for (const [i, [n]] of inputs.entries()) {
      // The same program, run directly by the system's python3 (the one the sandbox's PATH finds).
      const direct = await run('/usr/bin/python3', ['main.py', String(n)], { cwd: dir });
      expect(got[i].output, `chunk ${i}`).toBe(direct.stdout);
      const [attachment] = got[i].attachments!;
      expect(attachment.name).toBe(`table-${n}.csv`);
      const bytes = Buffer.from(await (await fetch(`${c.url}/api/blobs/${attachment.sha256}`)).arrayBuffer());
      expect(bytes.toString()).toBe(Array.from({ length: n * 10 }, (_, k) => `${k},${k ** 3}`).join('\n'));
    }
  });

  it('a failing command fails its chunk with the exit status and stderr; output.json is the output when written', async () => {
    const c = await coordinator();
    const job = await submit(c.url, {
      command: ['python3', 'main.py'],
      source: 'import json, sys\nx = json.load(open("input.json"))\nif x < 0:\n    sys.exit("negative input: " + str(x))\njson.dump({"double": 2 * x}, open("output.json", "w"))\n',
      inputs: [21, -1],
      maxAttempts: 1,
    });
    runner(c.url, ['--threads', '1']);
    await waitForJob(c.url, job.id, (j) => j.completed + j.failed === 2, 60_000);
    const got = await results(c.url, job.id);
    expect(got[0]).toMatchObject({ status: 'ok', output: { double: 42 } });
    expect(got[1].status).toBe('error');
    expect(got[1].error).toMatch(/exit(ed)? (status|code) 1[\s\S]*negative input: -1/);
  });

  it('a chunk whose runner is killed resumes from its last checkpoint on the next lease', async () => {
    // Lease grace 1 s (the reaper runs every second): the killed runner's lease lapses soon after its 12 s timeout.
    const c = await coordinator(['--lease-grace-s', '1']);
    const source = `
import json, os, time
path = "checkpoint/state.json"
state = json.load(open(path)) if os.path.exists(path) else {"step": 0, "started_at": 0}
resumed = state["step"]
while state["step"] < 30:
    state["step"] += 1
    time.sleep(0.2)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, path)
json.dump({"steps": state["step"], "resumedFrom": resumed}, open("output.json", "w"))
`;
    const job = await submit(c.url, { command: ['python3', 'main.py'], source, inputs: [0], timeoutMs: 12_000 });
    const first = runner(c.url, ['--threads', '1', '--checkpoint-every', '1']);
    const saved = await first.waitFor((e) => e.event === 'checkpoint' && e.action === 'saved', 30_000, 'a checkpoint upload');
    expect(saved.files).toBe(1);
    await first.kill();
    const second = runner(c.url, ['--threads', '1', '--checkpoint-every', '1'], { stateDir: first.stateDir, workspace: first.workspace });
    await second.waitFor((e) => e.event === 'checkpoint' && e.action === 'restored', 60_000, 'the checkpoint restored');
    await waitForJob(c.url, job.id, (j) => j.status === 'completed', 60_000);
    const [result] = await results(c.url, job.id);
    expect(result.output).toMatchObject({ steps: 30 });
    expect((result.output as { resumedFrom: number }).resumedFrom).toBeGreaterThan(0);
  });
});
