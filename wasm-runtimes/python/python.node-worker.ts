// Node worker_threads worker: the same PythonRuntime as in the browser, served with Comlink over the private port
// its spawner hands over first (host/node-channel.ts). Started through node-worker.mjs, which first teaches the
// worker to load TypeScript.
import * as Comlink from 'comlink';
import { acceptNodeChannel } from '../host/node-channel.js';
import { PythonRuntime } from './python-runtime.js';

Comlink.expose(new PythonRuntime(), await acceptNodeChannel());
