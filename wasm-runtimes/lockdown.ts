// Takes away a runtime worker's network and storage capabilities before any user code can run in it, so a chunk
// cannot act as the contributor, read the page's data or reach other origins. The page holds every credential; the
// coordinator's Content-Security-Policy on the worker scripts is the second wall (connect-src 'self', worker-src 'none').
//
// What stays: `fetch`, but only GET/HEAD of same-origin runtime files (Pyodide itself, package wheels), which the
// runtimes load lazily; postMessage to the page (the Comlink channel); WebAssembly; Atomics. JS `eval` and
// `new Function` stay defined but are refused by the worker CSP (no 'unsafe-eval'), which also covers the
// constructors reachable from any function's prototype.

/** Global names replaced by stand-ins that throw a clear error when used. */
const DISABLED_CONSTRUCTORS = [
  'XMLHttpRequest',
  'WebSocket',
  'WebSocketStream',
  'WebTransport',
  'EventSource',
  'Worker',
  'SharedWorker',
  'BroadcastChannel',
  'FontFace',
  'ServiceWorker',
  'CookieStore',
  'StorageBucketManager',
  'LockManager',
  'GPU',
  'GPUAdapter',
  'GPUDevice',
] as const;
const DISABLED_FUNCTIONS = [
  'importScripts',
  'webkitRequestFileSystem',
  'webkitRequestFileSystemSync',
  'webkitResolveLocalFileSystemURL',
  'webkitResolveLocalFileSystemSyncURL',
] as const;
const DISABLED_OBJECTS = ['indexedDB', 'caches', 'fonts', 'cookieStore'] as const;
/**
 * Navigator capabilities: storage (OPFS root, quota), storage buckets (IndexedDB/OPFS/caches by another door), Web
 * Locks (a channel between workers and the page), WebGPU (the Python worker never needs a GPU; ONNX has its own
 * worker), and device APIs.
 */
const DISABLED_NAVIGATOR = ['storage', 'storageBuckets', 'locks', 'gpu', 'serviceWorker', 'permissions', 'usb', 'hid', 'serial', 'bluetooth', 'ml'] as const;

export interface LockdownOptions {
  /** Path prefixes (same origin only) that `fetch` may still GET, e.g. ["/pyodide/", "/python-packages/"]. */
  allowedFetchPrefixes: string[];
}

/** The error every disabled capability throws. */
export function capabilityError(what: string): TypeError {
  return new TypeError(`idle-sense: ${what} is disabled for chunks (a chunk gets its input and returns its result; it has no network or storage access)`);
}

/** An object whose every method throws `capabilityError(what)`: `typeof` checks still see an object. */
function disabledObject(what: string): object {
  return new Proxy(Object.freeze({}), {
    get(_target, property) {
      if (typeof property === 'symbol' || property === 'then') return undefined;
      return () => {
        throw capabilityError(`${what}.${property}`);
      };
    },
  });
}

/** A stand-in that throws whether it is called or constructed (`new Worker(...)`, `importScripts(...)`). */
function disabledFunction(name: string): (...args: unknown[]) => never {
  const disabled = function () {
    throw capabilityError(name);
  };
  Object.defineProperty(disabled, 'name', { value: name });
  return disabled;
}

/**
 * Replaces `name` on `scope` and on every prototype of its chain that defines it, so the original cannot be reached
 * through `Object.getOwnPropertyDescriptor(WorkerGlobalScope.prototype, name)` either.
 */
function replace(scope: object, name: string, value: unknown): boolean {
  let replaced = false;
  for (let target: object | null = scope; target; target = Object.getPrototypeOf(target)) {
    if (target !== scope && !Object.prototype.hasOwnProperty.call(target, name)) continue;
    if (target === scope && !(name in scope)) continue;
    try {
      Object.defineProperty(target, name, { value, writable: false, configurable: false, enumerable: false });
      replaced = true;
    } catch {
      // A non-configurable original: shadowing it on the instance (done first) is what counts.
    }
  }
  return replaced;
}

/**
 * Locks down `scope` (a worker's global object). Returns the names it disabled. Call once, before user code runs.
 * @example
 * lockDown(self, { allowedFetchPrefixes: ['/pyodide/', '/python-packages/'] });
 * // later, in a chunk: fetch('https://example.com') → TypeError: idle-sense: fetch of https://example.com/ is disabled…
 */
export function lockDown(scope: typeof globalThis, options: LockdownOptions): string[] {
  const disabled: string[] = [];
  const location = (scope as { location?: { href: string } }).location;
  const base = location?.href ?? 'http://localhost/';
  const origin = new URL(base).origin;
  const realFetch = typeof scope.fetch === 'function' ? scope.fetch.bind(scope) : undefined;

  const guardedFetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : (input as Request).url;
    const url = new URL(raw, base);
    const method = (init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
    const allowed =
      realFetch &&
      url.origin === origin &&
      (method === 'GET' || method === 'HEAD') &&
      options.allowedFetchPrefixes.some((prefix) => url.pathname.startsWith(prefix));
    if (!allowed) throw capabilityError(`fetch of ${url.href}`);
    return realFetch(url.href, init);
  };
  if (replace(scope, 'fetch', guardedFetch)) disabled.push('fetch (except runtime files)');

  for (const name of DISABLED_CONSTRUCTORS) if (replace(scope, name, disabledFunction(name))) disabled.push(name);
  for (const name of DISABLED_FUNCTIONS) if (replace(scope, name, disabledFunction(name))) disabled.push(name);
  for (const name of DISABLED_OBJECTS) if (replace(scope, name, disabledObject(name))) disabled.push(name);

  const navigator = (scope as { navigator?: object }).navigator;
  for (const name of DISABLED_NAVIGATOR) {
    if (navigator && name in navigator && replace(navigator, name, disabledObject(`navigator.${name}`))) disabled.push(`navigator.${name}`);
  }
  return disabled;
}
