// Quotas per submitter (an API key, or in open mode a network): how many jobs it may have unfinished, how many
// chunks it may submit per rolling day, how many blob bytes it may store. Pure rules; stores count the usage.

/** The quotas, by name: the same names key a limit, a usage and an error. */
export const QUOTA_NAMES = ['jobs', 'chunksPerDay', 'blobBytes'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

/**
 * Limits per quota. As effective limits (`effectiveQuota`), an absent name means no limit. As a key's own setting
 * (`ApiKey.quota`), an absent name means "the coordinator's default" and 0 means "no limit".
 * - `jobs`: jobs not finished yet (queued or running) at once; a job frees its slot when it completes, fails or is
 *   cancelled.
 * - `chunksPerDay`: chunks (inputs) of the jobs submitted in the last 24 hours, a rolling window; cancelling a job
 *   does not give its chunks back.
 * - `blobBytes`: bytes of the blobs this submitter stored first, in all (blobs are never deleted, so this is the
 *   disk it holds); uploading a blob that is already stored costs nothing.
 */
export type Quota = Partial<Record<QuotaName, number>>;

/** What counts against each quota now (or what one request would add). */
export type QuotaUsage = Record<QuotaName, number>;

/** The window of `chunksPerDay`. */
export const QUOTA_DAY_MS = 24 * 3600_000;

export const noUsage = (): QuotaUsage => ({ jobs: 0, chunksPerDay: 0, blobBytes: 0 });

/**
 * The limits that apply to a submitter: its own setting where it has one (0 = none), else the coordinator's
 * default, except that admin keys have no limit unless their own setting says so.
 * @example effectiveQuota({ jobs: 0 }, { jobs: 5, chunksPerDay: 1000 }, false) → { chunksPerDay: 1000 }
 */
export function effectiveQuota(own: Quota | undefined, defaults: Quota, admin: boolean): Quota {
  const limits: Quota = {};
  for (const name of QUOTA_NAMES) {
    const value = own?.[name] ?? (admin ? undefined : defaults[name]);
    if (value !== undefined && value > 0) limits[name] = value;
  }
  return limits;
}

/** Which quota a request passes, if any: the first whose usage plus what the request adds goes over its limit. */
export interface QuotaExcess {
  quota: QuotaName;
  limit: number;
  /** In use before this request. */
  usage: number;
  /** What this request would add (1 byte for an upload of unknown size). */
  requested: number;
}

export function exceededQuota(limits: Quota, usage: QuotaUsage, request: Partial<QuotaUsage>): QuotaExcess | undefined {
  for (const name of QUOTA_NAMES) {
    const limit = limits[name];
    const requested = request[name] ?? 0;
    if (limit !== undefined && requested > 0 && usage[name] + requested > limit) return { quota: name, limit, usage: usage[name], requested };
  }
  return undefined;
}

/** Thrown by a store operation that would pass a quota; nothing of the request was kept. */
export class QuotaExceededError extends Error {
  constructor(readonly excess: QuotaExcess) {
    super(describeExcess(excess));
  }
}

const WHAT: Record<QuotaName, [string, (n: number) => string]> = {
  jobs: ['unfinished jobs', String],
  chunksPerDay: ['chunks submitted in the last 24 hours', String],
  blobBytes: ['blob bytes stored', (n) => `${n} (${(n / 1024 / 1024).toFixed(1)} MiB)`],
};

/**
 * Words for an excess, naming the quota, its limit and the usage.
 * @example "jobs: at most 5 unfinished jobs; 5 in use, this request adds 1"
 */
export function describeExcess({ quota, limit, usage, requested }: QuotaExcess): string {
  const [what, n] = WHAT[quota];
  return `${quota}: at most ${n(limit)} ${what}; ${n(usage)} in use, this request adds ${n(requested)}`;
}
