// The contributor's runtime worker (browser module worker): locks itself down, then exposes one RuntimeHost with
// Comlink. Every runtime lives in this one worker and is loaded on first use; a new runtime adds one factory line.
import * as Comlink from 'comlink';
import { lockDown } from '../lockdown.js';
import { RuntimeHost, type RuntimeHostOptions } from './runtime-host.js';

const scope = globalThis as typeof globalThis & { location: { href: string } };

/** Same-origin path of a runtime file URL, for the fetch allowlist ("/pyodide/"). */
const pathOf = (url: string) => new URL(url, scope.location.href).pathname;

/** Every `…URL` option names where a runtime loads its own files from: those paths stay fetchable. */
function runtimeFilePrefixes(options: RuntimeHostOptions): string[] {
  return Object.entries(options)
    .filter(([key, value]) => key.endsWith('URL') && typeof value === 'string' && value !== '')
    .map(([, value]) => pathOf(value as string));
}

class LockedRuntimeHost extends RuntimeHost {
  override async initialize(options: RuntimeHostOptions = {}): Promise<void> {
    // Before anything else: from here on, user code can only ever see the locked-down global.
    const prefixes = runtimeFilePrefixes(options);
    lockDown(globalThis, { allowedFetchPrefixes: prefixes });
    await super.initialize(options);
  }
}

Comlink.expose(
  new LockedRuntimeHost({
    python: async () => new (await import('../python/python-runtime.js')).PythonRuntime(),
  }),
);
