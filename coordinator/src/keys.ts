// `npm run keys -- create NAME [--admin] [quotas] | list | set-quota ID|NAME quotas | revoke ID|NAME [--data-dir DIR]`:
// manages submitters' API keys and their quotas in the coordinator's SQLite database (the same data dir the
// coordinator uses; it may be running). A key is printed once, at creation; only its hash is stored. With `--store memory` there is no database to share: the coordinator
// prints a fresh admin key when it starts in keys mode instead.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from './store/sqlite.js';
import type { Quota, QuotaName, QuotaUsage } from './domain/quota.js';
import type { ApiKey, QuotaChange, Store } from './store/store.js';

export const KEYS_USAGE = `Usage: npm run keys -- <command> [--data-dir DIR]

  create NAME [--admin] [QUOTAS]   make a key (printed once); an admin key may cancel and read every job
  list                             show every key (id, name, admin, created, revoked) with its quotas and usage
  set-quota ID|NAME QUOTAS         change a live key's quotas (it may be in use; applies to its next request)
  revoke ID|NAME                   revoke a key: requests with it are refused from then on

  QUOTAS, each a number, 0 or unlimited (no limit), or default (set-quota only: back to the coordinator's default):
  --max-jobs N            unfinished (queued or running) jobs at once
  --max-chunks-per-day N  chunks submitted in any 24 hours (a rolling window; cancelled jobs still count)
  --max-blob-mb N         MiB of blobs stored, in all (blobs are never deleted; re-uploading one costs nothing)
  A quota left out follows the coordinator's default (its --key-max-jobs, --key-max-chunks-per-day,
  --key-max-blob-mb; none unless set); admin keys have no limit unless given their own. Past a quota a request gets
  429 QUOTA_EXCEEDED naming it, its limit and the usage, and nothing of it is kept.

  --data-dir DIR          the coordinator's data dir (env DATA_DIR, default ./data)
`;

const QUOTA_FLAGS: Record<string, { name: QuotaName; scale: number; whole: boolean }> = {
  'max-jobs': { name: 'jobs', scale: 1, whole: true },
  'max-chunks-per-day': { name: 'chunksPerDay', scale: 1, whole: true },
  'max-blob-mb': { name: 'blobBytes', scale: 1024 * 1024, whole: false },
};

/** The quota flags given, as a change: a number (0 = no limit) or null for `default`. */
function quotaChange(values: Record<string, unknown>, allowDefault: boolean): QuotaChange {
  const change: QuotaChange = {};
  for (const [flag, { name, scale, whole }] of Object.entries(QUOTA_FLAGS)) {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) continue;
    if (raw === 'default') {
      if (!allowDefault) throw new Error(`--${flag} default: a new key follows the coordinator's default when the flag is left out`);
      change[name] = null;
      continue;
    }
    const value = raw === 'unlimited' ? 0 : Number(raw);
    if (raw === '' || !Number.isFinite(value) || value < 0 || (whole && !Number.isInteger(value))) {
      throw new Error(`--${flag} must be a ${whole ? 'whole ' : ''}number >= 0, unlimited${allowDefault ? ' or default' : ''}, got "${raw}"`);
    }
    change[name] = Math.round(value * scale);
  }
  return change;
}

/** Runs one keys command against `store`; returns the lines to print, or throws with a readable message. */
export async function runKeysCommand(store: Store, args: string[], now: number): Promise<string[]> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      admin: { type: 'boolean' },
      'max-jobs': { type: 'string' },
      'max-chunks-per-day': { type: 'string' },
      'max-blob-mb': { type: 'string' },
    },
    strict: true,
  });
  const [command, name, ...extra] = positionals;
  if (extra.length) throw new Error(`unexpected arguments: ${extra.join(' ')}`);
  const quotaFlags = Object.keys(QUOTA_FLAGS).filter((flag) => (values as Record<string, unknown>)[flag] !== undefined);
  if (quotaFlags.length && command !== 'create' && command !== 'set-quota') throw new Error(`--${quotaFlags[0]} goes with create or set-quota`);
  if (values.admin && command !== 'create') throw new Error('--admin goes with create');
  switch (command) {
    case 'create': {
      if (!name) throw new Error('create needs a NAME');
      if ((await store.listApiKeys()).some((k) => k.name === name && !k.revokedAt)) throw new Error(`a live key is already named "${name}"`);
      const quota = quotaChange(values, false) as Quota;
      const { key, secret } = await store.createApiKey({ name, admin: values.admin ?? false, quota }, now);
      return [`created ${describe(key)}`, `  ${describeQuota(key, await store.quotaUsage(key.id, now))}`, `key (shown once, keep it): ${secret}`];
    }
    case 'list': {
      const keys = await store.listApiKeys();
      if (!keys.length) return ['no keys'];
      const lines: string[] = [];
      for (const key of keys) lines.push(describe(key), `  ${describeQuota(key, await store.quotaUsage(key.id, now))}`);
      return lines;
    }
    case 'set-quota': {
      if (!name) throw new Error('set-quota needs an ID or NAME');
      if (!quotaFlags.length) throw new Error('set-quota needs at least one of --max-jobs, --max-chunks-per-day, --max-blob-mb');
      const key = await store.setApiKeyQuota(name, quotaChange(values, true));
      if (!key) throw new Error(`no live key with id or name "${name}"`);
      return [`quota of ${describe(key)}`, `  ${describeQuota(key, await store.quotaUsage(key.id, now))}`];
    }
    case 'revoke': {
      if (!name) throw new Error('revoke needs an ID or NAME');
      const key = await store.revokeApiKey(name, now);
      if (!key) throw new Error(`no live key with id or name "${name}"`);
      return [`revoked ${describe(key)}`];
    }
    default:
      throw new Error(command ? `unknown command "${command}"` : 'no command given');
  }
}

function describe(key: ApiKey): string {
  const flags = [key.admin ? 'admin' : '', key.revokedAt ? `revoked ${new Date(key.revokedAt).toISOString()}` : ''].filter(Boolean);
  return `${key.id}  ${key.name}  created ${new Date(key.createdAt).toISOString()}${flags.length ? `  (${flags.join(', ')})` : ''}`;
}

/**
 * Usage against each quota: `jobs 2/5  chunks/24h 300/default  blob MiB 1.5/unlimited`. "default" is the running
 * coordinator's --key-max-* (this command cannot see its flags); an admin key without its own quota has no limit.
 */
export function describeQuota(key: ApiKey, usage: QuotaUsage): string {
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  const parts: [QuotaName, string, (n: number) => string][] = [
    ['jobs', 'jobs', String],
    ['chunksPerDay', 'chunks/24h', String],
    ['blobBytes', 'blob MiB', mib],
  ];
  return parts
    .map(([name, label, show]) => {
      const own = key.quota?.[name];
      const limit = own === undefined ? (key.admin ? 'unlimited' : 'default') : own === 0 ? 'unlimited' : show(own);
      return `${label} ${show(usage[name])}/${limit}`;
    })
    .join('  ');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--data-dir');
  const dataDir = resolve(at >= 0 ? argv[at + 1] ?? '' : process.env.DATA_DIR ?? 'data');
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
  if (rest.includes('--help') || rest.length === 0) {
    console.log(KEYS_USAGE);
    process.exit(rest.length === 0 ? 2 : 0);
  }
  // The coordinator may be running and writing a job: leave its chunks alone.
  const store = new SqliteStore({ file: join(dataDir, 'idle-sense.db'), sweep: false });
  try {
    for (const line of await runKeysCommand(store, rest, Date.now())) console.log(line);
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${KEYS_USAGE}`);
    process.exitCode = 2;
  } finally {
    await store.close();
  }
}
