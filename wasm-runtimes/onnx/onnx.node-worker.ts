// Node worker_threads worker: the same OnnxRuntime as in the browser, exposed with Comlink over nodeEndpoint.
// Started through node-worker.mjs, which first teaches the worker to load TypeScript.
/// <reference path="../python/comlink-node-adapter.d.ts" />
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { OnnxRuntime } from './onnx-runtime.js';

if (!parentPort) throw new Error('onnx.node-worker.ts must run inside a worker thread');
Comlink.expose(new OnnxRuntime(), nodeEndpoint(parentPort));
