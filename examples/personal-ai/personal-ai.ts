// The personal-AI example as a submitter uses it: the job (train.py as the chunk's main.py, the corpus as a file),
// and the check of what comes back — the loss fell well below where it started and below a uniform guess, and the
// trained weights came back as the attachment model.pt. Node only (reads the folder's files).
import { readFileSync } from 'node:fs';
import type { ChunkResult, JobSubmission } from '../../protocol/index.js';

const here = (name: string) => new URL(`./${name}`, import.meta.url);

export interface TrainingOutput {
  device: 'cpu' | 'cuda';
  gpu: string | null;
  torch: string;
  steps: number;
  resumedFrom: number;
  initialLoss: number;
  finalLoss: number;
  uniformLoss: number;
  losses: number[];
  trainSeconds: number;
}

/** The job as posted to /api/jobs. `gpu: true` adds `requires: {gpu: true}`: only runners with a GPU take it. */
export function personalAiJob(options: { gpu?: boolean; steps?: number } = {}): JobSubmission {
  const job = JSON.parse(readFileSync(here('job.native.json'), 'utf8')) as Extract<JobSubmission, { runtime: 'native' }>;
  if (options.steps) job.inputs = job.inputs.map((input) => ({ ...(input as object), steps: options.steps }));
  return {
    ...job,
    source: readFileSync(here('train.py'), 'utf8'),
    files: { 'corpus.txt': readFileSync(here('corpus.txt'), 'utf8') },
    ...(options.gpu ? { requires: { gpu: true } } : {}),
  };
}

/** Throws unless training worked: the loss fell by at least 30% and below a uniform guess, and the weights came back. */
export function checkTraining(results: ChunkResult[]): TrainingOutput {
  if (results.length !== 1) throw new Error(`expected one chunk's result, got ${results.length}`);
  const [result] = results;
  if (result.status !== 'ok') throw new Error(`the training chunk failed: ${result.error ?? result.status}`);
  const output = result.output as TrainingOutput;
  if (typeof output?.initialLoss !== 'number' || typeof output.finalLoss !== 'number') throw new Error('the output has no losses');
  if (!(output.finalLoss < output.initialLoss * 0.7)) throw new Error(`the loss did not fall enough: ${output.initialLoss} -> ${output.finalLoss}`);
  if (!(output.finalLoss < output.uniformLoss)) throw new Error(`the model is no better than a uniform guess (${output.finalLoss} >= ${output.uniformLoss})`);
  const weights = result.attachments?.find((a) => a.name === 'model.pt');
  if (!weights || weights.size < 10_000) throw new Error('the trained weights (model.pt) did not come back');
  return output;
}
