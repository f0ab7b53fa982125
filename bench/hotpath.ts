// Hot-path bench: what a lease call costs when many active jobs carry big sources. Compares, in one run, a single
// active job against 50 active jobs, every job with a 5 MiB source; the goal is a lease p99 within 2x of the one-job
// case (the lease path reads job ids and counters only and sends a spec once per contributor and job).
// Each lease call is timed in-process through the Store plus the JSON encoding of its answer (what the route sends),
// with one contributor leasing 32 chunks per call and listing the specs it holds in `haveSpecs`.
// Usage: tsx bench/hotpath.ts   (also exported as benchHotPath for bench/run.ts)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newJobFrom } from '../coordinator/src/domain/policy.js';
import { MemoryStore } from '../coordinator/src/store/memory.js';
import { SqliteStore } from '../coordinator/src/store/sqlite.js';
import type { Store } from '../coordinator/src/store/store.js';

const SOURCE_BYTES = 5 * 1024 * 1024;
const BATCH = 32;

interface CaseResult {
  store: string;
  jobs: number;
  p50: number;
  p99: number;
  /** Bytes of lease answers over the measured calls, on average. */
  answerBytes: number;
}

function source(seed: number): string {
  // A distinct, valid script per job, padded to SOURCE_BYTES with a comment.
  const head = `def main(x):\n    return x + ${seed}\n# `;
  return head + 'x'.repeat(SOURCE_BYTES - head.length - 1) + '\n';
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function runCase(kind: 'memory' | 'sqlite', jobCount: number, calls: number, dir: string): Promise<CaseResult> {
  const store: Store =
    kind === 'memory' ? new MemoryStore() : new SqliteStore({ file: join(dir, `hotpath-${jobCount}.db`) });
  try {
    const now = Date.now();
    const chunks = Math.ceil(((calls + 20) * BATCH) / jobCount) + BATCH;
    for (let j = 0; j < jobCount; j++) {
      await store.createJob(newJobFrom({ runtime: 'python', source: source(j), inputs: Array.from({ length: chunks }, (_, i) => i) }), now + j);
    }
    const { contributorId } = await store.registerContributor({}, now);
    const haveSpecs = new Set<string>();
    const times: number[] = [];
    let bytes = 0;
    for (let call = 0; call < calls + 20; call++) {
      const started = performance.now();
      const batch = await store.leaseChunks(
        contributorId,
        { max: BATCH, runtimes: ['python'], threads: BATCH, haveSpecs: [...haveSpecs] } as Parameters<Store['leaseChunks']>[1],
        now,
      );
      const answer = JSON.stringify(batch);
      const ms = performance.now() - started;
      for (const jobId of Object.keys(batch.jobs)) haveSpecs.add(jobId);
      // The first calls fetch each job's spec once; measured calls are the steady state after a short warm-up.
      if (call >= 20) {
        times.push(ms);
        bytes += answer.length;
      }
      // Report at once so the contributor never runs into a cap on leases held.
      await store.reportResults(
        contributorId,
        batch.leases.map((l) => ({ leaseId: l.leaseId, leaseToken: l.leaseToken, status: 'ok' as const, output: 1 })),
        now,
      );
    }
    times.sort((a, b) => a - b);
    return { store: kind, jobs: jobCount, p50: quantile(times, 0.5), p99: quantile(times, 0.99), answerBytes: bytes / calls };
  } finally {
    await store.close();
  }
}

/** Runs one job vs 50 jobs for each store and returns a markdown section. */
export async function benchHotPath({ calls = 300, stores = ['sqlite', 'memory'] as ('memory' | 'sqlite')[] } = {}): Promise<{
  markdown: string;
  results: CaseResult[];
}> {
  const dir = mkdtempSync(join(tmpdir(), 'idle-sense-hotpath-'));
  const results: CaseResult[] = [];
  try {
    for (const kind of stores) {
      for (const jobs of [1, 50]) {
        const result = await runCase(kind, jobs, calls, dir);
        results.push(result);
        process.stderr.write(`hotpath ${kind} jobs=${jobs}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = results.map((r) => {
    const base = results.find((b) => b.store === r.store && b.jobs === 1)!;
    return `| ${r.store} | ${r.jobs} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p99 / base.p99).toFixed(2)}x | ${Math.round(r.answerBytes).toLocaleString('en')} |`;
  });
  const verdicts = stores.map((kind) => {
    const one = results.find((r) => r.store === kind && r.jobs === 1)!;
    const many = results.find((r) => r.store === kind && r.jobs === 50)!;
    return `- ${kind}: 50 jobs p99 is ${(many.p99 / one.p99).toFixed(2)}x the one-job p99 (goal: at most 2x) — ${many.p99 <= 2 * one.p99 ? 'met' : 'NOT met'}.`;
  });
  const markdown = `## Lease hot path with big sources

Every job has a ${SOURCE_BYTES / 2 ** 20} MiB source; one contributor leases ${BATCH} chunks per call, lists the specs it holds in \`haveSpecs\` and reports at once. Time per call = Store.leaseChunks + JSON encoding of the answer, over ${calls} calls after 20 warm-up calls.

| store | active jobs | lease p50 ms | lease p99 ms | p99 vs 1 job | answer bytes |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${verdicts.join('\n')}
`;
  return { markdown, results };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // HOTPATH_CALLS=N measures fewer calls (a slow build of the coordinator may need it).
  const { markdown } = await benchHotPath({ calls: Number(process.env.HOTPATH_CALLS ?? 300) });
  console.log(markdown);
}
