// Submission checks of ONNX jobs: every chunk must be able to feed the model. Chunks whose tensors cannot match the
// model's declared inputs (names, element types, static dims, symbolic dims shared between inputs) are rejected at
// submission with a 400 naming the chunk, the input and the mismatch, instead of failing later in some tab.
import { ErrorCode, TensorType, type OnnxChunkInput, type OnnxJobSubmission } from '../../../protocol/index.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { ApiError } from '../http/errors.js';
import { inspectModel } from './inspect.js';
import type { ModelDim, ModelInfo, ModelValue } from './model-proto.js';

const MAX_PROBLEMS = 5;
const SUPPORTED: ReadonlySet<string> = new Set(TensorType.options);

/**
 * Throws a 400 ApiError unless the model blob exists, is an ONNX model usable from a single blob, and every chunk
 * fits its inputs. The one call routes/jobs.ts makes for ONNX jobs.
 */
export async function assertOnnxJobFitsModel(job: OnnxJobSubmission, blobs: BlobStore): Promise<void> {
  const inspection = await inspectModel(blobs, job.model);
  if (!inspection.ok) {
    throw new ApiError(
      ErrorCode.InvalidRequest,
      inspection.reason === 'missing' ? `model: ${inspection.message}` : `model: ${job.model} is not a readable ONNX model (${inspection.message})`,
    );
  }
  const problems = onnxJobProblems(job, inspection.info);
  if (problems.length) throw new ApiError(ErrorCode.InvalidRequest, problems.join('; '));
}

/** Everything wrong with `job` against the model (at most a few, first chunks first); empty when it fits. */
export function onnxJobProblems(job: Pick<OnnxJobSubmission, 'inputs' | 'outputs'>, info: ModelInfo): string[] {
  const problems: string[] = [];
  if (info.externalData.length) {
    problems.push(
      `model: its weights ${list(info.externalData, 3)} live in external data files; save the model as one file ` +
        '(onnx.save(model, path, save_as_external_data=False))',
    );
  }
  for (const input of info.inputs) {
    if (!SUPPORTED.has(input.type)) {
      problems.push(`model: input "${input.name}" has element type ${input.type}; ONNX jobs support ${TensorType.options.join(', ')}`);
    }
  }
  const outputNames = info.outputs.map((output) => output.name);
  for (const name of job.outputs ?? []) {
    if (!outputNames.includes(name)) problems.push(`outputs: the model has no output "${name}" (its outputs: ${list(outputNames)})`);
  }
  if (problems.length) return problems.slice(0, MAX_PROBLEMS);
  for (let index = 0; index < job.inputs.length && problems.length < MAX_PROBLEMS; index++) {
    problems.push(...chunkProblems(info, job.inputs[index], index));
  }
  return problems.slice(0, MAX_PROBLEMS);
}

/** Why chunk `index` cannot feed the model; empty when it can. */
export function chunkProblems(info: ModelInfo, chunk: OnnxChunkInput, index: number): string[] {
  const problems: string[] = [];
  const inputNames = info.inputs.map((input) => input.name);
  for (const name of Object.keys(chunk)) {
    if (!inputNames.includes(name)) problems.push(`chunk ${index}: "${name}" is not an input of the model (its inputs: ${list(inputNames)})`);
  }
  /** Symbolic dims seen so far in this chunk: "batch" → [size, the input that fixed it]. */
  const symbols = new Map<string, [number, string]>();
  for (const input of info.inputs) {
    const tensor = chunk[input.name];
    if (!tensor) {
      problems.push(`chunk ${index}: missing input "${input.name}" (${describe(input)})`);
      continue;
    }
    const where = `chunk ${index}, input "${input.name}"`;
    if (tensor.type !== input.type) {
      problems.push(`${where}: type ${tensor.type} does not match the model's ${input.type}`);
      continue;
    }
    if (!input.dims) continue;
    const mismatch = dimsMismatch(input.dims, tensor.dims, input.name, symbols);
    if (mismatch) problems.push(`${where}: dims [${tensor.dims.join(', ')}] do not fit the model's [${input.dims.map(showDim).join(', ')}] (${mismatch})`);
  }
  return problems;
}

function dimsMismatch(model: ModelDim[], given: number[], input: string, symbols: Map<string, [number, string]>): string | undefined {
  if (model.length !== given.length) return `the model needs rank ${model.length}, not ${given.length}`;
  for (let axis = 0; axis < model.length; axis++) {
    const want = model[axis];
    if (typeof want === 'number' && want !== given[axis]) return `dimension ${axis} must be ${want}`;
    if (typeof want === 'string') {
      const seen = symbols.get(want);
      if (seen && seen[0] !== given[axis]) {
        return `dimension ${axis} is "${want}", which is ${seen[0]} in ${seen[1] === input ? 'an earlier dimension' : `input "${seen[1]}"`}`;
      }
      symbols.set(want, [given[axis], input]);
    }
  }
  return undefined;
}

function describe(value: ModelValue): string {
  return value.dims ? `${value.type} [${value.dims.map(showDim).join(', ')}]` : value.type;
}

function showDim(dim: ModelDim): string {
  return dim === null ? '?' : String(dim);
}

function list(names: string[], max = 10): string {
  const shown = names.slice(0, max).map((name) => `"${name}"`).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown || 'none';
}
