// What the coordinator's Python syntax check costs a submission: POST /api/jobs through the real app (memory store,
// app.request) for scripts of 1 KiB, 100 KiB and 1 MiB, against a baseline measured in the same run (the same
// submission parsed, validated and created with the check left out). Run alone: `npx tsx bench/syntax-check.ts`.
import { pathToFileURL } from 'node:url';
import { JobSubmission } from '../protocol/index.js';
import { createApp } from '../coordinator/src/app.js';
import { newJobFrom } from '../coordinator/src/domain/policy.js';
import { PythonSyntaxChecker } from '../coordinator/src/python/syntax-check.js';
import { MemoryStore } from '../coordinator/src/store/memory.js';

/** A valid script of about `bytes` bytes: many small functions, as real large sources are. */
function script(bytes: number): string {
  const lines = ['def main(x):\n    return f0(x)\n'];
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = `def f${i}(x):\n    y = x * ${i} + 1\n    return y if y > 0 else -y\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export async function benchSyntaxCheck(): Promise<{ markdown: string }> {
  const checker = new PythonSyntaxChecker();
  const started = performance.now();
  await checker.start();
  const startMs = performance.now() - started;
  const store = new MemoryStore();
  const { app } = createApp({ store, pythonSyntax: checker });
  const rows: string[] = [];
  try {
    for (const [label, bytes, runs] of [['1 KiB', 1024, 50], ['100 KiB', 100 << 10, 5], ['1 MiB', 1 << 20, 2]] as const) {
      const body = JSON.stringify({ runtime: 'python', source: script(bytes), inputs: [1] });
      const timed = async (fn: () => Promise<unknown>) => {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await fn();
          times.push(performance.now() - t);
        }
        return times.sort((a, b) => a - b);
      };
      const full = await timed(async () => {
        const res = await app.request('/api/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (res.status !== 201) throw new Error(`submission failed: ${res.status} ${await res.text()}`);
      });
      // Baseline: the same submission without the check (parse, validate, create the job).
      const baseline = await timed(async () => {
        const parsed = JobSubmission.parse(JSON.parse(body));
        await store.createJob(newJobFrom(parsed), Date.now());
      });
      const check = await timed(() => checker.check(JSON.parse(body).source));
      const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
      rows.push(`| ${label} | ${runs} | ${ms(quantile(check, 0.5))} / ${ms(quantile(check, 0.99))} | ${ms(quantile(full, 0.5))} / ${ms(quantile(full, 0.99))} | ${ms(quantile(baseline, 0.5))} / ${ms(quantile(baseline, 0.99))} |`);
    }
  } finally {
    await checker.dispose();
  }
  const markdown = [
    '## Python syntax check at submission',
    '',
    `Pyodide (Python 3.14, the tab's package) starts in a worker thread in ${(startMs / 1000).toFixed(1)} s, once per coordinator (at boot).`,
    'Times in ms, p50 / p99:',
    '',
    '| source | runs | check alone | POST /api/jobs (with check) | baseline: parse + create, no check |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
  return { markdown };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await benchSyntaxCheck()).markdown);
}
