// `npm run bench`: runs every bench, prints the report and writes it to bench/RESULTS.md. A bench that fails is
// recorded in the report with its error instead of stopping the others.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchVerification } from './byzantine.js';
import { benchDispatch } from './dispatch.js';
import { benchHotPath } from './hotpath.js';
import { benchHoard } from './hoard.js';

type Bench = () => Promise<{ markdown: string }>;

const resultsFile = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/** The Python runtime bench is optional: it is run when bench/python.ts exists. */
async function loadPythonBench(): Promise<Bench | string> {
  const url = new URL('./python.ts', import.meta.url);
  if (!existsSync(url)) return 'skipped: bench/python.ts is not present';
  const module = (await import(url.href)) as { benchPython?: Bench };
  if (typeof module.benchPython !== 'function') return 'skipped: bench/python.ts does not export benchPython()';
  return module.benchPython;
}

async function section(title: string, bench: () => Promise<Bench | string>): Promise<string> {
  const started = performance.now();
  try {
    const run = await bench();
    if (typeof run === 'string') return `## ${title}\n\n_${run}._\n`;
    const { markdown } = await run();
    // A bench may bring its own section heading; keep one heading either way.
    const body = markdown.trim().startsWith('## ') ? markdown.trim() : `## ${title}\n\n${markdown.trim()}`;
    return `${body}\n\n_Ran in ${((performance.now() - started) / 1000).toFixed(1)} s._\n`;
  } catch (err) {
    const error = err as Error;
    console.error(`bench "${title}" failed:`, error);
    return `## ${title}\n\n**FAILED** after ${((performance.now() - started) / 1000).toFixed(1)} s:\n\n\`\`\`\n${error.stack ?? String(error)}\n\`\`\`\n`;
  }
}

const cpus = os.cpus();
const header = [
  '# idle-sense benchmarks',
  '',
  `- Date: ${new Date().toISOString()}`,
  `- Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()})`,
  `- Node: ${process.version}`,
  `- Load average when the run started (1/5/15 min): ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}; other work on the box skews the numbers.`,
  '- Command: `npm run bench`',
  '',
].join('\n');

/**
 * `npm run bench -- --only "Native runtime,Runner"` runs only the benches whose titles are listed and replaces just
 * their sections in the existing RESULTS.md (the others keep their earlier run, whose date the header keeps).
 */
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set(process.argv[onlyArg + 1]?.split(',').map((t) => t.trim())) : undefined;
const benches: [string, () => Promise<Bench | string>][] = [];
const bench = (title: string, load: () => Promise<Bench | string>) => benches.push([title, load]);

bench('Coordinator dispatch', async () => benchDispatch);
bench('Coordinator dispatch with replicas: 2', async () => async () => {
  const { markdown } = await benchDispatch({ stores: ['sqlite'], batches: [32], transports: ['http'], replicas: 2, scalingChunks: 0 });
  // The 5,000 chunks/s target is for unreplicated dispatch; here each verified chunk needs two results.
  const body = markdown.replace(/^Target \(.*$/m, 'Results handled per second are twice the chunks/s column.');
  return {
    markdown: `Same harness, SQLite, batch 32, real HTTP, every chunk computed twice and verified (quorum 2): chunks/s counts verified chunks, each needing two results.\n\n${body}`,
  };
});
bench('Lease hot path with big sources', async () => benchHotPath);
bench('Verification', async () => benchVerification);
bench('Lease hoarding', async () => benchHoard);
bench('Python syntax check at submission', async () => (await import('./syntax-check.js')).benchSyntaxCheck);
bench('ONNX runtime', async () => (await import('./onnx.js')).benchOnnx);
bench('Python runtime', loadPythonBench);
bench('Job switching', async () => (await import('./jobswitch.js')).benchJobSwitch);
bench('Native runtime', async () => (await import('./native.js')).benchNative);
bench('Runner', async () => (await import('./runner.js')).benchRunner);

const titles = benches.map(([title]) => title);
const unknown = only ? [...only].filter((title) => !titles.includes(title)) : [];
if (unknown.length) throw new Error(`--only: no bench named ${unknown.join(', ')}; the benches are: ${titles.join(', ')}`);
const sections: string[] = [];
for (const [title, load] of benches) if (!only || only.has(title)) sections.push(await section(title, load));
// How to read the tables above; the numbers themselves are this run's.
const reading = `## Reading

- **Dispatch target.** The line under the dispatch table says whether SQLite with batch 32 over real HTTP reached
  5,000 chunks/s on this box. BOINC's published scheduler figure is about 100 tasks/s per server.
- **Batch size is the lever.** With batch 1 every chunk costs two HTTP requests, and request handling, not the store,
  dominates: compare the \`store\` and \`http\` rows. The contributor tab leases as many chunks as it has idle
  threads and reports finished results together.
- **What earlier profiles fixed.** Hono's \`bodyLimit\` middleware made @hono/node-server build a full web
  \`Request\` per call; the coordinator now checks \`Content-Length\` and measures bodies while reading them. The
  lease queries name their partial indexes (\`INDEXED BY\`), so leasing costs the same at the end of a
  1,000,000-chunk job as at its start; ids and secrets come from one pooled random buffer; a report loads each job
  once per call.
- **Replicas.** With \`replicas: 2\` every verified chunk costs two leases and two reports plus the comparison, so
  expect a little under half the unreplicated rate.
- **Verification.** Goals (issue 9): 0 wrong accepted with fixed replication in every row without a colluding
  majority of a chunk's replicas (the colluder rows' wrong chunks are exactly those); adaptive rows at most 0.05%
  wrong once re-verified, and at most 1.15 results per verified chunk when all are honest (the 10% spot-check floor
  puts it near 1.10). Copiers find nothing to copy now that open chunks are hidden; see docs/verification.md.
`;
let report = `${header}\n${sections.join('\n')}\n${reading}`;
if (only && existsSync(resultsFile)) {
  // Splice the re-run sections into the earlier report, each in its old place (new ones before "Reading").
  const earlier = readFileSync(resultsFile, 'utf8');
  const parts = earlier.split(/\n(?=## )/);
  const heading = (text: string) => text.split('\n')[0];
  for (const fresh of sections) {
    const at = parts.findIndex((part) => heading(part) === heading(fresh));
    if (at >= 0) parts[at] = fresh.trimEnd() + '\n';
    else parts.splice(Math.max(1, parts.findIndex((part) => heading(part) === '## Reading')), 0, fresh.trimEnd() + '\n');
  }
  const note = `- Re-run ${new Date().toISOString()}: ${[...only].join(', ')} (\`npm run bench -- --only "${[...only].join(',')}"\`, load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}); the other sections are from the date above.`;
  parts[0] = parts[0].trimEnd() + '\n' + note + '\n';
  report = parts.join('\n');
}
writeFileSync(resultsFile, report);
console.log(report);
console.log(`(written to ${resultsFile})`);
