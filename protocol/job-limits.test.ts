// Caps per job in the submission schema: chunks, replicas and results per chunk, so one submission cannot ask the
// coordinator for unbounded work or one chunk for unbounded contributors.
import { describe, expect, it } from 'vitest';
import { JobSubmission, MAX_CHUNKS, MAX_REPLICAS } from './jobs.js';
import { describeIssues } from './validation.js';

const base = { runtime: 'python', source: 'def main(x):\n    return x\n', inputs: [1] };
const refusal = (job: object) => {
  const parsed = JobSubmission.safeParse({ ...base, ...job });
  return parsed.success ? undefined : describeIssues(parsed.error);
};

describe('per-job caps', () => {
  it(`refuses more than ${MAX_CHUNKS} chunks, naming inputs`, () => {
    expect(refusal({ inputs: new Array(MAX_CHUNKS + 1).fill(0) })).toMatch(/inputs/);
    expect(refusal({ inputs: new Array(MAX_CHUNKS).fill(0) })).toBeUndefined();
  });
  it(`refuses more than ${MAX_REPLICAS} replicas, naming replicas`, () => {
    expect(refusal({ replicas: MAX_REPLICAS + 1 })).toMatch(/replicas/);
    expect(refusal({ replicas: MAX_REPLICAS })).toBeUndefined();
  });
  it('refuses more than 64 results per chunk, naming maxResults', () => {
    expect(refusal({ maxResults: 65 })).toMatch(/maxResults/);
  });
});
