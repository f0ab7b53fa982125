// The one place that knows where we run: Node (tests, runner) or a browser worker. Everything environment-specific
// about loading Pyodide and sharing memory is decided here.
import type { PyodideAPI } from 'pyodide';

export const IN_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Where Pyodide's files are served in the browser (the coordinator serves node_modules/pyodide there). */
export const BROWSER_PYODIDE_URL = '/pyodide/';

/**
 * True when a SharedArrayBuffer can be handed to a worker: always in Node; in browsers only on
 * cross-origin-isolated pages (elsewhere the constructor is missing or postMessage refuses it).
 */
export function canShareMemory(): boolean {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return typeof SharedArrayBuffer === 'function' && isolated !== false;
}

type LoadPyodide = (typeof import('pyodide'))['loadPyodide'];

/**
 * Loads Pyodide. Node: the `pyodide` package (it finds its own files). Browser: `pyodide.mjs` from `indexURL`,
 * imported at run time so the bundler leaves the 10 MB runtime alone. With `packageIndexURL` (a directory holding
 * `pyodide-lock.json` and wheels; a path in Node), `loadPackage` takes packages from there.
 */
export async function loadPyodideHere(indexURL?: string, packageIndexURL?: string): Promise<PyodideAPI> {
  if (IN_NODE) {
    const specifier = 'pyodide'; // a variable, so Vite does not try to bundle it for the browser
    const { loadPyodide } = (await import(/* @vite-ignore */ specifier)) as { loadPyodide: LoadPyodide };
    const packages = packageIndexURL ? { lockFileURL: `${packageIndexURL.replace(/\/?$/, '/')}pyodide-lock.json`, packageCacheDir: packageIndexURL } : {};
    return loadPyodide({ ...(indexURL ? { indexURL } : {}), ...packages });
  }
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const base = new URL(indexURL ?? BROWSER_PYODIDE_URL, page).href;
  const packageBase = packageIndexURL ? new URL(packageIndexURL, page).href : undefined;
  const packages = packageBase ? { lockFileURL: `${packageBase}pyodide-lock.json`, packageBaseUrl: packageBase } : {};
  const { loadPyodide } = (await import(/* @vite-ignore */ base + 'pyodide.mjs')) as { loadPyodide: LoadPyodide };
  return loadPyodide({ indexURL: base, ...packages });
}
