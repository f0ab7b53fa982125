// Coordinator settings: defaults, then environment, then command-line flags (flags win).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Quota } from './domain/quota.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface CoordinatorConfig {
  port: number;
  host: string;
  store: 'sqlite' | 'memory';
  /** Who may submit: `open` (anyone who reaches the port) or `keys` (API keys from `npm run keys`). */
  auth: 'open' | 'keys';
  dataDir: string;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Largest accepted blob (model, attachment), in bytes. */
  maxBlobBytes: number;
  leaseGraceMs: number;
  retryCooldownMs: number;
  /** Adaptive replication: least share of a trusted contributor's results that is still cross-checked. */
  spotCheckFloor: number;
  /** Replicas of a chunk go to contributors on distinct networks (/24, /48) when the pool has several. */
  distinctNetworks: boolean;
  /** Most leases one contributor may hold at once (--max-leases). */
  maxLeasesPerContributor: number;
  /** A lease ends by issue time + this × timeout + grace, heartbeats or not (--lease-deadline-factor). */
  hardDeadlineFactor: number;
  /** Requests per second one client address may sustain on /api (burst: twice as many); 0 = unlimited. */
  rateLimitPerS: number;
  /** Contributor registrations per minute one client address may make (burst: as many); 0 = unlimited. */
  registerPerMin: number;
  reaperIntervalMs: number;
  /** Suggested wait for a contributor that found no work. */
  idleRetryMs: number;
  ssePollMs: number;
  siteDir: string;
  pyodideDir: string;
  /** Where job `packages` come from: a Pyodide distribution directory or a folder of wheels (--python-packages). */
  pythonPackagesDir: string;
  /** Take the client's address from the last X-Forwarded-For entry (only behind a reverse proxy you run). */
  trustProxy: boolean;
  /** New blob bytes one client address may store per hour; 0 = no allowance check. */
  blobBytesPerHour: number;
  /** Job event streams (SSE) one client address may hold open at once. */
  maxStreamsPerAddress: number;
  /** Job event streams (SSE) the coordinator holds open at once. */
  maxStreams: number;
  /**
   * Quotas of every submitter without its own (`npm run keys -- set-quota`): API keys, and in open mode each
   * submitter network. Admin keys have none unless set. Absent = no limit (--key-max-jobs, …).
   */
  keyQuota: Quota;
  log: (line: string) => void;
}

export function defaultConfig(overrides: Partial<CoordinatorConfig> = {}): CoordinatorConfig {
  return {
    port: 8080,
    host: '0.0.0.0',
    store: 'sqlite',
    auth: 'open',
    dataDir: resolve('data'),
    maxBodyBytes: 64 * 1024 * 1024,
    maxBlobBytes: 1024 * 1024 * 1024,
    leaseGraceMs: 30_000,
    retryCooldownMs: 30_000,
    spotCheckFloor: 0.1,
    distinctNetworks: true,
    maxLeasesPerContributor: 64,
    hardDeadlineFactor: 3,
    rateLimitPerS: 200,
    registerPerMin: 30,
    reaperIntervalMs: 1_000,
    idleRetryMs: 2_000,
    ssePollMs: 1_000,
    siteDir: resolve(repoRoot, 'dist'),
    pyodideDir: resolve(repoRoot, 'node_modules/pyodide'),
    pythonPackagesDir: resolve(repoRoot, 'node_modules/pyodide'),
    trustProxy: false,
    blobBytesPerHour: 4 * 1024 * 1024 * 1024,
    maxStreamsPerAddress: 16,
    maxStreams: 1_000,
    keyQuota: {},
    log: () => {},
    ...overrides,
  };
}

export const USAGE = `Usage: idle-sense coordinator [options]

  --port N            port to listen on (env PORT, default 8080)
  --host H            address to bind (env HOST, default 0.0.0.0)
  --store KIND        sqlite (default) or memory (throwaway, lost on exit)
  --auth MODE         open (default: anyone who reaches the port may submit) or keys (env AUTH): submitting,
                      cancelling and private jobs need Authorization: Bearer <key> from npm run keys -- create NAME
  --data-dir DIR      where the SQLite database lives (env DATA_DIR, default ./data)
  --max-body-mb N     largest request body in MiB (env MAX_BODY_MB, default 64)
  --max-blob-mb N     largest blob (model, attachment) in MiB (env MAX_BLOB_MB, default 1024)
  --lease-grace-s N   seconds added to a chunk's timeout before its lease expires (default 30)
  --retry-cooldown-s N  seconds before a contributor whose attempt at a chunk failed may get it again (default 30)
  --max-leases N      most leases one contributor may hold at once (env MAX_LEASES, default 64; the lease call's
                      "threads" lowers it to 4 per thread)
  --lease-deadline-factor K  a lease ends by issue + K x timeout + grace, heartbeats or not (default 3)
  --rate-limit N      API requests per second per client address, burst 2N; 0 = off (env RATE_LIMIT, default 200)
  --register-per-min N  contributor registrations per minute per client address; 0 = off (env REGISTER_PER_MIN,
                      default 30)
  --spot-check F      adaptive replication: least share of a trusted contributor's results still cross-checked,
                      0 to 1 (env SPOT_CHECK, default 0.1)
  --distinct-networks on|off  replicas of a chunk go to distinct /24 (IPv4) or /48 (IPv6) networks while
                      contributors from several are asking for work (env DISTINCT_NETWORKS, default on)
  --python-packages DIR  Pyodide distribution or folder of wheels that job "packages" load from
                      (env PYTHON_PACKAGES, default: the Pyodide core in node_modules, no extra packages)
  --max-streams-per-address N  job event streams (SSE) one client address may hold open (env
                      MAX_STREAMS_PER_ADDRESS, default 16); over it: 429 TOO_MANY_STREAMS
  --max-streams N     job event streams the coordinator holds open in all (env MAX_STREAMS, default 1000)
  --blob-mb-per-hour N  new blob bytes (MiB) one client address may store per hour (env BLOB_MB_PER_HOUR,
                      default 4096, 0 = off); past it: 429 BLOB_ALLOWANCE_SPENT with Retry-After
  --key-max-jobs N    unfinished (queued or running) jobs one submitter may have at once (env KEY_MAX_JOBS)
  --key-max-chunks-per-day N  chunks one submitter may submit in any 24 hours (env KEY_MAX_CHUNKS_PER_DAY)
  --key-max-blob-mb N  MiB of blobs one submitter may store in all (env KEY_MAX_BLOB_MB)
                      These three are the defaults for API keys without their own quota (npm run keys --
                      set-quota) and, in open mode, for each submitter network; admin keys have none unless set.
                      0 = no limit (the default). Past one: 429 QUOTA_EXCEEDED naming the quota.
  --trust-proxy       take the client's address from the last X-Forwarded-For entry (env TRUST_PROXY=1);
                      only behind a reverse proxy that sets it, or clients choose their own address
  --quiet             do not log each job and contributor event
  --help              show this help
`;

/** Parses argv and env into a config; throws an Error with a readable message on bad input. */
export function configFromArgs(argv: string[], env: NodeJS.ProcessEnv): CoordinatorConfig & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      store: { type: 'string' },
      auth: { type: 'string' },
      'data-dir': { type: 'string' },
      'max-body-mb': { type: 'string' },
      'max-blob-mb': { type: 'string' },
      'lease-grace-s': { type: 'string' },
      'retry-cooldown-s': { type: 'string' },
      'spot-check': { type: 'string' },
      'max-leases': { type: 'string' },
      'lease-deadline-factor': { type: 'string' },
      'rate-limit': { type: 'string' },
      'register-per-min': { type: 'string' },
      'distinct-networks': { type: 'string' },
      'python-packages': { type: 'string' },
      'trust-proxy': { type: 'boolean' },
      'blob-mb-per-hour': { type: 'string' },
      'max-streams-per-address': { type: 'string' },
      'max-streams': { type: 'string' },
      'key-max-jobs': { type: 'string' },
      'key-max-chunks-per-day': { type: 'string' },
      'key-max-blob-mb': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const number = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
    return value;
  };
  const flag = (name: string, raw: string | undefined) => {
    if (raw === undefined || raw === '' || raw === '0' || raw.toLowerCase() === 'false') return false;
    if (raw === '1' || raw.toLowerCase() === 'true') return true;
    throw new Error(`${name} must be 1/true or 0/false, got "${raw}"`);
  };
  const store = values.store ?? env.STORE ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'memory') throw new Error(`--store must be sqlite or memory, got "${store}"`);
  const auth = values.auth ?? env.AUTH ?? 'open';
  if (auth !== 'open' && auth !== 'keys') throw new Error(`--auth must be open or keys, got "${auth}"`);
  const quiet = values.quiet ?? false;
  const keyQuota: Quota = {};
  const whole = (name: string, raw: string | undefined) => {
    const value = number(name, raw, 0);
    if (!Number.isInteger(value)) throw new Error(`${name} must be a whole number, got "${raw}"`);
    return value;
  };
  const jobs = whole('--key-max-jobs', values['key-max-jobs'] ?? env.KEY_MAX_JOBS);
  const chunks = whole('--key-max-chunks-per-day', values['key-max-chunks-per-day'] ?? env.KEY_MAX_CHUNKS_PER_DAY);
  const blobBytes = Math.round(number('--key-max-blob-mb', values['key-max-blob-mb'] ?? env.KEY_MAX_BLOB_MB, 0) * 1024 * 1024);
  if (jobs > 0) keyQuota.jobs = jobs;
  if (chunks > 0) keyQuota.chunksPerDay = chunks;
  if (blobBytes > 0) keyQuota.blobBytes = blobBytes;
  const spotCheck = number('--spot-check', values['spot-check'] ?? env.SPOT_CHECK, 0.1);
  if (spotCheck > 1) throw new Error(`--spot-check must be between 0 and 1, got "${values['spot-check'] ?? env.SPOT_CHECK}"`);
  const distinct = values['distinct-networks'] ?? env.DISTINCT_NETWORKS ?? 'on';
  if (distinct !== 'on' && distinct !== 'off') throw new Error(`--distinct-networks must be on or off, got "${distinct}"`);
  return {
    ...defaultConfig({
      port: number('--port', values.port ?? env.PORT, 8080),
      host: values.host ?? env.HOST ?? '0.0.0.0',
      store,
      auth,
      dataDir: resolve(values['data-dir'] ?? env.DATA_DIR ?? 'data'),
      maxBodyBytes: number('--max-body-mb', values['max-body-mb'] ?? env.MAX_BODY_MB, 64) * 1024 * 1024,
      maxBlobBytes: number('--max-blob-mb', values['max-blob-mb'] ?? env.MAX_BLOB_MB, 1024) * 1024 * 1024,
      leaseGraceMs: number('--lease-grace-s', values['lease-grace-s'] ?? env.LEASE_GRACE_S, 30) * 1000,
      retryCooldownMs: number('--retry-cooldown-s', values['retry-cooldown-s'] ?? env.RETRY_COOLDOWN_S, 30) * 1000,
      spotCheckFloor: spotCheck,
      maxLeasesPerContributor: Math.max(1, number('--max-leases', values['max-leases'] ?? env.MAX_LEASES, 64)),
      hardDeadlineFactor: Math.max(1, number('--lease-deadline-factor', values['lease-deadline-factor'] ?? env.LEASE_DEADLINE_FACTOR, 3)),
      rateLimitPerS: number('--rate-limit', values['rate-limit'] ?? env.RATE_LIMIT, 200),
      registerPerMin: number('--register-per-min', values['register-per-min'] ?? env.REGISTER_PER_MIN, 30),
      distinctNetworks: distinct === 'on',
      ...((values['python-packages'] ?? env.PYTHON_PACKAGES) ? { pythonPackagesDir: resolve(values['python-packages'] ?? env.PYTHON_PACKAGES!) } : {}),
      maxStreamsPerAddress: Math.max(1, number('--max-streams-per-address', values['max-streams-per-address'] ?? env.MAX_STREAMS_PER_ADDRESS, 16)),
      maxStreams: Math.max(1, number('--max-streams', values['max-streams'] ?? env.MAX_STREAMS, 1_000)),
      blobBytesPerHour: number('--blob-mb-per-hour', values['blob-mb-per-hour'] ?? env.BLOB_MB_PER_HOUR, 4096) * 1024 * 1024,
      trustProxy: values['trust-proxy'] ?? flag('TRUST_PROXY', env.TRUST_PROXY),
      keyQuota,
      log: quiet ? () => {} : (line) => console.log(`[${new Date().toISOString()}] ${line}`),
    }),
    help: values.help ?? false,
  };
}
