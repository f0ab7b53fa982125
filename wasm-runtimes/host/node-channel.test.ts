// The private channel of Node runtime workers (node-channel.ts) against a real worker thread: the worker answers on
// its private port only, nothing it posts to its parent is read, and a worker handed anything else first refuses to
// start.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { afterEach, expect, test } from 'vitest';
import { overNodeChannel } from './node-channel.js';
import type { SpawnedWorker } from './thread.js';

const FIXTURE = new URL('./fixtures/channel.node-worker.mjs', import.meta.url);

interface Served {
  double(x: number): number;
  hijack(): string;
}

const spawned: SpawnedWorker[] = [];
afterEach(() => {
  for (const worker of spawned.splice(0)) worker.terminate();
});

function start(): { worker: Worker; handle: SpawnedWorker; remote: Comlink.Remote<Served> } {
  const worker = new Worker(FIXTURE);
  const handle = overNodeChannel(worker);
  spawned.push(handle);
  return { worker, handle, remote: Comlink.wrap<Served>(handle.endpoint) };
}

test('the worker serves Comlink on its private port', async () => {
  const { remote } = start();
  expect(await remote.double(21)).toBe(42);
});

test('a Comlink request on the worker\'s own channel gets no answer; the private port still does', async () => {
  const { worker, remote } = start();
  expect(await remote.double(1)).toBe(2); // the handover is done
  const answers: unknown[] = [];
  worker.on('message', (message) => answers.push(message));
  worker.postMessage({ id: 'probe-get', type: 'GET', path: ['double'] });
  worker.postMessage({ id: 'probe-apply', type: 'APPLY', path: ['double'], argumentList: [{ type: 'RAW', value: 5 }] });
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(answers).toEqual([]);
  expect(await remote.double(4)).toBe(8);
});

test('code in the worker listening on its parent channel sees no request and cannot answer one', async () => {
  const { remote } = start();
  // Were requests still on parentPort, the hijacker would see each one and answer it before the real reply.
  expect(await remote.hijack()).toBe('listening');
  expect(await remote.double(3)).toBe(6);
  expect(await remote.double(5)).toBe(10);
});

test('a worker whose first message is not the handover refuses to start', async () => {
  const worker = new Worker(FIXTURE);
  spawned.push({ endpoint: undefined as never, terminate: () => void worker.terminate() });
  worker.postMessage({ type: 'GET', path: [] });
  const [error] = (await once(worker, 'error')) as [Error];
  expect(error.message).toMatch(/the first message to a runtime worker must hand over its private channel/);
});

test('a dead worker is reported through `exited`', async () => {
  const { handle, worker } = start();
  await worker.terminate();
  await expect(handle.exited).resolves.toMatch(/exit code/);
});
