// Browser module worker: one OnnxRuntime, exposed with Comlink. Spawned by spawnBrowserOnnxWorker (browser.ts).
// A multi-runtime worker (phase 2) exposes the same OnnxRuntime next to PythonRuntime and creates it lazily.
import * as Comlink from 'comlink';
import { OnnxRuntime } from './onnx-runtime.js';

Comlink.expose(new OnnxRuntime());
