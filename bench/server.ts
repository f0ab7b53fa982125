// The coordinator as the dispatch bench runs it: a process of its own (so it has its own core), bound to
// 127.0.0.1 on an ephemeral port, with the same app and lease reaper as coordinator/src/main.ts.
// Usage: node --import tsx bench/server.ts --store memory|sqlite [--db FILE]
// Prints one line `{"port":N}` once listening; exits cleanly on SIGTERM (so --cpu-prof profiles get written).
import { serve } from '@hono/node-server';
import { parseArgs } from 'node:util';
import { createApp } from '../coordinator/src/app.js';
import { systemClock } from '../coordinator/src/clock.js';
import { defaultConfig } from '../coordinator/src/config.js';
import { LeaseReaper } from '../coordinator/src/reaper.js';
import { MemoryStore } from '../coordinator/src/store/memory.js';
import { SqliteStore } from '../coordinator/src/store/sqlite.js';
import type { Store } from '../coordinator/src/store/store.js';

const { values } = parseArgs({ options: { store: { type: 'string' }, db: { type: 'string' } }, strict: true });
if (values.store !== 'memory' && values.store !== 'sqlite') throw new Error('--store must be memory or sqlite');
if (values.store === 'sqlite' && !values.db) throw new Error('--store sqlite needs --db FILE');

// Limits stay on; each simulated contributor is a load generator on its own address, hence a higher request rate.
const config = defaultConfig({ store: values.store, host: '127.0.0.1', port: 0, rateLimitPerS: 5_000 });
const policy = { leaseGraceMs: config.leaseGraceMs, retryCooldownMs: config.retryCooldownMs };
const store: Store = values.store === 'memory' ? new MemoryStore(policy) : new SqliteStore({ file: values.db!, policy });
const { app, deps } = createApp({ store, clock: systemClock, config });
const reaper = new LeaseReaper(store, systemClock, deps.notices).start(config.reaperIntervalMs);

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
});

process.on('SIGTERM', () => {
  reaper.stop();
  server.close();
  void store.close().finally(() => process.exit(0));
});
