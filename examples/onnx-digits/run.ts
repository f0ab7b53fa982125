// Submits an ONNX example to a running coordinator: uploads the model, posts the job, waits for it and checks the
// results against scikit-learn's predictions.
//   npx tsx examples/onnx-digits/run.ts [onnx-digits|onnx-digits-batch] [--url http://localhost:8080] [--no-wait]
import { parseArgs } from 'node:util';
import type { ChunkResult, JobSummary } from '../../protocol/index.js';
import { loadOnnxExamples } from './onnx-examples.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string', default: 'http://localhost:8080' }, 'no-wait': { type: 'boolean', default: false } },
});
const slug = positionals[0] ?? 'onnx-digits';
const example = loadOnnxExamples().find((e) => e.slug === slug);
if (!example) throw new Error(`no ONNX example "${slug}" (onnx-digits, onnx-digits-batch)`);
const url = values.url!.replace(/\/$/, '');

const upload = await fetch(`${url}/api/blobs/${example.job.model}`, { method: 'PUT', body: example.model });
if (!upload.ok) throw new Error(`model upload failed: ${upload.status} ${await upload.text()}`);
const submitted = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(example.job) });
if (submitted.status !== 201) throw new Error(`submission failed: ${submitted.status} ${await submitted.text()}`);
const job = (await submitted.json()) as JobSummary;
console.log(`job ${job.id} "${job.name}": ${job.total} chunks; ${url}/jobs/${job.id}`);
if (values['no-wait']) process.exit(0);

for (;;) {
  const summary = (await (await fetch(`${url}/api/jobs/${job.id}`)).json()) as JobSummary;
  if (['completed', 'failed', 'cancelled'].includes(summary.status)) {
    console.log(`${summary.status}: ${summary.completed} ok, ${summary.failed} failed${summary.error ? ` (${summary.error})` : ''}`);
    break;
  }
  await new Promise((r) => setTimeout(r, 1000));
}
const results = (await (await fetch(`${url}/api/jobs/${job.id}/results?format=json`)).json()) as ChunkResult[];
example.check(results);
console.log('check passed: the results agree with scikit-learn');
