// The sandbox around user code, proven in real Chromium against a spy server on another port that counts every
// TCP connection, HTTP request and WebSocket upgrade it gets:
// (a) a hostile job tries every way out it can reach from Python and through `js`; each fails with a clear error and
//     the spy sees nothing;
// (b) the probe worker (the worker CSP without the in-worker lockdown) shows that the browser itself refuses eval,
//     new Function, importScripts, import(), FontFace and connections to another origin; the spy sees nothing;
// (c) a chunk's global, its prototype chain and navigator hold only allow-listed names, and a chunk cannot
//     monkey-patch a built-in for the harness or the next chunk.
import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { ALLOWED_GLOBALS, ALLOWED_NAVIGATOR } from '../wasm-runtimes/lockdown.js';
import { startCoordinator, waitForJob, type RunningCoordinator } from './coordinator.js';
import { contribute, results, submitJob } from './helpers.js';

interface Spy {
  url: string;
  seen: string[];
  close(): Promise<void>;
}

/** An HTTP server on its own port that records every connection, request and upgrade, and answers permissively. */
async function startSpy(): Promise<Spy> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin', 'content-type': 'text/javascript' });
    res.end('self.leaked = true;');
  });
  server.on('connection', (socket) => seen.push(`connection from ${socket.remotePort}`));
  server.on('upgrade', (req, socket) => {
    seen.push(`upgrade ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let coordinator: RunningCoordinator;
let spy: Spy;
test.beforeAll(async () => {
  coordinator = await startCoordinator({ store: 'memory' });
  spy = await startSpy();
});
test.afterAll(async () => {
  await coordinator?.stop();
  await spy?.close();
});

// Every way out a chunk can reach. Each input names one; the chunk reports how it ended (never the attack's result),
// and asynchronous attempts leave their outcome in `stash` for the last chunk to report.
const ESCAPES = String.raw`
import asyncio
import js
import pyodide_js
from pyodide.ffi import to_js

stash = {}

def later(name, promise):
    def done(value):
        stash[name] = "resolved: " + str(value)
    def failed(error):
        stash[name] = "refused: " + str(error)
    promise.then(done, failed)

def main(arg):
    kind, spy = arg
    if kind == "outcomes":
        return {**stash, "loaded": list(pyodide_js.loadedPackages.object_keys())}
    try:
        result = attempt(kind, spy)
        return "scheduled" if result is None else "LEAK: " + str(result)
    except Exception as err:
        return "refused: " + type(err).__name__ + ": " + str(err)

def attempt(kind, spy):
    ws = spy.replace("http", "ws")
    if kind == "js.fetch":
        return js.fetch(spy + "/fetch")
    if kind == "js.fetch(Request)":
        return js.fetch(js.Request.new(spy + "/request"))
    if kind == "fetch POST to own origin":
        return js.fetch("/pyodide/x", to_js({"method": "POST"}, dict_converter=js.Object.fromEntries))
    if kind == "XMLHttpRequest":
        xhr = js.XMLHttpRequest.new()
        xhr.open("GET", spy + "/xhr")
        return xhr.send()
    if kind == "WebSocket":
        return js.WebSocket.new(ws + "/ws")
    if kind == "WebSocketStream":
        return js.WebSocketStream.new(ws + "/wss")
    if kind == "EventSource":
        return js.EventSource.new(spy + "/sse")
    if kind == "WebTransport":
        return js.WebTransport.new("https://127.0.0.1:1/wt")
    if kind == "importScripts":
        return js.importScripts(spy + "/import-scripts.js")
    if kind == "FontFace":
        return js.FontFace.new("x", "url(" + spy + "/font.woff2)").load()
    if kind == "fonts":
        return js.fonts.add(None)
    if kind == "Worker":
        return js.Worker.new(spy + "/worker.js")
    if kind == "navigator.sendBeacon":
        return js.navigator.sendBeacon(spy + "/beacon", "x")
    if kind == "open_url":
        from pyodide.http import open_url
        return open_url(spy + "/open-url")
    if kind == "pyfetch":
        from pyodide.http import pyfetch
        async def go():
            try:
                await pyfetch(spy + "/pyfetch")
                stash[kind] = "LEAK: fetched"
            except Exception as err:
                stash[kind] = "refused: " + str(err)
        asyncio.ensure_future(go())
        return None
    if kind == "loadPackage(url)":
        later(kind, pyodide_js.loadPackage(spy + "/x-1.0-py3-none-any.whl"))
        raise RuntimeError("started")
    if kind == "import() via eval":
        return js.eval("import('" + spy + "/import.mjs')")
    if kind == "import() via Function":
        return js.Function.new("return import('" + spy + "/import.mjs')")()
    if kind == "import() via pyodide internals":
        api = getattr(pyodide_js, "_api", None)
        load = getattr(api, "loadScript", None) if api is not None else None
        if load is None:
            raise LookupError("no loader reachable")
        later(kind, load(spy + "/load-script.mjs"))
        raise RuntimeError("started")
    if kind == "run_js":
        from pyodide.code import run_js
        return run_js("fetch('" + spy + "/run-js')")
    if kind == "OffscreenCanvas":
        return js.OffscreenCanvas.new(1, 1).getContext("webgl")
    if kind == "indexedDB":
        return js.indexedDB.open("x")
    if kind == "caches":
        return js.caches.open("x")
    if kind == "storage":
        return js.navigator.storage.getDirectory()
    raise ValueError(kind)
`;

/** Each escape and how the chunk must say it was refused. */
const ESCAPE_ATTEMPTS: [string, RegExp][] = [
  ['js.fetch', /^refused: JsException: TypeError: idle-sense: fetch of http:\/\/127\.0\.0\.1:\d+\/fetch is disabled/],
  ['js.fetch(Request)', /^refused: JsException: TypeError: idle-sense: fetch of http:\/\/127\.0\.0\.1:\d+\/request is disabled/],
  ['fetch POST to own origin', /^refused: JsException: TypeError: idle-sense: fetch of http:\/\/127\.0\.0\.1:\d+\/pyodide\/x is disabled/],
  ['XMLHttpRequest', /^refused: JsException: TypeError: idle-sense: XMLHttpRequest is disabled/],
  ['WebSocket', /^refused: JsException: TypeError: idle-sense: WebSocket is disabled/],
  ['WebSocketStream', /^refused: JsException: TypeError: idle-sense: WebSocketStream is disabled/],
  ['EventSource', /^refused: JsException: TypeError: idle-sense: EventSource is disabled/],
  ['WebTransport', /^refused: JsException: TypeError: idle-sense: WebTransport is disabled/],
  ['importScripts', /^refused: JsException: TypeError: idle-sense: importScripts is disabled/],
  ['FontFace', /^refused: JsException: TypeError: idle-sense: FontFace is disabled/],
  ['fonts', /^refused: JsException: TypeError: idle-sense: fonts\.add is disabled/],
  ['Worker', /^refused: JsException: TypeError: idle-sense: Worker is disabled/],
  // Not a worker API at all; if a browser ever adds it, it must be on the allow-list to appear.
  ['navigator.sendBeacon', /^refused: AttributeError: sendBeacon/],
  ['open_url', /^refused: JsException: TypeError: idle-sense: XMLHttpRequest is disabled/],
  ['pyfetch', /^scheduled$/], // its outcome is checked in "outcomes"
  ['loadPackage(url)', /^refused: RuntimeError: started$/],
  ['import() via eval', /^refused: JsException: EvalError: .*Content Security Policy/],
  ['import() via Function', /^refused: JsException: EvalError: .*Content Security Policy/],
  ['import() via pyodide internals', /^refused: (LookupError: no loader reachable|RuntimeError: started)$/],
  ['run_js', /^refused: JsException: EvalError: .*Content Security Policy/],
  ['OffscreenCanvas', /^refused: AttributeError: OffscreenCanvas/],
  ['indexedDB', /^refused: JsException: TypeError: idle-sense: indexedDB\.open is disabled/],
  ['caches', /^refused: JsException: TypeError: idle-sense: caches\.open is disabled/],
  ['storage', /^refused: JsException: TypeError: idle-sense: navigator\.storage\.getDirectory is disabled/],
];

test('a hostile job cannot reach another origin from Python or through js: every way out fails and the spy sees nothing', async ({ browser }) => {
  const kinds = [...ESCAPE_ATTEMPTS.map(([kind]) => kind), 'outcomes'];
  const job = await submitJob(coordinator.url, {
    name: 'escapes',
    source: ESCAPES,
    inputs: kinds.map((kind) => [kind, spy.url]),
    maxAttempts: 1,
    maxErrors: 1,
  });
  const tab = await contribute(browser, coordinator.url, 1);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed' || j.status === 'failed', 120_000);
  const got = await results(coordinator.url, job.id);
  console.log('SPY: ' + JSON.stringify(spy.seen)); console.log('GOT: ' + JSON.stringify(got.map((r) => r.output ?? r.error)));
  ESCAPE_ATTEMPTS.forEach(([kind, expected], index) => {
    expect(got[index], kind).toMatchObject({ status: 'ok' });
    expect(got[index].output, kind).toMatch(expected);
  });
  const outcomes = got[kinds.length - 1].output as Record<string, string>;
  expect(outcomes['pyfetch']).toMatch(/^refused: .*idle-sense: fetch of http:\/\/127\.0\.0\.1:\d+\/pyfetch is disabled/);
  // Pyodide reports a package it could not fetch through its error callback and resolves; nothing was loaded.
  expect(outcomes['loadPackage(url)']).toMatch(/^(refused|resolved): /);
  expect(outcomes['loaded']).not.toContain('x');
  if (outcomes['import() via pyodide internals']) expect(outcomes['import() via pyodide internals']).toMatch(/^refused: /);
  // Asynchronous attempts have had the whole job's run to leave; give stragglers a moment more.
  await tab.page.waitForTimeout(1_000);
  expect(spy.seen).toEqual([]);
  await tab.context.close();
});

test('the browser enforces the worker CSP by itself: the probe worker (no lockdown) is refused every way out, the spy sees nothing', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${coordinator.url}/`);
  // The page's module sets its test hook after top-level awaits (settings, OPFS): wait for it rather than race it.
  await page.waitForFunction(() => typeof (globalThis as { idleSense?: { sandboxProbe?: unknown } }).idleSense?.sandboxProbe === 'function');
  const verdict = await page.evaluate(
    (target) => (globalThis as unknown as { idleSense: { sandboxProbe(t: string): Promise<{ ok: boolean; checks: { name: string; refused: boolean; detail: string }[]; ms: number; totalMs: number }> } }).idleSense.sandboxProbe(target),
    spy.url,
  );
  console.log(`sandbox probe: ${verdict.ms.toFixed(1)} ms of checks, ${verdict.totalMs.toFixed(1)} ms with the worker's start`);
  const allowed = verdict.checks.filter((check) => !check.refused);
  if (allowed.length) console.log(`allowed by this browser: ${allowed.map((check) => `${check.name} (${check.detail})`).join('; ')}`);
  expect(verdict.checks.map((check) => check.name)).toEqual(['eval', 'new Function', 'importScripts', 'import()', 'FontFace', 'fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource']);
  for (const check of verdict.checks) expect(check, check.name).toMatchObject({ refused: true });
  expect(verdict.ok).toBe(true);
  // The page's own check (against an unresolvable origin) passed and says how long it took.
  await expect(page.getByTestId('sandbox-status')).toContainText(/Sandbox check passed: this browser refused all 9 ways out \(\d+ ms\)/);
  await expect(page.getByTestId('sandbox-error')).toBeHidden();
  await page.waitForTimeout(500);
  expect(spy.seen).toEqual([]);
  await context.close();
});

// Lists what a chunk can see, and tries to change built-ins the harness and later chunks use.
const INSPECT = String.raw`
import js
from pyodide.ffi import to_js

def names(obj):
    return [k for k in js.Reflect.ownKeys(obj) if isinstance(k, str)]

def chain(obj):
    levels = []
    while obj:
        if obj == js.Object.prototype:
            break
        levels.append(names(obj))
        obj = js.Object.getPrototypeOf(obj)
    return levels

def main(kind):
    if kind == "inspect":
        standins = {}
        for name in ["fetch", "XMLHttpRequest", "WebSocket", "importScripts", "indexedDB", "caches", "FontFace", "BroadcastChannel"]:
            try:
                stand_in = getattr(js, name)
                stand_in.open("x") if name in ("indexedDB", "caches") else stand_in("https://example.com/")
                standins[name] = "ran"
            except Exception as err:
                standins[name] = str(err)
        costs = {m.name: [m.duration, m.detail.to_py()] for m in js.performance.getEntriesByType("measure")}
        return {"global": chain(js.globalThis), "navigator": chain(js.navigator), "standins": standins, "costs": costs}
    if kind == "patch":
        tried = {}
        def attempt(name, action, took_effect):
            try:
                action()
                error = None
            except Exception as err:
                error = type(err).__name__ + ": " + str(err)
            tried[name] = "took effect" if took_effect() else (error or "ignored")
        def descriptor(**fields):
            return to_js(fields, dict_converter=js.Object.fromEntries)
        has = lambda obj, key: js.Object.prototype.hasOwnProperty.call(obj, key)
        def replaced(obj, key):
            original = js.Reflect.get(obj, key)
            return lambda: not getattr(js.Object, "is")(js.Reflect.get(obj, key), original)
        attempt("Object.prototype.x", lambda: setattr(js.Object.prototype, "x", 1), lambda: has(js.Object.prototype, "x"))
        attempt("Array.prototype.push", lambda: setattr(js.Array.prototype, "push", js.Math.max), replaced(js.Array.prototype, "push"))
        attempt("JSON.parse", lambda: setattr(js.JSON, "parse", js.Math.max), replaced(js.JSON, "parse"))
        attempt("Promise.prototype.then", lambda: js.Reflect.set(js.Promise.prototype, "then", js.Math.max), replaced(js.Promise.prototype, "then"))
        attempt("globalThis.setTimeout", lambda: setattr(js.globalThis, "setTimeout", js.Math.max), replaced(js.globalThis, "setTimeout"))
        attempt("globalThis.planted", lambda: setattr(js.globalThis, "planted", 1), lambda: has(js.globalThis, "planted"))
        attempt("EventTarget.prototype.addEventListener", lambda: setattr(js.EventTarget.prototype, "addEventListener", js.Math.max), replaced(js.EventTarget.prototype, "addEventListener"))
        attempt("Error.prepareStackTrace", lambda: setattr(js.Error, "prepareStackTrace", js.Math.max), lambda: has(js.Error, "prepareStackTrace"))
        attempt("defineProperty Object.prototype.y", lambda: js.Object.defineProperty(js.Object.prototype, "y", descriptor(value=1)), lambda: has(js.Object.prototype, "y"))
        attempt("Reflect.set Object.prototype.toString", lambda: js.Reflect.set(js.Object.prototype, "toString", js.Math.max), replaced(js.Object.prototype, "toString"))
        return tried
    if kind == "after":
        array = js.Array.new()
        array.push(7)
        return {
            "x": js.Reflect.has(js.Object.prototype, "x"),
            "y": js.Reflect.has(js.Object.prototype, "y"),
            "push": array.length,
            "parse": js.JSON.parse("[1]").length,
            "planted": js.Reflect.has(js.globalThis, "planted"),
            "own_override": own_override(),
        }
    raise ValueError(kind)

def own_override():
    # An object's own toString can still be set (no "override mistake" from the frozen Object.prototype).
    obj = js.Object.new()
    obj.toString = js.Math.max
    return js.Object.prototype.hasOwnProperty.call(obj, "toString")
`;

/** Names a chunk must not find anywhere on its global, its prototypes or navigator (denied before or since). */
const DENIED_GLOBALS = [
  'BroadcastChannel', 'FontFace', 'caches', 'indexedDB', 'IDBFactory', 'CacheStorage', 'StorageManager', 'LockManager',
  'GPU', 'OffscreenCanvas', 'WebGL2RenderingContext', 'Notification', 'FileSystemDirectoryHandle', 'StorageBucketManager',
  'createImageBitmap', 'requestAnimationFrame', 'close', 'onmessage', 'onerror', 'reportError', 'trustedTypes', 'scheduler',
];
const DENIED_NAVIGATOR = ['storageBuckets', 'locks', 'gpu', 'storage', 'usb', 'hid', 'serial', 'permissions', 'connection', 'userAgentData', 'mediaCapabilities', 'deviceMemory'];
const STAND_INS = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'WebTransport', 'EventSource', 'Worker', 'SharedWorker', 'BroadcastChannel', 'FontFace', 'importScripts', 'webkitRequestFileSystem', 'webkitRequestFileSystemSync', 'webkitResolveLocalFileSystemURL', 'webkitResolveLocalFileSystemSyncURL', 'indexedDB', 'caches', 'fonts', 'cookieStore']);
const NAVIGATOR_STAND_INS = new Set(['storage', 'storageBuckets', 'locks', 'gpu', 'serviceWorker', 'permissions', 'usb', 'hid', 'serial', 'bluetooth', 'ml']);

test('a chunk sees only allow-listed globals, and cannot patch a built-in for the harness or the next chunk', async ({ browser }) => {
  const job = await submitJob(coordinator.url, { name: 'inspect', source: INSPECT, inputs: ['inspect', 'patch', 'after'], maxAttempts: 1, maxErrors: 1 });
  const tab = await contribute(browser, coordinator.url, 1);
  await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed' || j.status === 'failed', 120_000);
  const [inspect, patch, after] = await results(coordinator.url, job.id);
  expect(inspect.status, inspect.error).toBe('ok');
  const seen = inspect.output as { global: string[][]; navigator: string[][]; standins: Record<string, string>; costs: Record<string, [number, object]> };
  console.log(`lockdown and freeze in the worker: ${JSON.stringify(seen.costs)}`);

  const globalNames = new Set(seen.global.flat());
  const navigatorNames = new Set(seen.navigator.flat());
  const allowed = new Set([...ALLOWED_GLOBALS, 'constructor']);
  expect([...globalNames].filter((name) => !allowed.has(name))).toEqual([]);
  expect([...navigatorNames].filter((name) => !ALLOWED_NAVIGATOR.includes(name) && name !== 'constructor')).toEqual([]);
  // What Pyodide, the harness and the channel to the page rely on is still there.
  for (const name of ['WebAssembly', 'TextDecoder', 'performance', 'crypto', 'setTimeout', 'postMessage', 'addEventListener', 'URL', 'Atomics', 'structuredClone', 'location', 'navigator']) {
    expect(globalNames.has(name), name).toBe(true);
  }
  // A denied name is absent, or a stand-in on the global itself (never the original, on a prototype).
  for (const name of DENIED_GLOBALS) {
    if (STAND_INS.has(name)) expect(seen.global.slice(1).flat(), name).not.toContain(name);
    else expect(globalNames.has(name), name).toBe(false);
  }
  for (const name of DENIED_NAVIGATOR) {
    if (NAVIGATOR_STAND_INS.has(name)) expect(seen.navigator.slice(1).flat(), `navigator.${name}`).not.toContain(name);
    else expect(navigatorNames.has(name), `navigator.${name}`).toBe(false);
  }
  for (const [name, outcome] of Object.entries(seen.standins)) expect(outcome, name).toMatch(new RegExp(`idle-sense: ${name}.* is disabled for chunks`));

  expect(patch.status, patch.error).toBe('ok');
  const tried = patch.output as Record<string, string>;
  // Each patch fails (a TypeError from the frozen object, or silently ignored) and changes nothing.
  expect(Object.keys(tried)).toHaveLength(10);
  for (const [name, outcome] of Object.entries(tried)) expect(outcome, name).not.toBe('took effect');
  console.log(`patch attempts: ${JSON.stringify(tried)}`);

  expect(after.status, after.error).toBe('ok');
  expect(after.output).toEqual({ x: false, y: false, push: 1, parse: 1, planted: false, own_override: true });
  expect(Object.keys(seen.costs)).toEqual(expect.arrayContaining(['idle-sense lockdown', 'idle-sense harden']));
  await tab.context.close();
});
