// Content-Security-Policy for the scripts that become the contributor's runtime workers, and for the pages. A worker's CSP
// is the one delivered with its script, so this is what confines user code even if the in-worker lockdown were bypassed:
// connections only to this origin, scripts only from it (plus WebAssembly compilation), no nested workers.
import { createMiddleware } from 'hono/factory';

export const WORKER_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "connect-src 'self'",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

/** Adds WORKER_CSP to JavaScript responses (harmless on modules a page imports: CSP headers bind documents and workers). */
export function workerCsp() {
  return createMiddleware(async function workerContentSecurityPolicy(c, next) {
    await next();
    if (/\.m?js$/.test(c.req.path)) c.header('Content-Security-Policy', WORKER_CSP);
  });
}

/**
 * Content-Security-Policy for the pages: scripts, styles, connections and workers from this origin only, no inline
 * script (the built pages load their modules by URL), no framing (clickjacking the Start button), no plugins.
 * The page compiles no WebAssembly itself (the workers do), so it gets no 'wasm-unsafe-eval'.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Adds PAGE_CSP (and X-Frame-Options for browsers without frame-ancestors) to HTML responses. */
export function pageCsp() {
  return createMiddleware(async function pageContentSecurityPolicy(c, next) {
    await next();
    if ((c.res.headers.get('Content-Type') ?? '').startsWith('text/html')) {
      c.header('Content-Security-Policy', PAGE_CSP);
      c.header('X-Frame-Options', 'DENY');
    }
  });
}
