// `npm run keys -- create NAME [--admin] | list | revoke ID|NAME [--data-dir DIR]`: manages submitters' API keys in
// the coordinator's SQLite database (the same data dir the coordinator uses; it may be running). A key is printed
// once, at creation; only its hash is stored. With `--store memory` there is no database to share: the coordinator
// prints a fresh admin key when it starts in keys mode instead.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from './store/sqlite.js';
import type { ApiKey, Store } from './store/store.js';

export const KEYS_USAGE = `Usage: npm run keys -- <command> [--data-dir DIR]

  create NAME [--admin]   make a key (printed once); an admin key may cancel and read every job
  list                    show every key (id, name, admin, created, revoked)
  revoke ID|NAME          revoke a key: requests with it are refused from then on

  --data-dir DIR          the coordinator's data dir (env DATA_DIR, default ./data)
`;

/** Runs one keys command against `store`; returns the lines to print, or throws with a readable message. */
export async function runKeysCommand(store: Store, args: string[], now: number): Promise<string[]> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { admin: { type: 'boolean' } }, strict: true });
  const [command, name, ...extra] = positionals;
  if (extra.length) throw new Error(`unexpected arguments: ${extra.join(' ')}`);
  switch (command) {
    case 'create': {
      if (!name) throw new Error('create needs a NAME');
      if ((await store.listApiKeys()).some((k) => k.name === name && !k.revokedAt)) throw new Error(`a live key is already named "${name}"`);
      const { key, secret } = await store.createApiKey({ name, admin: values.admin ?? false }, now);
      return [`created ${describe(key)}`, `key (shown once, keep it): ${secret}`];
    }
    case 'list': {
      const keys = await store.listApiKeys();
      return keys.length ? keys.map(describe) : ['no keys'];
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--data-dir');
  const dataDir = resolve(at >= 0 ? argv[at + 1] ?? '' : process.env.DATA_DIR ?? 'data');
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
  if (rest.includes('--help') || rest.length === 0) {
    console.log(KEYS_USAGE);
    process.exit(rest.length === 0 ? 2 : 0);
  }
  const store = new SqliteStore({ file: join(dataDir, 'idle-sense.db') });
  try {
    for (const line of await runKeysCommand(store, rest, Date.now())) console.log(line);
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${KEYS_USAGE}`);
    process.exitCode = 2;
  } finally {
    await store.close();
  }
}
