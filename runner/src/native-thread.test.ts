// The native thread restores a lease's checkpoint only into /work/checkpoint/: a file name that climbs out of it
// fails the chunk before anything is written or run.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../protocol/index.js';
import { detectSandbox } from '../native/index.js';
import { NativeThread } from './native-thread.js';

describe('NativeThread checkpoint restore', () => {
  it('refuses a checkpoint file named outside /work/checkpoint/ and runs nothing', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'native-thread-'));
    const thread = new NativeThread({ workspaceRoot: root, sandbox: await detectSandbox(), limits: { memoryMb: 256, diskQuotaMb: 16, gpu: false }, checkpointEveryMs: 60_000 });
    const job = { id: 'j', name: 'n', runtime: 'native', command: ['sh', '-c', 'touch /work/ran'], timeoutMs: 10_000 } as JobSpec;
    let downloads = 0;
    const run = await thread.run(job, 0, {}, {
      checkpoint: { files: [{ name: '../../escape', blob: `sha256:${'0'.repeat(64)}`, size: 1 }] },
      downloadBlob: async () => {
        downloads++;
        return new Uint8Array([1]);
      },
      saveCheckpoint: async () => undefined,
    });
    expect(run).toMatchObject({ ok: false, failure: 'crash' });
    expect(run.ok ? '' : run.error).toMatch(/could not restore the chunk's checkpoint/);
    expect(downloads).toBe(0);
    expect(readdirSync(root)).toEqual([]); // the workspace is gone, nothing escaped next to it
  });
});
