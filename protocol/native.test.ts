// The native runtime's wire rules that protect the runner: file names that cannot leave /work or take the runner's
// own files, byte limits counted in UTF-8, and capabilities that cannot repeat a runtime.
import { describe, expect, it } from 'vitest';
import { ContributorCapabilities, CheckpointRequest } from './contributors.js';
import { JobSubmission, MAX_NATIVE_SOURCE_BYTES, relativePathProblem } from './jobs.js';

describe('relativePathProblem', () => {
  it('accepts plain relative paths and refuses every way out of the folder', () => {
    for (const ok of ['a', 'a/b.txt', 'weights/model.pt', '.hidden', 'a..b']) expect(relativePathProblem(ok)).toBeUndefined();
    for (const bad of ['', '/etc/passwd', '..', 'a/../b', 'a/..', './a', 'a//b', 'a/', 'a\\b', 'a\u0000b', 'x'.repeat(1025)]) {
      expect(relativePathProblem(bad), bad).toBeDefined();
    }
  });
});

describe('native submissions', () => {
  it('counts source bytes in UTF-8, not characters', () => {
    const job = (source: string) => JobSubmission.safeParse({ runtime: 'native', command: ['sh', 'main.py'], source, inputs: [1] }).success;
    expect(job('é'.repeat(MAX_NATIVE_SOURCE_BYTES / 2))).toBe(true);
    expect(job('é'.repeat(MAX_NATIVE_SOURCE_BYTES / 2 + 1))).toBe(false);
  });
});

describe('capabilities and checkpoints', () => {
  it('refuse a repeated runtime and a repeated checkpoint file', () => {
    expect(ContributorCapabilities.safeParse({ runtimes: ['native', 'native'] }).success).toBe(false);
    const file = { name: 'a', blob: `sha256:${'a'.repeat(64)}`, size: 1 };
    expect(CheckpointRequest.safeParse({ leaseToken: 't', files: [file] }).success).toBe(true);
    expect(CheckpointRequest.safeParse({ leaseToken: 't', files: [file, file] }).success).toBe(false);
    expect(CheckpointRequest.safeParse({ leaseToken: 't', files: [] }).success).toBe(true);
  });
});
