// Content-Security-Policy for the scripts that become the contributor's runtime workers. A worker's CSP is the one
// delivered with its script, so this is what confines user code even if the in-worker lockdown were bypassed:
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
