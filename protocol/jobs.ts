// Wire shapes of the job API (`/api/jobs`): what a submitter sends and what comes back.
// A job is runtime-specific fields (Python: source, entry, packages) plus fields every runtime shares
// (inputs, timeouts, the verification policy). A new runtime adds its own object to `JobSubmission`'s union.
import { z } from 'zod';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_CHUNKS = 1_000_000;
export const MAX_REPLICAS = 16;

export const Runtime = z.enum(['python', 'onnx', 'native']);
export type Runtime = z.infer<typeof Runtime>;

/** How replicas of one chunk are compared. Script-mode outputs (stdout text) always compare exactly. */
export const Validation = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exact') }),
  z.strictObject({
    kind: z.literal('tolerance'),
    abs: z.number().min(0).optional(),
    rel: z.number().min(0).optional(),
  }),
]);
export type Validation = z.infer<typeof Validation>;

/**
 * What a contributor must have to be leased the job's chunks, besides offering its runtime (checked by the
 * coordinator against the capabilities each lease request advertises). `gpuMemoryMb` implies `gpu`; a native job
 * with an `image` implies `containerEngine`; `webgpu` is for ONNX jobs only.
 *
 * @example {"gpu": true, "gpuMemoryMb": 8000, "memoryMb": 16000}
 */
export const JobRequirements = z.strictObject({
  /** Redundant with the job's own runtime (which is always required); accepted when it names the same one. */
  runtime: Runtime.optional(),
  /** At least one GPU (a runner started with --gpu that found one). */
  gpu: z.boolean().optional(),
  /** A GPU with at least this much memory. */
  gpuMemoryMb: z.number().int().min(1).max(16 * 1024 * 1024).optional(),
  /** At least this much memory for the contributor's chunks. */
  memoryMb: z.number().int().min(1).max(16 * 1024 * 1024).optional(),
  /** At least this many CPU cores. */
  cpuCores: z.number().int().min(1).max(4096).optional(),
  /** A tab whose browser offers WebGPU (ONNX jobs only). */
  webgpu: z.boolean().optional(),
  /** Docker or Podman on the contributor's machine (native jobs with an `image`). */
  containerEngine: z.boolean().optional(),
});
export type JobRequirements = z.infer<typeof JobRequirements>;

/** Fields every job has, whatever its runtime. */
const commonJobFields = {
  /** Only the owner (or an admin key) may read the source, inputs and results. */
  private: z.boolean().optional(),
  name: z.string().max(200).optional(),
  description: z.string().max(10_000).optional(),
  inputs: z.array(z.unknown()).min(1, 'needs at least one chunk input').max(MAX_CHUNKS, `at most ${MAX_CHUNKS} chunks`),
  /** Per chunk attempt. */
  timeoutMs: z.number().int().min(100).max(24 * 3600 * 1000).optional(),
  /** Attempts per chunk when results are not replicated (timeouts, crashes, lost contributors). */
  maxAttempts: z.number().int().min(1).max(100).optional(),
  /** Results issued per chunk at first (default 1). */
  replicas: z.number().int().min(1).max(MAX_REPLICAS).optional(),
  /** Agreeing results needed to accept a chunk (default = replicas). */
  quorum: z.number().int().min(1).max(MAX_REPLICAS).optional(),
  /** Cap on results ever issued for one chunk (default replicas * 2 + 1). */
  maxResults: z.number().int().min(1).max(64).optional(),
  /** Error results after which a chunk fails (default 3). */
  maxErrors: z.number().int().min(1).max(64).optional(),
  validation: Validation.optional(),
  /** Adaptive replication: results of trusted contributors stand alone (see docs/verification.md). */
  adaptive: z.boolean().optional(),
  /** What a contributor must have to run the job (see JobRequirements). */
  requires: JobRequirements.optional(),
};

/** A Python package name as Pyodide's loader knows it (e.g. "numpy", "my-package"). */
export const PackageName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be a package name');

export const PythonJobSubmission = z.strictObject({
  runtime: z.literal('python'),
  source: z.string().min(1, 'must not be empty').max(10 * 1024 * 1024),
  entry: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Python identifier')
    .optional(),
  packages: z.array(PackageName).max(100).optional(),
  ...commonJobFields,
});
export type PythonJobSubmission = z.infer<typeof PythonJobSubmission>;

// ---- ONNX jobs (docs/onnx.md): a model blob plus, per chunk, a set of named tensors ----

/** Element types of ONNX job tensors, named as ONNX Runtime Web names them. */
export const TensorType = z.enum(['float32', 'float16', 'float64', 'int8', 'uint8', 'int32', 'int64', 'bool']);
export type TensorType = z.infer<typeof TensorType>;

/** Bytes per element in the `base64` encoding: little-endian, float16 as IEEE binary16, bool as one byte 0/1. */
export const TENSOR_TYPE_BYTES: Record<TensorType, number> = {
  float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int32: 4, int64: 8, bool: 1,
};
export const MAX_TENSOR_RANK = 16;
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/**
 * One tensor on the wire: `{type, dims, data}` or `{type, dims, base64}`.
 * `data` is the elements in row-major order as JSON: numbers for float and integer types (floats may also be the
 * strings "NaN", "Infinity", "-Infinity"; int64 may also be a decimal string beyond 2^53), booleans for bool.
 * `base64` is the raw little-endian bytes ({@link TENSOR_TYPE_BYTES} per element). Chunk outputs always use `data`.
 *
 * @example {"type": "float32", "dims": [1, 3], "data": [0.5, -1, "NaN"]}
 */
export const OnnxTensor = z
  .strictObject({
    type: TensorType,
    dims: z.array(z.number().int().min(0).max(MAX_TENSOR_ELEMENTS)).max(MAX_TENSOR_RANK),
    data: z.array(z.unknown()).optional(),
    base64: z.string().optional(),
  })
  .superRefine((tensor, ctx) => {
    const count = tensor.dims.reduce((product, dim) => product * dim, 1);
    if (count > MAX_TENSOR_ELEMENTS) {
      ctx.addIssue({ code: 'custom', path: ['dims'], message: `describe ${count} elements, more than ${MAX_TENSOR_ELEMENTS}` });
      return;
    }
    if ((tensor.data === undefined) === (tensor.base64 === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs exactly one of "data" or "base64"' });
      return;
    }
    if (tensor.data !== undefined) {
      if (tensor.data.length !== count) {
        ctx.addIssue({ code: 'custom', path: ['data'], message: `has ${tensor.data.length} elements, but dims [${tensor.dims.join(', ')}] need ${count}` });
        return;
      }
      const bad = tensor.data.findIndex((value) => !isTensorElement(tensor.type, value));
      if (bad >= 0) {
        ctx.addIssue({ code: 'custom', path: ['data', bad], message: `${JSON.stringify(tensor.data[bad])} is not a valid ${tensor.type} (${TENSOR_ELEMENT_RULE[tensor.type]})` });
      }
      return;
    }
    const text = tensor.base64!;
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      ctx.addIssue({ code: 'custom', path: ['base64'], message: 'is not standard base64 (A-Z a-z 0-9 + /, padded with =)' });
      return;
    }
    const bytes = (text.length / 4) * 3 - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
    const expected = count * TENSOR_TYPE_BYTES[tensor.type];
    if (bytes !== expected) {
      ctx.addIssue({ code: 'custom', path: ['base64'], message: `holds ${bytes} bytes, but ${count} ${tensor.type} elements need ${expected}` });
    }
  });
export type OnnxTensor = z.infer<typeof OnnxTensor>;

const INTEGER_RANGE: Partial<Record<TensorType, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int32: [-(2 ** 31), 2 ** 31 - 1],
};
const TENSOR_ELEMENT_RULE: Record<TensorType, string> = {
  float32: 'a number, "NaN", "Infinity" or "-Infinity"',
  float16: 'a number, "NaN", "Infinity" or "-Infinity"',
  float64: 'a number, "NaN", "Infinity" or "-Infinity"',
  int8: 'an integer from -128 to 127',
  uint8: 'an integer from 0 to 255',
  int32: 'an integer from -2^31 to 2^31-1',
  int64: 'a safe integer, or a decimal string from -2^63 to 2^63-1',
  bool: 'true or false',
};

function isTensorElement(type: TensorType, value: unknown): boolean {
  switch (type) {
    case 'float32':
    case 'float16':
    case 'float64':
      return typeof value === 'number' || value === 'NaN' || value === 'Infinity' || value === '-Infinity';
    case 'bool':
      return typeof value === 'boolean';
    case 'int64':
      if (typeof value === 'number') return Number.isSafeInteger(value);
      if (typeof value !== 'string' || !/^-?\d{1,19}$/.test(value)) return false;
      return BigInt(value) >= -(2n ** 63n) && BigInt(value) < 2n ** 63n;
    default: {
      const [min, max] = INTEGER_RANGE[type]!;
      return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
    }
  }
}

/** One chunk of an ONNX job: the model's inputs by name. Optional model inputs (with a default) may be left out. */
export const OnnxChunkInput = z
  .record(z.string().min(1).max(1000), OnnxTensor)
  .refine((tensors) => Object.keys(tensors).length > 0, 'needs at least one named tensor');
export type OnnxChunkInput = z.infer<typeof OnnxChunkInput>;

/** One chunk's output: the requested (default: all) model outputs by name, every tensor with `data`. */
export type OnnxChunkOutput = Record<string, OnnxTensor>;

/** Where a chunk may run, in the submitter's order of preference; each tab uses the first it can offer. */
export const ExecutionProvider = z.enum(['webgpu', 'wasm']);
export type ExecutionProvider = z.infer<typeof ExecutionProvider>;
export const DEFAULT_EXECUTION_PROVIDERS: ExecutionProvider[] = ['webgpu', 'wasm'];

const unique = (values: string[]) => new Set(values).size === values.length;

export const OnnxJobSubmission = z.strictObject({
  runtime: z.literal('onnx'),
  /** The model as a blob (`PUT /api/blobs/sha256:<hex>` first). */
  model: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 lowercase hex> naming an uploaded blob'),
  /** Model outputs to return (default: all). */
  outputs: z.array(z.string().min(1).max(1000)).min(1).max(1000).refine(unique, 'must not repeat a name').optional(),
  executionProviders: z.array(ExecutionProvider).min(1).refine(unique, 'must not repeat a provider').optional(),
  ...commonJobFields,
  inputs: z.array(OnnxChunkInput).min(1, 'needs at least one chunk input').max(MAX_CHUNKS, `at most ${MAX_CHUNKS} chunks`),
});
export type OnnxJobSubmission = z.infer<typeof OnnxJobSubmission>;

// ---- Native jobs (docs/protocol.md, docs/runner.md): a command run in a sandbox on a headless runner ----

export const MAX_NATIVE_ARGS = 256;
export const MAX_NATIVE_ARG_CHARS = 4096;
export const MAX_NATIVE_SOURCE_BYTES = 10 * 1024 * 1024;
/** Total of a native job's `files` (UTF-8 bytes of their contents). */
export const MAX_NATIVE_FILES_BYTES = 10 * 1024 * 1024;
export const MAX_NATIVE_FILES = 1000;
/** Names in /work the runner writes itself, and the folders it owns: a job's `files` may not take them. */
export const RESERVED_NATIVE_FILES: readonly string[] = ['input.json', 'output.json', 'main.py'];
export const RESERVED_NATIVE_FOLDERS: readonly string[] = ['out', 'checkpoint'];

/**
 * Why `name` is not a safe relative path (`/`-separated, no empty, `.` or `..` segment, no leading `/`, no
 * backslash or control character, at most 1024 characters), or undefined when it is one.
 */
export function relativePathProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 1024) return 'must be at most 1024 characters';
  if (name.startsWith('/')) return 'must be relative (no leading /)';
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(name)) return 'must not contain a backslash or a control character';
  const segments = name.split('/');
  if (segments.includes('..')) return 'must not contain ..';
  if (segments.some((segment) => segment === '' || segment === '.')) return 'must not have an empty or . segment';
  return undefined;
}

/** UTF-8 length of `text` without encoding it (protocol/ runs in browsers and Node alike, with no DOM or Node lib). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      bytes += 4; // a surrogate pair: one code point of 4 bytes
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A container image reference as docker and podman take it; never starting with `-` (it would read as a flag). */
export const ImageReference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@+]{0,254}$/, 'must be a container image reference such as "localhost/idle-sense-busybox:latest"');

export const NativeJobSubmission = z.strictObject({
  runtime: z.literal('native'),
  /** The argv run in /work, e.g. ["python3", "main.py"]; the chunk input's scalars follow when it is an array of them. */
  command: z
    .array(
      z
        .string()
        .min(1, 'must not be empty')
        .max(MAX_NATIVE_ARG_CHARS, `must be at most ${MAX_NATIVE_ARG_CHARS} characters`)
        .refine((arg) => !arg.includes('\u0000'), 'must not contain a NUL character'),
    )
    .min(1, 'needs at least the program to run')
    .max(MAX_NATIVE_ARGS, `at most ${MAX_NATIVE_ARGS} arguments`),
  /** Written to /work/main.py before the command starts. */
  source: z
    .string()
    .min(1, 'must not be empty')
    .refine((text) => utf8Bytes(text) <= MAX_NATIVE_SOURCE_BYTES, `must be at most ${MAX_NATIVE_SOURCE_BYTES} bytes`)
    .optional(),
  /** More files (text) written into /work by relative name before the command starts. */
  files: z
    .record(z.string(), z.string())
    .superRefine((files, ctx) => {
      const names = Object.keys(files);
      if (names.length > MAX_NATIVE_FILES) ctx.addIssue({ code: 'custom', path: [], message: `at most ${MAX_NATIVE_FILES} files` });
      let total = 0;
      for (const name of names) {
        const problem = relativePathProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `file name ${problem}` });
        else if (RESERVED_NATIVE_FILES.includes(name)) ctx.addIssue({ code: 'custom', path: [name], message: `is written by the runner itself; use another name` });
        else if (RESERVED_NATIVE_FOLDERS.includes(name.split('/')[0])) {
          ctx.addIssue({ code: 'custom', path: [name], message: `must not be under ${name.split('/')[0]}/ (the runner owns it)` });
        }
        total += utf8Bytes(files[name]);
      }
      if (total > MAX_NATIVE_FILES_BYTES) ctx.addIssue({ code: 'custom', path: [], message: `hold ${total} bytes, more than ${MAX_NATIVE_FILES_BYTES}` });
    })
    .optional(),
  /** Run in this container image (Docker or Podman); without it, in bubblewrap on the runner's own OS. */
  image: ImageReference.optional(),
  ...commonJobFields,
});
export type NativeJobSubmission = z.infer<typeof NativeJobSubmission>;

/** `POST /api/jobs` body. Each element of `inputs` is one chunk's input. */
export const JobSubmission = z.discriminatedUnion('runtime', [PythonJobSubmission, OnnxJobSubmission, NativeJobSubmission]).superRefine((job, ctx) => {
  const replicas = job.replicas ?? 1;
  if (job.quorum !== undefined && job.quorum > replicas) {
    ctx.addIssue({ code: 'custom', path: ['quorum'], message: `must not exceed replicas (${replicas})` });
  }
  if (job.maxResults !== undefined && job.maxResults < replicas) {
    ctx.addIssue({ code: 'custom', path: ['maxResults'], message: `must be at least replicas (${replicas})` });
  }
  if (job.adaptive && replicas < 2 && (job.quorum ?? replicas) < 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['adaptive'],
      message: 'needs replicas of at least 2: adaptive replication saves replicas for trusted contributors',
    });
  }
  if (job.validation?.kind === 'tolerance' && job.validation.abs === undefined && job.validation.rel === undefined) {
    ctx.addIssue({ code: 'custom', path: ['validation'], message: 'tolerance needs abs or rel' });
  }
  const requires = job.requires;
  if (requires) {
    const issue = (field: keyof JobRequirements, message: string) => ctx.addIssue({ code: 'custom', path: ['requires', field], message });
    if (requires.runtime !== undefined && requires.runtime !== job.runtime) issue('runtime', `must be the job's own runtime (${job.runtime}) when given`);
    if (requires.webgpu && job.runtime !== 'onnx') issue('webgpu', 'is for onnx jobs only (WebGPU is a browser tab\'s, for ONNX models)');
    if (requires.gpuMemoryMb !== undefined && requires.gpu === false) issue('gpuMemoryMb', 'needs a GPU: drop gpu: false');
    const image = job.runtime === 'native' && job.image !== undefined;
    if (image && requires.containerEngine === false) issue('containerEngine', 'a native job with an image runs in a container: drop containerEngine: false');
    if (requires.containerEngine && !image) issue('containerEngine', 'only a native job with an image runs in a container: give image, or drop containerEngine');
  }
});
export type JobSubmission = z.infer<typeof JobSubmission>;

/**
 * `POST /api/jobs/:id/canaries` body (admin keys only): a known-answer job made from `chunks` of the job's chunks
 * that agreeing replicas verified. Contributors see an ordinary job; each of its chunks is checked against the
 * answer already verified, so a contributor who answers wrongly is caught (see docs/verification.md).
 */
export const CanaryRequest = z.strictObject({
  /** How many verified chunks to take, drawn at random (default 20, at most 1000). */
  chunks: z.number().int().min(1).max(1000).optional(),
  /** The new job's name; by default the source job's, so the canary looks like any re-run of it. */
  name: z.string().min(1).max(200).optional(),
});
export type CanaryRequest = z.infer<typeof CanaryRequest>;

/** `POST /api/jobs/:id/canaries` answer (201). */
export interface CanaryJob {
  job: JobSummary;
  /** The job whose verified answers it carries. */
  canaryOf: string;
  /** Chunk index in the canary job → chunk index in the source job. */
  sourceChunks: number[];
}

/** The runtime-specific part of a job: what a worker needs besides the chunk input. */
export type RuntimeFields =
  | Pick<PythonJobSubmission, 'runtime' | 'source' | 'entry' | 'packages'>
  | Pick<OnnxJobSubmission, 'runtime' | 'model' | 'outputs' | 'executionProviders'>
  | Pick<NativeJobSubmission, 'runtime' | 'command' | 'source' | 'files' | 'image'>;

export const JobStatus = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

/** Progress counts of a job's chunks; they always add up to `total`. */
export interface ChunkCounts {
  total: number;
  completed: number;
  failed: number;
  /** Chunks started (a replica issued) and not settled, whether a replica computes them now or they await another. */
  running: number;
  /** Chunks no replica was issued for yet. */
  queued: number;
}

/** Counts of the results (replicas) a job has received, for verification. */
export interface ResultCounts {
  /** Chunks whose canonical result met the quorum (or stood alone on a trusted contributor's word). */
  verified: number;
  /** Results issued for settled chunks (open chunks count nothing here until they settle). */
  resultsIssued: number;
  /** Results that agreed with their chunk's canonical result. */
  valid: number;
  /** Results that disagreed with their chunk's canonical result. */
  invalid: number;
  /** Successful results of settled chunks that agreed with no decision (chunks failed for lack of consensus). */
  inconclusive: number;
}

/** Parts of a result that replicas can be compared on. */
export type ComparedField = 'output' | 'stdout' | 'stderr' | 'attachments';

export interface VerificationPolicy {
  replicas: number;
  quorum: number;
  maxResults: number;
  maxErrors: number;
  validation: Validation;
  adaptive: boolean;
  /**
   * What replicas must agree on: `output` by `validation`, the others exactly (attachments by name, size and
   * sha256). Everything, except in Python function mode: there `stdout`/`stderr` are published unverified, because
   * what the module's top level prints lands in whichever chunk ran it first. Absent on older jobs: output only.
   */
  compared?: ComparedField[];
}

/** `GET /api/jobs/:id` and each element of `GET /api/jobs`. */
export interface JobSummary extends ChunkCounts, ResultCounts {
  id: string;
  name: string;
  description?: string;
  runtime: Runtime;
  status: JobStatus;
  entry?: string;
  timeoutMs: number;
  maxAttempts: number;
  verification: VerificationPolicy;
  /** What a contributor must have to be leased the job's chunks, implied requirements included; absent when nothing. */
  requires?: JobRequirements;
  /** Submitted as private: source, inputs and results are for its owner (and admin keys) only. */
  private?: true;
  createdAt: string;
  finishedAt?: string;
  /** Why the job failed as a whole (for example the script's SyntaxError). */
  error?: string;
}

/** `GET /api/jobs/:id/source` — the runtime-specific part of the job as submitted, for the job page. */
export type JobSource = { id: string } & RuntimeFields;

export type ChunkStatus = 'ok' | 'error';

/** A file a chunk wrote under /work/out/, stored as a content-addressed blob (`GET /api/blobs/<sha256>`). */
export interface Attachment {
  /** Path relative to /work/out/. */
  name: string;
  /** `sha256:<64 hex>`. */
  sha256: string;
  size: number;
}

/** One line of `GET /api/jobs/:id/results` (NDJSON), in chunk index order. */
export interface ChunkResult {
  index: number;
  status: ChunkStatus;
  output?: unknown;
  stdout?: string;
  stderr?: string;
  error?: string;
  attachments?: Attachment[];
  /** Results issued for the chunk (each lease is one). */
  attempts?: number;
  /** True when `agreeing` results met the quorum (or a trusted contributor's result stood alone). */
  verified?: boolean;
  /** Results that agree with the canonical one. */
  agreeing?: number;
  /** On a verified chunk: published fields that replicas were not compared on (see VerificationPolicy.compared). */
  unverified?: ComparedField[];
  durationMs?: number;
  finishedAt?: string;
}

/** One result (replica) of a chunk, as the chunk detail view shows it. */
export interface ResultDetail {
  leaseId: string;
  /** Anonymised contributor id: stable within this coordinator, reveals nothing else. */
  contributor: string;
  attempt: number;
  state: 'running' | 'ok' | 'error' | 'expired' | 'released' | 'cancelled';
  /** Verification verdict: valid/invalid once the chunk has a canonical result, inconclusive before. */
  validation: 'pending' | 'valid' | 'invalid' | 'inconclusive';
  output?: unknown;
  stdout?: string;
  stderr?: string;
  error?: string;
  attachments?: Attachment[];
  runtimeInfo?: Record<string, string>;
  durationMs?: number;
  issuedAt: string;
  reportedAt?: string;
}

/** `GET /api/jobs/:id/chunks/:index`. */
export interface ChunkDetail {
  index: number;
  input: unknown;
  /** `open` until settled: an open chunk shows nothing but its input (not even whether it has replicas). */
  state: 'open' | 'ok' | 'error';
  result?: ChunkResult;
  /** The lease id of the result chosen as canonical, once the chunk is settled successfully. */
  canonical?: string;
  /** Every replica the chunk was issued; empty while the chunk is open. */
  results: ResultDetail[];
}

/** Server-Sent Events on `GET /api/jobs/:id/events`. Event name → data. */
export interface JobEvents {
  /** Sent first and whenever counts change. */
  progress: JobSummary;
  /** Newly finished chunks, in the order they finished (at most a few hundred per event). */
  chunks: ChunkResult[];
  /** The job reached a final status; the stream ends after it. */
  end: JobSummary;
}
