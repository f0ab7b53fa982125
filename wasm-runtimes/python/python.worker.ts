// Browser module worker: one PythonRuntime, exposed with Comlink. Spawned by spawnBrowserPythonWorker (browser.ts).
import * as Comlink from 'comlink';
import { PythonRuntime } from './python-runtime.js';

Comlink.expose(new PythonRuntime());
