// Job-switch benchmark, in real Chromium: what "one job per worker" costs a contributor tab. Measures, through
// RuntimeThread over the tab's real Python worker (e2e/thread-page.ts, served in a real coordinator's origin): the
// latency of a job switch with and without the standby worker, chunks/s of a thread alternating two jobs vs staying
// on one, the warm per-chunk overhead against the pre-issue tree (commit 351670f, rebuilt from git), and the memory
// the standby costs; then, through the contribute page itself, chunks/s of one tab given two jobs vs one.
// Run alone with `npx tsx bench/jobswitch.ts`; bench/run.ts calls benchJobSwitch().
import { chromium, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChunkResult, JobSpec } from '../protocol/index.js';
import { findChromium } from '../e2e/browser-path.mjs';
import { startCoordinator, waitForJob } from '../e2e/coordinator.js';
import { openThreadHarness } from '../e2e/thread-harness.js';

const COMMAND = 'npx tsx bench/jobswitch.ts';
/** The tree before one-job-per-worker (start of the session that built it): no job switches, one worker per thread. */
const BASELINE_COMMIT = '351670f';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** JOBSWITCH_QUICK=1: a few of each, to check the bench itself runs (numbers not meant for RESULTS.md). */
const QUICK = process.env.JOBSWITCH_QUICK === '1';
const OVERHEAD_WARMUP = QUICK ? 20 : 300;
const OVERHEAD_CHUNKS = QUICK ? 50 : 1000;
/** Switches with the standby ready; each costs a standby boot in the background, so they are few. */
const SWITCHES = QUICK ? 2 : 8;
/** Switches without a standby; each waits for a whole boot. */
const COLD_SWITCHES = QUICK ? 1 : 3;
/** Work per chunk in the throughput rows (a short chunk). */
const WORK_MS = 20;
const STAY_CHUNKS = 30;
/** Back-to-back alternation: every chunk a switch, so every chunk waits for most of a boot. */
const ALTERNATING_CHUNKS = QUICK ? 2 : 6;
const TAB_CHUNKS = QUICK ? 20 : 100;
/** Longest the contribute-page rows wait for their jobs; rates are counted over what finished by then. */
const TAB_WINDOW_MS = 45_000;

/** Echo: the trivial chunk. */
const ECHO = 'def main(x):\n    return x\n';
/** Busy-waits `ms` of CPU (a short chunk of real work), then returns it. */
const WORK = `import time

def main(ms):
    started = time.perf_counter()
    while (time.perf_counter() - started) * 1000 < ms:
        pass
    return ms
`;

function spec(id: string, source: string): JobSpec {
  return { id, name: id, runtime: 'python', source, timeoutMs: 60_000 } as JobSpec;
}

interface Timed {
  ms: number;
  runMs: number;
  ok: boolean;
  error?: string;
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
function quantile(values: number[], q: number): number {
  const s = sorted(values);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
const p50 = (values: number[]) => quantile(values, 0.5);
const p95 = (values: number[]) => quantile(values, 0.95);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function check(chunks: Timed[], what: string): Timed[] {
  const bad = chunks.find((c) => !c.ok);
  if (bad) throw new Error(`${what}: a chunk failed: ${bad.error}`);
  return chunks;
}

/** Calls window.threadHarness[method](...args) on the page (e2e/thread-page.ts). */
function call<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([m, a]) => (globalThis as any).threadHarness[m as string](...(a as unknown[])), [method, args] as const) as Promise<T>;
}

type Memory = { bytes: number; byType: Record<string, number>; workers: number } | undefined;

const h = {
  create: (page: Page, name: string, standby: boolean) => call<{ bootMs: number; crossOriginIsolated: boolean }>(page, 'create', name, { standby }),
  sequence: (page: Page, name: string, jobs: JobSpec[], input: unknown, count: number) =>
    call<{ wallMs: number; chunks: Timed[] }>(page, 'sequence', name, jobs, input, count),
  switches: (page: Page, name: string, jobs: [JobSpec, JobSpec], input: unknown, times: number, ready: boolean) =>
    call<Timed[]>(page, 'switches', name, jobs, input, times, ready),
  ready: async (page: Page, name: string) => {
    if (!(await call<boolean>(page, 'ready', name))) throw new Error(`${name}: a worker did not finish booting in 60 s`);
  },
  bootTimes: (page: Page, name: string) => call<number[]>(page, 'bootTimes', name),
  spawnCount: (page: Page, name: string) => call<number>(page, 'spawnCount', name),
  jobSwitches: (page: Page, name: string) => call<{ warm: number; cold: number } | undefined>(page, 'jobSwitches', name),
  memoryBytes: (page: Page, name: string) => call<number>(page, 'memoryBytes', name),
  measureMemory: (page: Page) => call<Memory>(page, 'measureMemory'),
  dispose: (page: Page, name: string) => call<void>(page, 'dispose', name),
};

/** Extracts the baseline commit's tree into a temporary folder (sharing this tree's node_modules); undefined without git. */
function baselineTree(): { root: string; remove: () => void } | string {
  try {
    const root = mkdtempSync(join(tmpdir(), 'idle-sense-baseline-'));
    execFileSync('sh', ['-c', `git archive ${BASELINE_COMMIT} | tar -x -C "${root}"`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
  } catch (err) {
    return `the baseline tree could not be extracted from git (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

/** Warm trivial chunks on thread `name` (already started): host round trip and the runtime's own time. */
async function warmOverhead(page: Page, name: string) {
  const echo = spec(`${name}-echo`, ECHO);
  check((await h.sequence(page, name, [echo], 1, OVERHEAD_WARMUP)).chunks, 'warm-up');
  const { chunks } = check2(await h.sequence(page, name, [echo], 1, OVERHEAD_CHUNKS), 'overhead');
  return { roundTrip: chunks.map((c) => c.ms), inWorker: chunks.map((c) => c.runMs), overhead: chunks.map((c) => c.ms - c.runMs) };
}

function check2<T extends { chunks: Timed[] }>(result: T, what: string): T {
  check(result.chunks, what);
  return result;
}

/** Progress on stderr (the report goes to stdout). */
const phase = (name: string) => console.error(`[jobswitch ${(performance.now() / 1000).toFixed(1)} s] ${name}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rate = (r: { wallMs: number; chunks: Timed[] }) => r.chunks.length / (r.wallMs / 1000);

export async function benchJobSwitch(): Promise<{ markdown: string }> {
  const benchStarted = performance.now();
  const load = os.loadavg();
  // The contribute page is served from dist/: build it from this tree so the tab runs the code measured here.
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error' });
  const coordinator = await startCoordinator({ store: 'memory' });
  const browser = await chromium.launch({
    executablePath: findChromium(),
    // ForceEagerMeasureMemory: measureUserAgentSpecificMemory answers at once instead of at the next GC (up to 20 s).
    args: ['--headless', '--no-sandbox', '--disable-quic', '--enable-blink-features=ForceEagerMeasureMemory'],
  });
  const baseline = baselineTree();
  const lines: string[] = [];
  try {
    const context = await browser.newContext();
    const page = await openThreadHarness(context, coordinator.url, { base: '/__thread-harness/' });
    const A = spec('job-a', WORK);
    const B = spec('job-b', WORK);
    const echoA = spec('echo-a', ECHO);
    const echoB = spec('echo-b', ECHO);

    // Before: warm per-chunk overhead of the pre-issue tree, in its own page (same browser, same coordinator).
    phase('baseline tree');
    let before: Awaited<ReturnType<typeof warmOverhead>> | string;
    if (typeof baseline === 'string') before = baseline;
    else {
      const basePage = await openThreadHarness(context, coordinator.url, { root: baseline.root, base: '/__thread-harness-baseline/' });
      await h.create(basePage, 'baseline', false);
      before = await warmOverhead(basePage, 'baseline');
      await basePage.close();
    }

    // Without standby: memory of one worker, then switches that each wait for a fresh worker to load Pyodide.
    phase('without standby');
    const cold = await h.create(page, 'cold', false);
    const coldWarm = check((await h.sequence(page, 'cold', [echoA], 1, 50)).chunks, 'cold warm-up');
    const memoryWithout = { measured: await h.measureMemory(page), wasm: await h.memoryBytes(page, 'cold'), workers: await h.spawnCount(page, 'cold') };
    const coldFirsts = check(await h.switches(page, 'cold', [echoA, echoB], 1, COLD_SWITCHES, false), 'cold switches');
    const coldCounts = await h.jobSwitches(page, 'cold');
    const coldBoots = await h.bootTimes(page, 'cold');
    await h.dispose(page, 'cold');
    const coldExtra = coldFirsts.map((c) => c.ms - p50(coldWarm.slice(10).map((w) => w.ms)));

    // With standby (the default): memory once the standby has booted, the warm overhead, then switches with the
    // standby ready (3 warm chunks, then a wait until it has booted).
    phase('with standby');
    await h.create(page, 'main', true);
    check((await h.sequence(page, 'main', [echoA], 1, 1)).chunks, 'first chunk'); // the standby boots after it
    await h.ready(page, 'main');
    const memoryWith = { measured: await h.measureMemory(page), wasm: await h.memoryBytes(page, 'main'), workers: await h.spawnCount(page, 'main') };
    const current = await warmOverhead(page, 'main');
    const warmEcho = p50(current.roundTrip);
    const standbyFirsts = check(await h.switches(page, 'main', [echoA, echoB], 1, SWITCHES, true), 'standby switches');
    const standbyCounts = await h.jobSwitches(page, 'main');
    const standbyExtra = standbyFirsts.map((c) => c.ms - warmEcho);

    // Throughput of short chunks: staying on A vs alternating B,A,B,A (every chunk a switch, back to back: the
    // standby has had one chunk's time to boot) vs runs of as many chunks as a boot lasts.
    phase('throughput');
    await h.ready(page, 'main');
    check((await h.sequence(page, 'main', [A], WORK_MS, 5)).chunks, 'work warm-up');
    await h.ready(page, 'main');
    const stay = check2(await h.sequence(page, 'main', [A], WORK_MS, STAY_CHUNKS), 'stay on A');
    await h.ready(page, 'main');
    const countsBefore = (await h.jobSwitches(page, 'main'))!;
    const alternating = check2(await h.sequence(page, 'main', [B, A], WORK_MS, ALTERNATING_CHUNKS), 'alternating');
    const countsAfter = (await h.jobSwitches(page, 'main'))!;
    const stayChunk = p50(stay.chunks.map((c) => c.ms));
    const backToBackExtra = alternating.chunks.map((c) => c.ms - stayChunk);
    const standbyBoots = (await h.bootTimes(page, 'main')).slice(1);
    // Capped so a loaded machine (slow boots) does not make the bench run for minutes.
    const runLength = Math.min(QUICK ? 10 : 100, Math.max(2, Math.ceil(p50(standbyBoots) / stayChunk)));
    await h.ready(page, 'main');
    const runJobs = [...Array(runLength).fill(B), ...Array(runLength).fill(A)];
    const runs = check2(await h.sequence(page, 'main', runJobs, WORK_MS, runLength * 2), 'runs');
    await h.dispose(page, 'main');
    await page.close();

    // The realistic case: the contribute page (1 thread) through the coordinator, one job vs two jobs at once.
    phase('contribute page');
    const tab = await context.newPage();
    await tab.goto(`${coordinator.url}/`);
    await tab.getByTestId('threads-input').fill('1');
    await tab.getByRole('button', { name: 'Start contributing' }).click();
    const submit = async (name: string, chunks: number) => {
      const res = await fetch(`${coordinator.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ runtime: 'python', name, source: WORK, inputs: Array(chunks).fill(WORK_MS), timeoutMs: 60_000 }),
      });
      if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const finish = async (ids: string[]) => {
      // Until done, or TAB_WINDOW_MS: a tab that switches on every chunk would otherwise take minutes.
      const deadline = Date.now() + TAB_WINDOW_MS;
      for (const id of ids) {
        await waitForJob(coordinator.url, id, (j) => j.status === 'completed', Math.max(1, deadline - Date.now())).catch(() => undefined);
      }
      const all: { job: string; at: number }[] = [];
      for (const id of ids) {
        const results = (await (await fetch(`${coordinator.url}/api/jobs/${id}/results?format=json`)).json()) as ChunkResult[];
        for (const r of results) if (r.finishedAt) all.push({ job: id, at: Date.parse(r.finishedAt) });
      }
      if (all.length < 2) throw new Error(`the contribute page finished ${all.length} chunk(s) in ${TAB_WINDOW_MS} ms`);
      all.sort((a, b) => a.at - b.at);
      const switches = all.filter((r, i) => i > 0 && r.job !== all[i - 1].job).length;
      // chunks/s between the first and the last result: the first chunk's own time is not in the window.
      return { chunks: all.length, perSecond: (all.length - 1) / ((all.at(-1)!.at - all[0].at) / 1000), switches };
    };
    await finish([await submit('tab warm-up', 10)]);
    const settle = Math.min(15_000, Math.ceil(p50(standbyBoots) * 1.5));
    await sleep(settle); // the tab's standby boots after its first chunk
    const tabOne = await finish([await submit('one job', TAB_CHUNKS)]);
    await sleep(settle);
    const tabTwo = await finish(await Promise.all([submit('two jobs: A', TAB_CHUNKS / 2), submit('two jobs: B', TAB_CHUNKS / 2)]));
    await tab.close();
    await context.close();
    const memory = { without: memoryWithout, with: memoryWith };

    // ---- report
    const f1 = (v: number) => v.toFixed(1);
    const f3 = (v: number) => v.toFixed(3);
    const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
    const stayRate = rate(stay);
    const altRate = rate(alternating);
    const runRate = rate(runs);
    const tabRatio = tabTwo.perSecond / tabOne.perSecond;
    const backToBack = { warm: countsAfter.warm - countsBefore.warm, cold: countsAfter.cold - countsBefore.cold };
    const goal = (met: boolean) => (met ? 'met' : 'NOT met');
    lines.push(
      '## Job switching (one job per worker)',
      '',
      `Command: \`${COMMAND}\` (Chromium ${browser.version()}, headless). RuntimeThread over the tab's real Python worker`,
      `(spawnBrowserRuntimeWorker: Pyodide, lockdown) in a page served inside a real coordinator's origin (cross-origin`,
      `isolated: ${cold.crossOriginIsolated}), then the contribute page itself. A switch is a chunk of job B on a thread whose worker has run`,
      'job A: the worker is terminated and the standby, booted in the background after the previous switch, takes its place.',
      `Load average when this section started: ${load.map((l) => l.toFixed(2)).join(' / ')} on ${os.cpus().length} cores; boots and switches scale with it.`,
      '',
      '| measure | p50 | p95 | n |',
      '| --- | ---: | ---: | ---: |',
      `| worker boot, first worker of a thread (spawn → initialised, nothing else running) | ${f1(p50(coldBoots))} ms | ${f1(p95(coldBoots))} ms | ${coldBoots.length} |`,
      `| standby boot in the background (spawn → initialised, while chunks run) | ${f1(p50(standbyBoots))} ms | ${f1(p95(standbyBoots))} ms | ${standbyBoots.length} |`,
      `| job switch **with standby**, standby ready: B's first chunk − a warm chunk | ${f1(p50(standbyExtra))} ms | ${f1(p95(standbyExtra))} ms | ${standbyExtra.length} |`,
      `| job switch **without standby** (\`standby: false\`): same | ${f1(p50(coldExtra))} ms | ${f1(p95(coldExtra))} ms | ${coldExtra.length} |`,
      `| job switch with standby, **back to back** (B,A,B,A… ${WORK_MS} ms chunks): chunk − a warm ${WORK_MS} ms chunk | ${f1(p50(backToBackExtra))} ms | ${f1(p95(backToBackExtra))} ms | ${backToBackExtra.length} |`,
      '',
      `RuntimeThread.jobSwitches: ready rows ${JSON.stringify(standbyCounts)},`,
      `no-standby rows ${JSON.stringify(coldCounts)}, back-to-back rows ${JSON.stringify(backToBack)}. Before each ready switch the thread runs 3 warm`,
      'chunks of its job and waits until the standby has answered its last boot call (the page timestamps the worker\'s',
      `replies), plus 100 ms. Warm echo chunk: ${f3(warmEcho)} ms round trip.`,
      '',
      `Goal (issue 8), job switch with the standby ≤ 100 ms: **${goal(p95(standbyExtra) <= 100)}** at p95 (${f1(p95(standbyExtra))} ms), **${goal(p50(standbyExtra) <= 100)}** at p50 (${f1(p50(standbyExtra))} ms).`,
      '',
      `#### Alternating jobs, ${WORK_MS} ms chunks, one thread`,
      '',
      '| pattern | chunks | chunks/s | vs staying on one job |',
      '| --- | ---: | ---: | ---: |',
      `| RuntimeThread: stay on A (baseline) | ${stay.chunks.length} | ${f1(stayRate)} | 100% |`,
      `| RuntimeThread: alternate B,A,B,A… (every chunk a switch, back to back) | ${alternating.chunks.length} | ${f1(altRate)} | ${pct(altRate / stayRate)} |`,
      `| RuntimeThread: runs of ${runLength} chunks per job (a run ≈ one standby boot) | ${runs.chunks.length} | ${f1(runRate)} | ${pct(runRate / stayRate)} |`,
      `| contribute page, 1 thread, real coordinator: one job of ${TAB_CHUNKS} chunks (baseline) | ${tabOne.chunks} | ${f1(tabOne.perSecond)} | 100% |`,
      `| contribute page, same: two jobs of ${TAB_CHUNKS / 2} chunks submitted together (${tabTwo.switches} switch${tabTwo.switches === 1 ? '' : 'es'} in the results${tabTwo.chunks < TAB_CHUNKS ? `; ${tabTwo.chunks} of ${TAB_CHUNKS} done in ${TAB_WINDOW_MS / 1000} s` : ''}) | ${tabTwo.chunks} | ${f1(tabTwo.perSecond)} | ${pct(tabRatio)} |`,
      '',
      `Goal (issue 8), a tab given two jobs keeps ≥ 90% of one job's chunks/s: **${goal(tabRatio >= 0.9)}** through the coordinator (${pct(tabRatio)});`,
      `forced per-chunk alternation on one thread (no goal, the worst case): ${pct(altRate / stayRate)}. Contribute-page rates are counted between the first and the last`,
      'result\'s finishedAt (lease, report and the tab\'s loop included); a rest of 1.5 × the standby boot (at most 15 s) before each job lets the tab\'s standby finish booting.',
      ...(tabTwo.switches > 2
        ? [
            '',
            `Job affinity did not hold: the tab switched ${tabTwo.switches} times for ${tabTwo.chunks} chunks (with affinity a one-thread tab`,
            'finishes one job, then switches once). Look at the lease calls: `loadedJobs` and `finishedLeases` (docs/protocol.md).',
          ]
        : [
            '',
            `Why the tab keeps its rate: job affinity. A thread asks for more of the job it has loaded and names the leases it`,
            'has finished whose results are still batched (`finishedLeases`), so the coordinator does not count its own finished',
            'chunk against the job\'s fair share; the tab switches once, when the first job has no more work. The RuntimeThread',
            'rows force switches: back to back is the worst case a thread can be put in (every chunk waits for most of a standby',
            'boot), which leasing never asks of it; runs of one standby boot per job show what a switch costs when it is paid.',
          ]),
      '',
      '#### Warm per-chunk overhead of the thread host',
      '',
      `Trivial chunk (\`def main(x): return x\`), ${OVERHEAD_CHUNKS} warm chunks after ${OVERHEAD_WARMUP} warm-up, one thread with its standby booted; round trip =`,
      '`RuntimeThread.run` as the page sees it; in worker = the runtime\'s own ChunkRun.durationMs; overhead = round trip − in worker,',
      `per chunk. Before = the tree at ${BASELINE_COMMIT} (one worker for every job), extracted with \`git archive\`, built the same way and`,
      'run in the same browser against the same coordinator.',
      '',
      '| tree | round trip p50 | round trip p95 | in worker p50 | overhead p50 | overhead p95 |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...[['after (this tree)', current] as const, [`before (${BASELINE_COMMIT})`, before] as const].map(([label, m]) =>
        typeof m === 'string'
          ? `| ${label} | ${m} | | | | |`
          : `| ${label} | ${f3(p50(m.roundTrip))} ms | ${f3(p95(m.roundTrip))} ms | ${f3(p50(m.inWorker))} ms | ${f3(p50(m.overhead))} ms | ${f3(p95(m.overhead))} ms |`,
      ),
      '',
      `Goal (issue 8), warm per-chunk overhead ≤ 1 ms: **${goal(p50(current.overhead) <= 1)}** (p50 ${f3(p50(current.overhead))} ms, p95 ${f3(p95(current.overhead))} ms).`,
      '',
      '#### Memory of the standby',
      '',
      'One thread after its first chunks, once its standby (if any) has booted; the page holds no other thread. Whole page =',
      '`performance.measureUserAgentSpecificMemory()` (the page and its workers, JS heaps and WebAssembly memory; Chromium with',
      '`--enable-blink-features=ForceEagerMeasureMemory` so it answers at once); wasm = the running worker\'s',
      '`RuntimeThread.memoryBytes()`.',
      '',
      '| thread | workers spawned | whole page | of which workers | running worker\'s wasm memory |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...(['without', 'with'] as const).map((key) => {
        const m = memory[key];
        return `| ${key} standby | ${m.workers} | ${m.measured ? mib(m.measured.bytes) : 'not available'} | ${m.measured ? `${m.measured.workers} worker scopes` : '—'} | ${mib(m.wasm)} |`;
      }),
      '',
      memory.with.measured && memory.without.measured
        ? `The standby costs ${mib(memory.with.measured.bytes - memory.without.measured.bytes)} per thread (+${pct((memory.with.measured.bytes - memory.without.measured.bytes) / memory.without.measured.bytes)}); by kind: ${Object.keys(memory.with.measured.byType)
            .map((k) => `${k} ${mib((memory.with.measured!.byType[k] ?? 0) - (memory.without.measured!.byType[k] ?? 0))}`)
            .join(', ')}.`
        : 'measureUserAgentSpecificMemory was not available; the standby costs about one running worker\'s wasm memory.',
      '',
      `Section wall time: ${((performance.now() - benchStarted) / 1000).toFixed(0)} s.`,
      '',
    );
  } finally {
    await browser.close();
    await coordinator.stop();
    if (typeof baseline !== 'string') baseline.remove();
  }
  return { markdown: lines.join('\n') };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await benchJobSwitch()).markdown);
}
