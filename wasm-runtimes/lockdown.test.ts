// The allow-list lockdown on a synthetic worker global (Node has no WorkerGlobalScope): what is not listed goes, on the
// object and on its prototypes; well-known capabilities become stand-ins.
// The real worker is covered in Chromium by e2e/sandbox.spec.ts and e2e/hostile.spec.ts.
import { describe, expect, it } from 'vitest';
import { hardenAfterLoad, lockDown } from './lockdown.js';
import { verdict } from './host/sandbox-probe.js';

/** A global shaped like a worker's: own interface objects, a "WorkerGlobalScope.prototype" with accessors, navigator. */
function fakeWorkerGlobal() {
  const navigatorProto = { userAgent: 'test', storage: { getDirectory() {} }, usb: {}, deviceMemory: 8 };
  const navigator = Object.create(navigatorProto) as object;
  const scopeProto = {
    fetch: () => Promise.resolve('real fetch'),
    setTimeout,
    createImageBitmap() {},
    get navigator() {
      return navigator;
    },
    get location() {
      return { href: 'http://127.0.0.1:8080/assets/worker.js' };
    },
  };
  const scope = Object.create(scopeProto) as Record<string, unknown>;
  Object.assign(scope, { Object, Array, JSON, WebSocket: class {}, OffscreenCanvas: class {}, GPUDevice: class {}, someNewApi: {} });
  return { scope, scopeProto, navigator, navigatorProto };
}

describe('lockDown', () => {
  it('keeps allow-listed names, deletes the rest on the global and its prototypes, and puts stand-ins on the global', () => {
    const { scope, scopeProto, navigator, navigatorProto } = fakeWorkerGlobal();
    const report = lockDown(scope as unknown as typeof globalThis, { allowedFetchPrefixes: ['/pyodide/'] });

    expect(Object.keys(scope).sort()).toEqual(['Array', 'JSON', 'Object']);
    for (const name of ['OffscreenCanvas', 'GPUDevice', 'someNewApi', 'createImageBitmap']) expect(name in scope, name).toBe(false);
    // The original fetch is gone from the prototype, not only shadowed.
    expect(Object.getOwnPropertyDescriptor(scopeProto, 'fetch')).toBeUndefined();
    expect(() => (scope.fetch as (url: string) => unknown)('http://evil.example/')).toThrow(/idle-sense: fetch of http:\/\/evil\.example\/ is disabled for chunks/);
    expect(() => new (scope.WebSocket as new () => unknown)()).toThrow(/idle-sense: WebSocket is disabled for chunks/);
    expect('setTimeout' in scope && 'navigator' in scope && 'location' in scope).toBe(true);

    expect((navigator as { userAgent: string }).userAgent).toBe('test');
    expect('deviceMemory' in navigator).toBe(false);
    expect(Object.getOwnPropertyDescriptor(navigatorProto, 'storage')).toBeUndefined();
    expect(() => (navigator as { storage: { getDirectory(): unknown } }).storage.getDirectory()).toThrow(/idle-sense: navigator\.storage\.getDirectory is disabled/);
    expect(report.removed).toEqual(expect.arrayContaining(['OffscreenCanvas', 'someNewApi', 'createImageBitmap', 'navigator.deviceMemory']));
    expect(report.standIns).toEqual(expect.arrayContaining(['fetch', 'WebSocket', 'navigator.storage', 'navigator.usb']));
  });

  it('lets the guarded fetch read same-origin runtime files only, with GET or HEAD', async () => {
    const { scope } = fakeWorkerGlobal();
    lockDown(scope as unknown as typeof globalThis, { allowedFetchPrefixes: ['/pyodide/'] });
    const fetch = scope.fetch as (url: string, init?: { method: string }) => Promise<unknown>;
    await expect(fetch('/pyodide/pyodide.asm.wasm')).resolves.toBe('real fetch');
    expect(() => fetch('/api/jobs')).toThrow(/fetch of http:\/\/127\.0\.0\.1:8080\/api\/jobs is disabled/);
    expect(() => fetch('/pyodide/x', { method: 'POST' })).toThrow(/is disabled/);
    expect(() => fetch('http://other.example/pyodide/x')).toThrow(/is disabled/);
  });

  it('hardenAfterLoad refuses a scope that was not locked down (the freeze itself runs in Chromium: it would freeze this process)', () => {
    const { scope } = fakeWorkerGlobal();
    expect(() => hardenAfterLoad(scope as unknown as typeof globalThis)).toThrow(/call lockDown on this scope first/);
  });
});

describe('sandbox probe verdict', () => {
  it('passes only when every check was refused, and names what was allowed', () => {
    const refused = (name: string) => ({ name, refused: true, detail: '' });
    expect(verdict({ checks: [refused('eval'), refused('fetch')], ms: 3 })).toMatchObject({ ok: true, problem: '' });
    const bad = verdict({ checks: [refused('eval'), { name: 'fetch', refused: false, detail: 'not blocked' }], ms: 3 });
    expect(bad.ok).toBe(false);
    expect(bad.problem).toMatch(/does not enforce the sandbox's Content-Security-Policy \(it allowed fetch in a test worker\)/);
    expect(verdict({ checks: [], ms: 0 }).ok).toBe(false);
  });
});
