// Entry point: read settings, open the store, start the lease reaper, bind the port. Everything else is createApp.
import { serve } from '@hono/node-server';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createApp } from './app.js';
import { BlobStore } from './blobs/blob-store.js';
import { systemClock } from './clock.js';
import { USAGE, configFromArgs } from './config.js';
import { LeaseReaper } from './reaper.js';
import { MemoryStore } from './store/memory.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

let config;
try {
  config = configFromArgs(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`error: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (config.help) {
  console.log(USAGE);
  process.exit(0);
}

const policy = {
  leaseGraceMs: config.leaseGraceMs,
  retryCooldownMs: config.retryCooldownMs,
  spotCheckFloor: config.spotCheckFloor,
  distinctNetworks: config.distinctNetworks,
  maxLeasesPerContributor: config.maxLeasesPerContributor,
  hardDeadlineFactor: config.hardDeadlineFactor,
};
const dbFile = join(config.dataDir, 'idle-sense.db');
const store: Store = config.store === 'memory' ? new MemoryStore(policy) : new SqliteStore({ file: dbFile, policy });
const blobDir = config.store === 'memory' ? mkdtempSync(join(tmpdir(), 'idle-sense-blobs-')) : join(config.dataDir, 'blobs');
const blobs = new BlobStore(blobDir, config.maxBlobBytes);
// A memory store has no database for `npm run keys` to write to: keys mode then starts with one admin key.
const memoryAdminKey =
  config.auth === 'keys' && config.store === 'memory' ? (await store.createApiKey({ name: 'admin', admin: true }, Date.now())).secret : undefined;
const { app, deps } = createApp({ store, clock: systemClock, config, blobs });
const reaper = new LeaseReaper(store, systemClock, deps.notices).start(config.reaperIntervalMs);
// Warm the Python syntax check now, so the first submission does not wait for Pyodide; until it runs, Python jobs
// are refused with 503 and this reason.
deps.pythonSyntax.start().then(
  () => config.log('python syntax check ready'),
  (err: Error) => console.error(`error: ${err.message}; Python jobs will be refused until it starts`),
);

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  const where = config.store === 'memory' ? 'in memory (lost on exit)' : dbFile;
  console.log(`idle-sense coordinator listening on http://localhost:${info.port}`);
  console.log(`  contribute: http://localhost:${info.port}/    submit: http://localhost:${info.port}/submit`);
  console.log(`  state: ${where}`);
  console.log(`  auth: ${config.auth}${config.auth === 'keys' ? ' (submitting needs Authorization: Bearer <key>)' : ''}`);
  const quota = config.keyQuota;
  const limits = [
    quota.jobs && `${quota.jobs} unfinished jobs`,
    quota.chunksPerDay && `${quota.chunksPerDay} chunks per 24 h`,
    quota.blobBytes && `${(quota.blobBytes / 1024 / 1024).toFixed(1)} MiB of blobs`,
  ].filter(Boolean);
  console.log(`  quotas per ${config.auth === 'keys' ? 'key' : 'submitter network'} without its own: ${limits.length ? limits.join(', ') : 'none'}`);
  if (memoryAdminKey) console.log(`  admin key for this run (memory store: npm run keys cannot reach it): ${memoryAdminKey}`);
});
server.on('error', (err: NodeJS.ErrnoException) => {
  console.error(err.code === 'EADDRINUSE' ? `error: port ${config.port} is in use; pick another with --port` : err);
  process.exit(1);
});

let closing = false;
function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  console.log(`${signal}: shutting down`);
  reaper.stop();
  server.close();
  void store.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
