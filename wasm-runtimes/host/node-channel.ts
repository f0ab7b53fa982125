// The private channel in Node (worker_threads), as host/private-channel.ts does it in the browser: the spawning side
// transfers one end of a fresh MessageChannel as the worker's first message; the worker takes it with a one-shot
// listener and serves Comlink on it. Not `workerData`: that stays readable by any code in the worker for its whole
// life. Nothing answers on `parentPort` afterwards and the host never listens to the Worker's own `message` events.
// Node workers are not a sandbox (user code there can reach Node's modules); the future headless runner brings its
// own. This keeps the host's side of the protocol the same in both environments.
/// <reference path="../python/comlink-node-adapter.d.ts" />
import { MessageChannel, MessagePort, Worker, parentPort } from 'node:worker_threads';
import type * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { PRIVATE_CHANNEL_MESSAGE, type PrivateChannelHandover } from './channel-protocol.js';
import type { SpawnedWorker } from './thread.js';

/**
 * Starts `entry` as a worker thread and returns it as RuntimeThread needs it, reached over its private port.
 * @example
 * export const spawnNodePythonWorker = () => spawnNodeWorker(new URL('./node-worker.mjs', import.meta.url), 'idle-sense python');
 */
export function spawnNodeWorker(entry: URL, name: string): SpawnedWorker {
  return overNodeChannel(new Worker(entry, { name }));
}

/** A just-created worker thread as RuntimeThread needs it: its private port, its death, its end. */
export function overNodeChannel(worker: Worker): SpawnedWorker {
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ type: PRIVATE_CHANNEL_MESSAGE, port: port2 } satisfies PrivateChannelHandover, [port2]);
  const exited = new Promise<string>((resolve) => {
    worker.once('error', (err) => resolve(err instanceof Error ? err.message : String(err)));
    worker.once('exit', (code) => resolve(`exit code ${code}`));
  });
  // A dead worker closes its end; ours must not keep the process alive.
  void exited.then(() => port1.close());
  const terminate = () => {
    void worker.terminate();
    port1.close();
  };
  return { endpoint: nodeEndpoint(port1), terminate, exited };
}

/**
 * Worker side: resolves with the endpoint over the port the spawning side hands over first.
 * @example
 * Comlink.expose(new PythonRuntime(), await acceptNodeChannel());
 */
export function acceptNodeChannel(): Promise<Comlink.Endpoint> {
  const parent = parentPort;
  if (!parent) return Promise.reject(new Error('acceptNodeChannel() must run inside a worker thread'));
  return new Promise((resolve, reject) => {
    parent.once('message', (message: Partial<PrivateChannelHandover> | null) => {
      if (message?.type !== PRIVATE_CHANNEL_MESSAGE || !(message.port instanceof MessagePort)) {
        reject(new Error('the first message to a runtime worker must hand over its private channel'));
        return;
      }
      resolve(nodeEndpoint(message.port));
    });
  });
}
