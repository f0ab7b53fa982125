// createApp builds the whole coordinator as a Hono app from its parts. Only main.ts binds a port; tests call
// `app.request()` directly.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ErrorCode, errorMessage } from '../../protocol/index.js';
import { systemClock, type Clock } from './clock.js';
import { defaultConfig, type CoordinatorConfig } from './config.js';
import { JobNotices } from './events.js';
import { errorBody, handleError } from './http/errors.js';
import { contributorRoutes } from './routes/contributors.js';
import { jobRoutes } from './routes/jobs.js';
import { siteRoutes } from './routes/site.js';
import type { Store } from './store/store.js';

export interface AppDeps {
  store: Store;
  clock: Clock;
  config: CoordinatorConfig;
  notices: JobNotices;
}

export function createApp(options: { store: Store; clock?: Clock; config?: Partial<CoordinatorConfig>; notices?: JobNotices }) {
  const deps: AppDeps = {
    store: options.store,
    clock: options.clock ?? systemClock,
    config: defaultConfig(options.config),
    notices: options.notices ?? new JobNotices(),
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

  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.config.maxBodyBytes,
      onError: (c) =>
        c.json(
          errorBody(
            ErrorCode.PayloadTooLarge,
            errorMessage(ErrorCode.PayloadTooLarge, `the limit is ${formatBytes(deps.config.maxBodyBytes)} (coordinator flag --max-body-mb)`),
          ),
          413,
        ),
    }),
  );

  app.get('/healthz', async (c) => {
    await deps.store.listJobs({ limit: 1 });
    return c.json({ ok: true, store: deps.config.store });
  });
  app.route('/api/jobs', jobRoutes(deps));
  app.route('/api/contributors', contributorRoutes(deps));
  app.all('/api/*', (c) => c.json(errorBody(ErrorCode.NotFound, errorMessage(ErrorCode.NotFound, `${c.req.method} ${c.req.path}`)), 404));
  app.route('/', siteRoutes(deps));
  return { app, deps };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}
