// Submits the personal-AI example to a coordinator, waits for a runner to train it, checks the result and saves
// the trained weights:  npx tsx examples/personal-ai/submit.ts --coordinator http://localhost:8080 [--gpu] [--out model.pt]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ChunkResult, JobSummary } from '../../protocol/index.js';
import { checkTraining, personalAiJob } from './personal-ai.js';

const { values } = parseArgs({ options: { coordinator: { type: 'string', default: 'http://localhost:8080' }, gpu: { type: 'boolean' }, out: { type: 'string', default: 'model.pt' }, steps: { type: 'string' } } });
const base = values.coordinator!.replace(/\/$/, '');
const res = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(personalAiJob({ gpu: values.gpu, steps: values.steps ? Number(values.steps) : undefined })) });
if (res.status !== 201) throw new Error(`the coordinator refused the job: ${await res.text()}`);
const job = (await res.json()) as JobSummary;
console.log(`submitted ${base}/jobs/${job.id}; waiting for a runner (npm run runner -- --coordinator ${base})`);
for (;;) {
  const now = (await (await fetch(`${base}/api/jobs/${job.id}`)).json()) as JobSummary;
  if (now.status === 'completed' || now.status === 'failed') break;
  await new Promise((r) => setTimeout(r, 2000));
}
const results = (await (await fetch(`${base}/api/jobs/${job.id}/results?format=json`)).json()) as ChunkResult[];
const output = checkTraining(results);
const weights = results[0].attachments!.find((a) => a.name === 'model.pt')!;
writeFileSync(values.out!, Buffer.from(await (await fetch(`${base}/api/blobs/${weights.sha256}`)).arrayBuffer()));
console.log(`${output.device}${output.gpu ? ` (${output.gpu})` : ''}: loss ${output.initialLoss} -> ${output.finalLoss} in ${output.trainSeconds} s; weights saved to ${values.out}`);
