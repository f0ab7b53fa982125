// The shape of one bundled example job, shared by the browser catalog (catalog.ts) and the Node loader (load.ts),
// and the order the site lists them in.
import type { ChunkResult, JobSubmission } from '../protocol/index.js';

/** What `examples/<slug>/job.json` holds: a full job submission except the script, which lives in main.py. */
/** Omit over each member of a union (plain Omit would merge the members). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type ExampleJob = DistributiveOmit<JobSubmission, 'source'>;

/** One example as the site lists it: enough to prefill the submit form or post the job directly. */
export interface Example {
  /** Folder name under examples/, e.g. `prime-counting`. */
  slug: string;
  name: string;
  description: string;
  /** The Python script (main.py), verbatim. */
  source: string;
  job: ExampleJob;
}

/** Throws an Error saying what is wrong when a finished job's results are not the expected ones. */
export type ExampleCheck = (results: ChunkResult[]) => void;

/** An example together with its result check; only Node code (tests, e2e, bench) loads checks. */
export interface CheckedExample extends Example {
  check: ExampleCheck;
}

/** The order the site lists examples in; examples not named here follow, alphabetically. */
export const EXAMPLE_ORDER = ['monte-carlo-pi', 'prime-counting', 'sir-sweep', 'word-frequencies', 'collatz-cli'];

/** Sorts examples by EXAMPLE_ORDER, then by slug. */
export function sortExamples<T extends { slug: string }>(examples: T[]): T[] {
  const rank = (slug: string) => {
    const at = EXAMPLE_ORDER.indexOf(slug);
    return at < 0 ? EXAMPLE_ORDER.length : at;
  };
  return [...examples].sort((a, b) => rank(a.slug) - rank(b.slug) || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
}
