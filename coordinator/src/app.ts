// createApp builds the whole coordinator as a Hono app from its parts. Only main.ts binds a port; tests call
// `app.request()` directly.
import { Hono, type Context } from 'hono';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, errorMessage } from '../../protocol/index.js';
import { BlobStore } from './blobs/blob-store.js';
import { systemClock, type Clock } from './clock.js';
import { defaultConfig, type CoordinatorConfig } from './config.js';
import { JobNotices } from './events.js';
import { limitBodySize } from './http/body.js';
import { UNKNOWN_ADDRESS, clientAddress } from './http/client-address.js';
import { rateLimit, sameSiteWrites } from './http/guards.js';
import { errorBody, handleError } from './http/errors.js';
import { submitterAuth } from './http/submitter-auth.js';
import { PythonPackages } from './packages/python-packages.js';
import { sharedPythonSyntaxChecker, type PythonSyntaxChecker } from './python/syntax-check.js';
import { blobRoutes } from './routes/blobs.js';
import { packageRoutes } from './routes/packages.js';
import { contributorRoutes } from './routes/contributors.js';
import { jobRoutes } from './routes/jobs.js';
import { siteRoutes } from './routes/site.js';
import type { Store } from './store/store.js';

export interface AppDeps {
  store: Store;
  clock: Clock;
  config: CoordinatorConfig;
  notices: JobNotices;
  blobs: BlobStore;
  /** The package source job `packages` load from (--python-packages), scanned once at start. */
  pythonPackages: PythonPackages;
  /** Compiles submitted Python scripts with the tab's Pyodide (started on first use). */
  pythonSyntax: PythonSyntaxChecker;
}

export interface AppOptions {
  store: Store;
  clock?: Clock;
  config?: Partial<CoordinatorConfig>;
  notices?: JobNotices;
  /** Where blobs live; by default a fresh temporary directory. */
  blobs?: BlobStore;
  /** By default the process's shared checker, started on the first Python submission. */
  pythonSyntax?: PythonSyntaxChecker;
}

export function createApp(options: AppOptions) {
  const config = defaultConfig(options.config);
  const deps: AppDeps = {
    store: options.store,
    clock: options.clock ?? systemClock,
    config,
    notices: options.notices ?? new JobNotices(),
    blobs: options.blobs ?? new BlobStore(mkdtempSync(join(tmpdir(), 'idle-sense-blobs-')), config.maxBlobBytes),
    pythonPackages: PythonPackages.open(config.pythonPackagesDir),
    pythonSyntax: options.pythonSyntax ?? sharedPythonSyntaxChecker({ indexURL: config.pyodideDir }),
  };
  const app = new Hono();
  app.onError(handleError);

  app.use('*', async function isolation(c, next) {
    await next();
    // Cross-origin isolation: required for SharedArrayBuffer in the contributor's workers.
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Embedder-Policy', 'require-corp');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header('X-Content-Type-Options', 'nosniff');
  });

  // Writes only from this coordinator's own pages or from clients that are not browsers; floods refused per address.
  app.use(
    '/api/*',
    // Blob bodies are raw bytes of any type (`curl --data-binary` labels them as a form); Origin and Sec-Fetch-Site
    // still refuse a foreign page's upload.
    sameSiteWrites({ bodyTypes: (path) => (path.startsWith('/api/blobs') ? undefined : ['application/json']) }),
  );
  // Requests without a socket (app.request() in tests) are not limited.
  const address = (c: Context) => {
    const value = clientAddress(c, config.trustProxy);
    return value === UNKNOWN_ADDRESS ? undefined : value;
  };
  app.use('/api/*', rateLimit({ what: 'API requests', perSecond: config.rateLimitPerS, burst: 2 * config.rateLimitPerS, key: address }));
  app.on('POST', '/api/contributors', rateLimit({ what: 'registrations', perSecond: config.registerPerMin / 60, burst: config.registerPerMin, key: address }));

  // Who the submitter is (a key, or in open mode its network); routes read c.get('principal').
  const submitters = submitterAuth({
    mode: config.auth,
    trustProxy: config.trustProxy,
    verify: async (key) => {
      const found = await deps.store.findApiKey(key);
      return found && { id: found.id, admin: found.admin, ...(found.quota ? { quota: found.quota } : {}) };
    },
  });
  app.use('/api/jobs', submitters);
  app.use('/api/jobs/*', submitters);
  app.use('/api/blobs', submitters);
  app.use('/api/blobs/*', submitters);

  const jsonBodyLimit = limitBodySize(deps.config.maxBodyBytes);
  app.use('/api/jobs/*', jsonBodyLimit);
  app.use('/api/contributors/*', jsonBodyLimit);

  app.get('/healthz', async (c) => {
    await deps.store.listJobs({ limit: 1 });
    return c.json({ ok: true, store: deps.config.store });
  });
  app.route('/api/jobs', jobRoutes(deps));
  app.route('/api/contributors', contributorRoutes(deps));
  app.route('/api/blobs', blobRoutes(deps));
  app.route('/python-packages', packageRoutes(deps.pythonPackages));
  app.all('/api/*', (c) => c.json(errorBody(ErrorCode.NotFound, errorMessage(ErrorCode.NotFound, `${c.req.method} ${c.req.path}`)), 404));
  app.route('/', siteRoutes(deps));
  return { app, deps };
}
