// Ambient names the site's type check needs from code it imports but does not own.

/**
 * wasm-runtimes/python/environment.ts (shared by Node and browser) probes `typeof process` to detect Node.
 * The site must not see Node's types, so only the shape that probe reads is declared here.
 */
declare const process: { versions?: { node?: string } } | undefined;
