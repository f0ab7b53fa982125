// A hostile job cannot reach another job or the host through the worker it runs in. (1) Everything one job plants in
// its worker (Python builtins, sys.modules, the harness's own functions, pyodide_js, JS listeners, globalThis and
// Object.prototype) is gone for the next, different job on the same tabs, whose replicas then agree on its own,
// correct outputs. (2) Comlink-shaped messages a chunk dispatches to its own global reach no host, no port is
// reachable from the chunk's realm, and a chunk cannot post to the page.
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

// Job A: plants, in every chunk, everything a job could leave behind to read or forge a later job's chunks. Each
// plant is made so that, were it still there, job B's outputs would be forged (identically on every tab, so that
// replicas would agree) or B would see it.
const PLANTER = String.raw`
import builtins
import json
import sys
import types
import js
import pyodide_js
from pyodide.ffi import create_proxy

A_MARK = True
STOLEN = []

def attempt(plant_one):
    try:
        plant_one()
    except Exception:
        pass

def plant():
    if getattr(builtins, "POISON", None):
        return
    builtins.POISON = "A"
    builtins.sum = lambda *args, **kwargs: -1
    sys.modules["__main__"].POISON = "A"
    fake = types.ModuleType("json")
    fake.FAKE = True
    fake.dumps = lambda *args, **kwargs: '"forged by A"'
    fake.loads = json.loads
    sys.modules["json"] = fake

    # The harness's own functions: run_chunk looks _call up at call time, so this wrapper would run every later
    # job's chunks and replace their outputs.
    harness = sys._getframe(2).f_globals
    original_call = harness["_call"]
    def forging_call(job, value):
        result = original_call(job, value)
        if getattr(job.module, "A_MARK", False):
            return result
        return (True, None, None, '"forged by A"', "", "")
    harness["_call"] = forging_call
    harness["POISON"] = "A"

    # pyodide_js: spy on every workspace mounted after this one.
    original_mount = pyodide_js.mountNativeFS
    def spying_mount(path, handle):
        STOLEN.append(handle)
        return original_mount(path, handle)
    attempt(lambda: setattr(pyodide_js, "mountNativeFS", create_proxy(spying_mount)))
    attempt(lambda: setattr(pyodide_js, "POISON", "A"))

    # JS: listeners for whatever reaches the worker, a forging JSON.parse, globals and a polluted prototype. The
    # worker's global and intrinsics are frozen before user code (lockdown.ts hardenAfterLoad), so most of these
    # fail already; each is tried on its own, and whatever did take must still be gone for job B.
    def listen(event):
        STOLEN.append(event.data)
    attempt(lambda: js.self.addEventListener("message", create_proxy(listen)))
    attempt(lambda: setattr(js.self, "onmessage", create_proxy(listen)))
    original_parse = js.JSON.parse
    def forging_parse(text, *rest):
        return original_parse(text) if text.startswith('"A:') else "forged by A"
    attempt(lambda: setattr(js.JSON, "parse", create_proxy(forging_parse)))
    attempt(lambda: setattr(js.globalThis, "POISON", "A"))
    attempt(lambda: setattr(js.globalThis, "stolen", js.Array.new()))
    attempt(lambda: js.Object.defineProperty(js.Object.prototype, "polluted", js.Object.fromEntries([["value", "A"]])))

def main(x):
    plant()
    return "A:" + str(x)
`;

// Job B: reports every trace of A it can find, and computes a value the test checks.
const VICTIM = String.raw`
import builtins
import json
import sys
import js
import pyodide_js

def main(x):
    seen = []
    if hasattr(builtins, "POISON"):
        seen.append("builtins")
    if sum([1, 2]) != 3:
        seen.append("builtins.sum")
    if getattr(sys.modules.get("__main__"), "POISON", None):
        seen.append("__main__")
    if getattr(json, "FAKE", False) or json.dumps([1]) != "[1]":
        seen.append("sys.modules json")
    if sys._getframe(2).f_globals.get("POISON"):
        seen.append("harness")
    if hasattr(pyodide_js, "POISON"):
        seen.append("pyodide_js")
    if js.Reflect.has(js.globalThis, "POISON") or js.Reflect.has(js.globalThis, "stolen"):
        seen.append("globalThis")
    if str(js.Object.prototype.toString.call(js.Reflect.get(js.globalThis, "onmessage"))) not in ("[object Null]", "[object Undefined]"):
        seen.append("onmessage")
    if js.Reflect.has(js.Object.new(), "polluted"):
        seen.append("Object.prototype")
    return {"x": x, "square": x * x, "seen": seen}
`;

test('a later, different job on the same tabs sees nothing an earlier job planted and its replicas agree on its own outputs', async ({ browser }) => {
  // Two contributors, one thread each: every chunk of both jobs runs on both tabs (2 replicas, quorum 2), so a
  // worker poisoned on each would make the forged outputs agree and pass as verified.
  const a = await submitJob(coordinator.url, { name: 'planter', source: PLANTER, inputs: [0, 1, 2], replicas: 2, maxAttempts: 1, maxErrors: 1 });
  const tabs = [await contribute(browser, coordinator.url, 1), await contribute(browser, coordinator.url, 1)];
  const doneA = await waitForJob(coordinator.url, a.id, (j) => j.status === 'completed' || j.status === 'failed', 180_000);
  expect(doneA.status).toBe('completed');
  const gotA = await results(coordinator.url, a.id);
  expect(gotA.map((r) => [r.status, r.output, r.verified])).toEqual([0, 1, 2].map((x) => ['ok', `A:${x}`, true]));

  const inputs = [3, 4, 5, 6];
  const b = await submitJob(coordinator.url, { name: 'victim', source: VICTIM, inputs, replicas: 2, maxAttempts: 1, maxErrors: 1 });
  const doneB = await waitForJob(coordinator.url, b.id, (j) => j.status === 'completed' || j.status === 'failed', 180_000);
  const gotB = await results(coordinator.url, b.id);
  expect(gotB.map((r) => [r.status, r.output, r.verified, r.agreeing])).toEqual(
    inputs.map((x) => ['ok', { x, square: x * x, seen: [] }, true, 2]),
  );
  expect(doneB.status).toBe('completed');
  for (const tab of tabs) await tab.context.close();
});

// Each input is one step; they run in order on one thread, one worker (one job). A reply or request from a host
// would arrive between chunks, so `outcome` looks at what arrived only after several more chunks ran.
const SELF_DISPATCH = String.raw`
import js
import pyodide_js
from pyodide.ffi import create_proxy, to_js

arrived = []
KEEP = []

def record(source):
    def on_message(event):
        data = event.data
        # Our own dispatched probes carry probe=1; anything else came from someone else.
        if not (hasattr(data, "probe") and data.probe == 1):
            arrived.append(source + ": " + str(js.JSON.stringify(data)))
    return create_proxy(on_message)

def message(data, ports=()):
    init = js.Object.new()
    init.data = to_js(dict(data, probe=1), dict_converter=js.Object.fromEntries)
    init.ports = to_js(list(ports))
    return js.MessageEvent.new("message", init)

def is_port(value):
    return str(js.Object.prototype.toString.call(value)) == "[object MessagePort]"

def reachable_ports():
    found = []
    for scope_name, scope in (("globalThis", js.globalThis), ("pyodide_js", pyodide_js)):
        for name in js.Reflect.ownKeys(scope):
            try:
                if is_port(js.Reflect.get(scope, name)):
                    found.append(scope_name + "." + str(name))
            except Exception:
                pass
    return found

def main(step):
    if step == "no-port-reachable":
        return {"ports": reachable_ports(), "onmessage": str(js.Object.prototype.toString.call(js.Reflect.get(js.globalThis, "onmessage")))}
    if step == "capture-replies":
        # Where a host on self would post its replies: take postMessage over. It is gone, so this fails.
        try:
            js.Object.defineProperty(js.globalThis, "postMessage", js.Object.fromEntries([["value", record("postMessage")], ["writable", True]]))
        except Exception as e:
            arrived.append("could not take postMessage over")
        js.self.addEventListener("message", record("self listener"))
        return "listening"
    if step == "self-dispatch":
        channel = js.MessageChannel.new()
        channel.port1.onmessage = record("reply port")
        KEEP.append(channel.port1)  # keep it alive (the global is frozen: nothing can be added to it)
        js.self.dispatchEvent(message({"id": "get-root", "type": "GET", "path": []}))
        js.self.dispatchEvent(message({"id": "get-run", "type": "GET", "path": ["run"]}))
        js.self.dispatchEvent(message({"id": "endpoint", "type": "ENDPOINT"}))
        js.self.dispatchEvent(message({"id": "set", "type": "SET", "path": ["run"], "value": to_js({"type": "RAW", "value": 1}, dict_converter=js.Object.fromEntries)}))
        # A request whose argument is a port: a host serving this would call back through it.
        proxy_arg = to_js({"type": "HANDLER", "name": "proxy", "value": channel.port2}, dict_converter=js.Object.fromEntries)
        js.self.dispatchEvent(message({"id": "apply-run", "type": "APPLY", "path": ["run"], "argumentList": [proxy_arg]}, [channel.port2]))
        js.self.dispatchEvent(message({"id": "garbage", "type": "nonsense", "path": "not a path"}))
        return "dispatched"
    if step == "post-to-page":
        return js.self.postMessage(to_js({"id": "forged", "type": "RAW", "value": "forged"}, dict_converter=js.Object.fromEntries))
    if step == "post-after-delete":
        # postMessage is an own property of a worker's global (WebIDL [Global]): no prototype keeps the original, and
        # the stand-in cannot be deleted to uncover one.
        js.Reflect.deleteProperty(js.globalThis, "postMessage")
        return js.Reflect.apply(js.Reflect.get(js.globalThis, "postMessage"), js.globalThis, ["garbage"])
    if step == "idle":
        return "idle"
    if step == "outcome":
        return arrived
    if step == "dispatch-dispose":
        js.self.dispatchEvent(message({"id": "dispose", "type": "APPLY", "path": ["dispose"], "argumentList": []}))
        return "dispatched"
    if step == "alive":
        return "alive"
    raise ValueError(step)
`;

test('Comlink messages a chunk dispatches to its own global reach no host, no port is reachable, nothing reaches the page', async ({ browser }) => {
  const steps = ['no-port-reachable', 'capture-replies', 'self-dispatch', 'post-to-page', 'post-after-delete', 'idle', 'idle', 'outcome', 'dispatch-dispose', 'idle', 'alive'];
  const job = await submitJob(coordinator.url, { name: 'self dispatch', source: SELF_DISPATCH, inputs: steps, maxAttempts: 1, maxErrors: 1, timeoutMs: 15_000 });
  const tab = await contribute(browser, coordinator.url, 1);
  const pageErrors: string[] = [];
  tab.page.on('pageerror', (err) => pageErrors.push(err.message));
  // A host reachable from the chunk can be wedged by these requests: then the steps' own results say what happened.
  const ended = await waitForJob(coordinator.url, job.id, (j) => j.status === 'completed' || j.status === 'failed', 120_000).catch(() => undefined);
  const got = await results(coordinator.url, job.id);
  console.log(`[self dispatch] ${JSON.stringify(got.map((r) => [steps[r.index], r.status, r.output ?? r.error]))}`);
  const at = (step: string) => got[steps.indexOf(step)];

  // Nothing on globalThis or pyodide_js is a MessagePort, and the worker has no onmessage handler.
  // No handler: null, or (the allow-listed global, lockdown.ts) no onmessage property at all.
  expect(at('no-port-reachable')).toMatchObject({ status: 'ok', output: { ports: [] } });
  expect(['[object Null]', '[object Undefined]']).toContain((at('no-port-reachable').output as { onmessage: string }).onmessage);
  expect(at('capture-replies')).toMatchObject({ status: 'ok', output: 'listening' });
  expect(at('self-dispatch')).toMatchObject({ status: 'ok', output: 'dispatched' });
  expect(at('post-to-page').status).toBe('error');
  expect(at('post-to-page').error).toMatch(/idle-sense: postMessage is disabled for chunks/);
  expect(at('post-after-delete').status).toBe('error');
  expect(at('post-after-delete').error).toMatch(/idle-sense: postMessage is disabled for chunks/);
  // No reply on self, on the reply port or through a taken-over postMessage; no callback through the port argument.
  expect(at('outcome')).toMatchObject({ status: 'ok', output: ['could not take postMessage over'] });
  // A dispatched "dispose" reached no runtime: the same worker still runs the job's chunks.
  expect(at('alive')).toMatchObject({ status: 'ok', output: 'alive' });
  expect(ended?.status).toBe('completed');

  // The tab goes on with another job.
  const after = await submitJob(coordinator.url, { source: 'def main(x):\n    return x * 10\n', inputs: [1, 2] });
  await waitForJob(coordinator.url, after.id, (j) => j.status === 'completed', 60_000);
  expect((await results(coordinator.url, after.id)).map((r) => r.output)).toEqual([10, 20]);
  expect(pageErrors).toEqual([]);
  await tab.context.close();
});
