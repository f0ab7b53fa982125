// The disposable OPFS workspace: each chunk runs in a fresh /work, files under /work/out/ become attachments
// (hash and size in the result, bytes downloadable as blobs), a per-chunk limit is enforced with a clear error, and
// the origin-private file system is empty once chunks end, whatever their outcome; stale directories are swept.
import { createHash } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
});
test.afterAll(async () => {
  await coordinator?.stop();
});

const WRITER = String.raw`
import os

def main(x):
    assert os.getcwd() == "/work", os.getcwd()
    assert sorted(os.listdir("/work")) == ["out"], os.listdir("/work")
    open("scratch.tmp", "w").write("not an attachment")
    os.makedirs("out/sub", exist_ok=True)
    with open("out/result.txt", "w") as f:
        f.write(f"chunk {x}\n")
    with open("out/sub/data.bin", "wb") as f:
        f.write(bytes([x]) * 1000)
    if x == 3:
        raise ValueError("an error after writing files")
    if x == 4:
        open("out/huge.bin", "wb").write(b"\0" * (40 * 1024 * 1024))
    if x == 5:
        while True:
            pass
    return x
`;

/** Every file and directory under the page origin's OPFS root, as paths. */
async function opfsTree(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const paths: string[] = [];
    const walk = async (dir: FileSystemDirectoryHandle, prefix: string) => {
      try {
        for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
          paths.push(prefix + name);
          if (handle.kind === 'directory') await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`);
        }
      } catch (error) {
        // The page may remove a directory while it is walked (its sweep, a chunk ending): what vanished is not there.
        if (!(error instanceof DOMException && error.name === 'NotFoundError')) throw error;
      }
    };
    await walk(await navigator.storage.getDirectory(), '');
    return paths;
  });
}

const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

test('files under /work/out/ become attachments; the workspace is gone after every kind of ending', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'writer', source: WRITER, inputs: [0, 1, 2, 3, 4, 5], timeoutMs: 3000, maxAttempts: 1, maxErrors: 1 });
  const tab = await contribute(browser, coordinator.url, 2);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed', 120_000);
  const got = await results(coordinator.url, job.id);

  for (const index of [0, 1, 2]) {
    const text = Buffer.from(`chunk ${index}\n`);
    const data = Buffer.alloc(1000, index);
    expect(got[index]).toMatchObject({ status: 'ok', output: index });
    expect(got[index].attachments).toEqual([
      { name: 'result.txt', sha256: sha(text), size: text.length },
      { name: 'sub/data.bin', sha256: sha(data), size: 1000 },
    ]);
    const blob = await fetch(`${coordinator.url}/api/blobs/${sha(data)}`);
    expect(Buffer.from(await blob.arrayBuffer()).equals(data)).toBe(true);
  }
  expect(got[3]).toMatchObject({ status: 'error' });
  expect(got[3].error).toContain('ValueError: an error after writing files');
  expect(got[4]).toMatchObject({ status: 'error' });
  expect(got[4].error).toBe('the chunk wrote 40 MiB under /work/out/, more than the 32 MiB allowed per chunk');
  expect(got[5]).toMatchObject({ status: 'error' });
  expect(got[5].error).toContain('timed out after 3000 ms');

  // Only this tab's (now empty) directory is left in OPFS.
  await expect.poll(() => opfsTree(tab.page)).toEqual([expect.stringMatching(/^idle-sense-work$/), expect.stringMatching(/^idle-sense-work\/tab-[0-9a-f-]+$/)]);
  await tab.context.close();
});

test('stale workspace directories are swept when the page starts; an open tab keeps its own', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${coordinator.url}/`);
  // The page sweeps before it creates its own tab directory: once that exists, its start-up sweep is over.
  await expect.poll(async () => (await opfsTree(page)).some((p) => /^idle-sense-work\/tab-/.test(p))).toBe(true);
  await page.evaluate(async () => {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('idle-sense-work', { create: true });
    const stale = await (await root.getDirectoryHandle('tab-crashed', { create: true })).getDirectoryHandle('chunk-l1', { create: true });
    await (await stale.getFileHandle('left-over.txt', { create: true })).createWritable().then((w) => w.close());
  });
  expect(await opfsTree(page)).toContain('idle-sense-work/tab-crashed/chunk-l1/left-over.txt');
  const second = await context.newPage(); // a second tab of the same browser profile
  await second.goto(`${coordinator.url}/`);
  await expect.poll(() => opfsTree(second)).not.toContain('idle-sense-work/tab-crashed');
  const tabs = (await opfsTree(second)).filter((p) => /^idle-sense-work\/tab-/.test(p));
  expect(tabs).toHaveLength(2); // the first tab's directory survives: that tab is still open
  await context.close();
});
