// Node worker_threads worker: the same OnnxRuntime as in the browser, served with Comlink over the private port its
// spawner hands over first (host/node-channel.ts). Started through node-worker.mjs, which first teaches the worker
// to load TypeScript.
import * as Comlink from 'comlink';
import { acceptNodeChannel } from '../host/node-channel.js';
import { OnnxRuntime } from './onnx-runtime.js';

Comlink.expose(new OnnxRuntime(), await acceptNodeChannel());
