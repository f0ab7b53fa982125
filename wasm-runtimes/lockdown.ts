// Shrinks a runtime worker's global object to an allow-list before any user code can run in it, then freezes what is
// left, so a chunk can neither act as the contributor (network, storage, devices) nor leave code behind for the
// harness or a later chunk to run (monkey-patched built-ins). The coordinator's Content-Security-Policy on the worker
// scripts is the second wall (connect-src 'self', script-src 'self', worker-src 'none'); the contribute page checks
// that the browser enforces it before it runs any job (host/sandbox-probe.ts).
//
// Two steps, because Pyodide must load between them:
// 1. `lockDown` (first thing in the worker): every global, and every property of the global's prototype chain and of
//    `navigator`, that is not on the allow-list is deleted; well-known capabilities get a stand-in that throws a
//    clear error instead (`fetch` becomes a GET/HEAD-only fetch of same-origin runtime files).
// 2. `hardenAfterLoad` (after the runtime has loaded, before the first chunk): the global and everything reachable
//    from it (intrinsics, their prototypes, the allowed Web API classes) is frozen.
// JS `eval` and `new Function` stay defined but are refused by the worker CSP (no 'unsafe-eval'), which also covers
// the constructors reachable from any function's prototype.

/**
 * ECMAScript built-ins. Everything the language defines stays: Pyodide's JS side and user code through `js` rely on
 * them, and none reaches outside the worker.
 */
const LANGUAGE_GLOBALS = [
  'Object', 'Function', 'Array', 'Number', 'parseFloat', 'parseInt', 'Infinity', 'NaN', 'undefined', 'Boolean', 'String',
  'Symbol', 'Date', 'Promise', 'RegExp', 'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError',
  'SyntaxError', 'TypeError', 'URIError', 'SuppressedError', 'globalThis', 'JSON', 'Math', 'Intl', 'ArrayBuffer',
  'SharedArrayBuffer', 'Atomics', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array',
  'BigUint64Array', 'BigInt64Array', 'Uint8ClampedArray', 'Float16Array', 'Float32Array', 'Float64Array', 'DataView',
  'Map', 'BigInt', 'Set', 'Iterator', 'WeakMap', 'WeakSet', 'Proxy', 'Reflect', 'FinalizationRegistry', 'WeakRef',
  'DisposableStack', 'AsyncDisposableStack', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent',
  'escape', 'unescape', 'eval', 'isFinite', 'isNaN', 'WebAssembly', 'Temporal',
] as const;

/**
 * Web APIs that compute but do not communicate, and what Pyodide/emscripten, Comlink and our runtime use:
 * environment detection (`self instanceof WorkerGlobalScope`), timers and scheduling (MessageChannel), text and URL
 * handling, random numbers, clocks, the channel to the page (postMessage and message listeners), and the classes
 * behind the guarded fetch's responses.
 */
const WEB_GLOBALS = [
  'self', 'location', 'navigator', 'origin', 'name', 'isSecureContext', 'crossOriginIsolated', 'performance', 'crypto',
  'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'structuredClone',
  'atob', 'btoa', 'postMessage', 'addEventListener', 'removeEventListener', 'dispatchEvent',
  'WorkerGlobalScope', 'DedicatedWorkerGlobalScope', 'EventTarget', 'Event', 'MessageEvent', 'ErrorEvent',
  'MessageChannel', 'MessagePort', 'DOMException', 'AbortController', 'AbortSignal',
  'TextEncoder', 'TextDecoder', 'TextEncoderStream', 'TextDecoderStream', 'URL', 'URLSearchParams',
  'Blob', 'File', 'Headers', 'Request', 'Response', 'ReadableStream', 'ReadableStreamDefaultReader',
  'ReadableStreamBYOBReader', 'ReadableStreamDefaultController', 'ReadableByteStreamController',
  'ReadableStreamBYOBRequest', 'WritableStream', 'WritableStreamDefaultWriter', 'WritableStreamDefaultController',
  'TransformStream', 'TransformStreamDefaultController', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
  'CompressionStream', 'DecompressionStream',
  // Legacy file-system constants (0 and 1): non-configurable on DedicatedWorkerGlobalScope.prototype, so they stay.
  'TEMPORARY', 'PERSISTENT',
] as const;

/**
 * Well-known capabilities that get a stand-in rather than vanishing, so a chunk that tries one learns why it failed
 * instead of seeing "X is not defined". Constructors and functions throw when called or constructed.
 */
const STAND_IN_FUNCTIONS = [
  'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'WebTransport', 'EventSource', 'Worker', 'SharedWorker',
  'BroadcastChannel', 'FontFace', 'importScripts', 'webkitRequestFileSystem', 'webkitRequestFileSystemSync',
  'webkitResolveLocalFileSystemURL', 'webkitResolveLocalFileSystemSyncURL',
] as const;
/** Well-known capability objects whose every method throws. */
const STAND_IN_OBJECTS = ['indexedDB', 'caches', 'fonts', 'cookieStore'] as const;

/** What a chunk may read about the contributor's browser: nothing that stores, locks, or reaches a device. */
const NAVIGATOR_ALLOWED = [
  'userAgent', 'hardwareConcurrency', 'language', 'languages', 'onLine', 'platform', 'appCodeName', 'appName',
  'appVersion', 'product',
] as const;
/**
 * Navigator capabilities that get a throwing stand-in: storage (OPFS root, quota), storage buckets (IndexedDB/OPFS/
 * caches by another door), Web Locks (a channel between workers and the page), WebGPU (the Python worker never needs
 * a GPU; ONNX has its own worker), and device APIs.
 */
const NAVIGATOR_STAND_INS = ['storage', 'storageBuckets', 'locks', 'gpu', 'serviceWorker', 'permissions', 'usb', 'hid', 'serial', 'bluetooth', 'ml'] as const;

/** Every global name a chunk may find on the worker's global object or its prototypes (stand-ins included). */
export const ALLOWED_GLOBALS: readonly string[] = [...LANGUAGE_GLOBALS, ...WEB_GLOBALS, 'fetch', ...STAND_IN_FUNCTIONS, ...STAND_IN_OBJECTS];
/** Every name a chunk may find on `navigator` or its prototypes (stand-ins included). */
export const ALLOWED_NAVIGATOR: readonly string[] = [...NAVIGATOR_ALLOWED, ...NAVIGATOR_STAND_INS];

export interface LockdownOptions {
  /** Path prefixes (same origin only) that `fetch` may still GET, e.g. ["/pyodide/", "/python-packages/"]. */
  allowedFetchPrefixes: string[];
  /** More global names to keep (a worker that runs no user code but needs, say, Cache Storage). */
  alsoAllow?: string[];
}

export interface LockdownReport {
  /** Names deleted from the global, its prototypes or navigator ("navigator.x" for the latter). */
  removed: string[];
  /** Names replaced by a throwing stand-in (or, for fetch, the guarded fetch). */
  standIns: string[];
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

/** `object` and its prototypes below Object.prototype, nearest first. */
function chainOf(object: object): object[] {
  const chain: object[] = [];
  for (let target: object | null = object; target && target !== Object.prototype; target = Object.getPrototypeOf(target)) chain.push(target);
  return chain;
}

/**
 * Keeps `allowed` names on `object` and its prototypes, deletes the rest, and puts `standIns` on `object` itself.
 * A property that cannot be deleted (non-configurable) is shadowed with `undefined` on `object` if possible; one that
 * can be neither is an error, since it would be a hole in the allow-list.
 */
function restrict(object: object, allowed: Set<string>, standIns: Map<string, unknown>, label: string, report: LockdownReport): void {
  for (const target of chainOf(object)) {
    for (const key of Reflect.ownKeys(target)) {
      if (typeof key === 'symbol' || (key === 'constructor' && target !== object) || allowed.has(key)) continue;
      if (standIns.has(key)) {
        if (target !== object) Reflect.deleteProperty(target, key);
        continue;
      }
      if (Reflect.deleteProperty(target, key)) report.removed.push(label + key);
      else if (target === object || !Reflect.defineProperty(object, key, { value: undefined, writable: false, configurable: false })) {
        throw new Error(`lockdown: could not remove ${label}${key}`);
      } else report.removed.push(label + key);
    }
  }
  for (const [name, value] of standIns) {
    for (const target of chainOf(object)) if (target !== object) Reflect.deleteProperty(target, name);
    if (!Reflect.defineProperty(object, name, { value, writable: false, configurable: false, enumerable: false })) {
      throw new Error(`lockdown: could not replace ${label}${name}`);
    }
    report.standIns.push(label + name);
  }
}

/**
 * Reduces `scope` (a worker's global object) to the allow-list. Call once, before user code and before the runtime
 * loads (so the runtime captures only what is allowed); then `hardenAfterLoad` once the runtime has loaded.
 * @example
 * lockDown(self, { allowedFetchPrefixes: ['/pyodide/', '/python-packages/'] });
 * // later, in a chunk: fetch('https://example.com') → TypeError: idle-sense: fetch of https://example.com/ is disabled…
 */
export function lockDown(scope: typeof globalThis, options: LockdownOptions): LockdownReport {
  const started = performance.now();
  const report: LockdownReport = { removed: [], standIns: [] };
  const location = (scope as { location?: { href: string } }).location;
  const base = location?.href ?? 'http://localhost/';
  const origin = new URL(base).origin;
  const realFetch = typeof scope.fetch === 'function' ? scope.fetch.bind(scope) : undefined;

  const guardedFetch = function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : String((input as Request | undefined)?.url ?? input);
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

  const globalStandIns = new Map<string, unknown>([['fetch', guardedFetch]]);
  for (const name of STAND_IN_FUNCTIONS) if (name in scope) globalStandIns.set(name, disabledFunction(name));
  for (const name of STAND_IN_OBJECTS) if (name in scope) globalStandIns.set(name, disabledObject(name));
  const allowedGlobals = new Set<string>([...LANGUAGE_GLOBALS, ...WEB_GLOBALS, ...(options.alsoAllow ?? [])]);
  for (const name of options.alsoAllow ?? []) globalStandIns.delete(name);

  const navigator = (scope as { navigator?: object }).navigator;
  if (navigator) {
    const navigatorStandIns = new Map<string, unknown>();
    for (const name of NAVIGATOR_STAND_INS) if (name in navigator) navigatorStandIns.set(name, disabledObject(`navigator.${name}`));
    restrict(navigator, new Set(NAVIGATOR_ALLOWED), navigatorStandIns, 'navigator.', report);
  }
  restrict(scope, allowedGlobals, globalStandIns, '', report);
  allowedAfterLoad.set(scope, new Set([...allowedGlobals, ...globalStandIns.keys()]));
  // On the worker's own timeline (nothing secret), so a test chunk can report what the lockdown costs.
  performance.measure('idle-sense lockdown', { start: started, detail: { removed: report.removed.length, standIns: report.standIns.length } });
  return report;
}

/** Per locked-down scope, the global names that may remain once the runtime has loaded. */
const allowedAfterLoad = new WeakMap<object, Set<string>>();

/**
 * Data properties on shared prototypes that code commonly assigns on its own objects (`this.name = ...` in an Error
 * subclass, `obj.toString = ...`). Frozen as plain data properties they would make those assignments throw (the
 * "override mistake"), so they become accessors whose setter defines the property on the object assigned to and
 * refuses to change the prototype itself.
 */
const OVERRIDABLE: [() => object, string[] | '*'][] = [
  [() => Object.prototype, '*'],
  [() => Function.prototype, ['toString', 'constructor']],
  [() => Error.prototype, ['name', 'message', 'toString', 'constructor']],
  ...['EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError'].map(
    (name): [() => object, string[]] => [() => (globalThis as unknown as Record<string, { prototype: object }>)[name].prototype, ['name', 'message', 'constructor']],
  ),
  [() => Promise.prototype, ['constructor']],
  [() => Array.prototype, ['toString', 'constructor']],
  [() => Object.getPrototypeOf(Uint8Array.prototype) as object, ['toString', 'constructor']],
];

function enableOverride(prototype: object, key: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
  if (!descriptor || !('value' in descriptor) || !descriptor.configurable) return;
  const value: unknown = descriptor.value;
  Object.defineProperty(prototype, key, {
    get: function () {
      return value;
    },
    set: function (this: object, next: unknown) {
      if (this === prototype) throw new TypeError(`idle-sense: cannot change ${key} of a frozen prototype`);
      Object.defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
    },
    enumerable: descriptor.enumerable,
    configurable: false,
  });
}

/**
 * Intrinsics that no global property leads to directly (they hang off syntax): generator and async function
 * prototypes and the iterator prototypes.
 */
function hiddenIntrinsics(): object[] {
  const generator = function* () {};
  const asyncGenerator = async function* () {};
  const asyncFunction = async function () {};
  return [
    Object.getPrototypeOf(generator),
    Object.getPrototypeOf(asyncGenerator),
    Object.getPrototypeOf(asyncFunction),
    Object.getPrototypeOf([][Symbol.iterator]()),
    Object.getPrototypeOf(new Map()[Symbol.iterator]()),
    Object.getPrototypeOf(new Set()[Symbol.iterator]()),
    Object.getPrototypeOf(''[Symbol.iterator]()),
    Object.getPrototypeOf('a'.matchAll(/a/g)),
    Object.getPrototypeOf(asyncGenerator.prototype),
  ];
}

/**
 * Properties left writable after the freeze. V8's `Error.stackTraceLimit` is set and restored by Pyodide around every
 * Python exception it converts; it only tunes stack traces.
 */
const STAY_WRITABLE = new Map<object, string[]>([[Error, ['stackTraceLimit']]]);

export interface HardenReport {
  /** How many objects were frozen. */
  frozen: number;
  /** How long the freeze took, in ms. */
  ms: number;
}

/**
 * Freezes `scope` and everything reachable from it through properties, accessors and prototypes: the global's
 * remaining properties become non-writable and non-configurable, no global can be added, and no built-in or allowed
 * Web API class (its constructor, prototype and methods) can be changed. Call after the runtime has loaded (it adds
 * to some of these while loading) and before any user code runs.
 * @example
 * lockDown(self, { allowedFetchPrefixes: ['/pyodide/'] });
 * await loadPyodide();
 * hardenAfterLoad(self); // now `Object.prototype.x = 1` in a chunk changes nothing
 */
export function hardenAfterLoad(scope: typeof globalThis): HardenReport {
  const started = performance.now();
  // Whatever the runtime added to the global while loading is not for chunks either.
  const allowed = allowedAfterLoad.get(scope);
  if (!allowed) throw new Error('hardenAfterLoad: call lockDown on this scope first');
  for (const key of Reflect.ownKeys(scope)) if (typeof key === 'string' && !allowed.has(key)) Reflect.deleteProperty(scope, key);
  for (const [of, keys] of OVERRIDABLE) {
    const prototype = of();
    for (const key of keys === '*' ? Object.getOwnPropertyNames(prototype) : keys) if (key !== '__proto__') enableOverride(prototype, key);
  }
  const seen = new Set<unknown>();
  const queue: unknown[] = [scope, ...hiddenIntrinsics()];
  const navigator = (scope as { navigator?: object }).navigator;
  queue.push(navigator, scope.location, scope.performance, scope.crypto);
  while (queue.length) {
    const value = queue.pop();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
    seen.add(value);
    queue.push(Object.getPrototypeOf(value));
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(value, key)!;
      queue.push(descriptor.value, descriptor.get, descriptor.set);
    }
    freeze(value);
  }
  performance.measure('idle-sense harden', { start: started, detail: { frozen: seen.size } });
  return { frozen: seen.size, ms: performance.now() - started };
}

/** Object.freeze, except for STAY_WRITABLE properties; objects that refuse (none known) are left as they are. */
function freeze(value: object): void {
  const writable = STAY_WRITABLE.get(value);
  if (!writable) {
    try {
      Object.freeze(value);
    } catch {
      // An exotic object (a Proxy stand-in over a frozen target is already frozen); nothing to do.
    }
    return;
  }
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'string' && writable.includes(key)) continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(value, key)!;
    Reflect.defineProperty(value, key, 'value' in descriptor ? { writable: false, configurable: false } : { configurable: false });
  }
  Object.preventExtensions(value);
}
