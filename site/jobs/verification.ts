// How verification reads on the job pages: the policy in words, the verified / valid / invalid counts, a chunk's
// verified cell and the colour of a result's verdict. Pure, so the wording is tested without a DOM.
import type { ChunkResult, JobSummary, ResultDetail, Validation, VerificationPolicy } from '../../protocol/index.js';
import { formatCount, plural } from '../shared/format.js';

/** True when chunks are compared at all: more than one result may be needed, or adaptive replication is on. */
export const isReplicated = (policy: VerificationPolicy): boolean => policy.quorum > 1 || policy.replicas > 1 || policy.adaptive;

/** "exact match", "within abs 0.0001 or rel 0.001". */
export function validationText(validation: Validation): string {
  if (validation.kind === 'exact') return 'exact match';
  const bounds = [
    validation.abs !== undefined ? `abs ${validation.abs}` : '',
    validation.rel !== undefined ? `rel ${validation.rel}` : '',
  ].filter(Boolean);
  return `within ${bounds.join(' or ')}`;
}

/**
 * The policy as a sentence, e.g. "Each chunk goes to 2 contributors; 2 agreeing results (exact match) accept it.
 * At most 5 results and 3 errors per chunk."
 */
export function policyText(policy: VerificationPolicy): string {
  if (!isReplicated(policy)) return 'Not replicated: each chunk runs on one contributor and its result is taken as it is (quorum 1).';
  const first = policy.adaptive
    ? `Adaptive replication: a trusted contributor's result may stand alone, others go to ${plural(policy.replicas, 'contributor')}`
    : `Each chunk goes to ${plural(policy.replicas, 'contributor')}`;
  const quorum = `${plural(policy.quorum, 'agreeing result')} (${validationText(policy.validation)}) accept it`;
  return `${first}; ${quorum}. At most ${plural(policy.maxResults, 'result')} and ${plural(policy.maxErrors, 'error')} per chunk.`;
}

/** "12 / 12 verified" (the data-testid="job-verified" text). */
export const verifiedText = (job: Pick<JobSummary, 'verified' | 'total'>): string =>
  `${formatCount(job.verified)} / ${formatCount(job.total)} verified`;

/** Results issued per verified chunk, the price of verification ("2.00"); undefined before the first verified chunk. */
export function resultsPerVerified(job: Pick<JobSummary, 'verified' | 'resultsIssued'>): string | undefined {
  if (job.verified <= 0) return undefined;
  return (job.resultsIssued / job.verified).toFixed(2);
}

export type Tone = 'ok' | 'error' | 'muted' | 'warning';

/** What the results table's Verified cell says about one finished chunk. */
export function verifiedCell(result: ChunkResult, policy: VerificationPolicy): { text: string; tone: Tone; title: string } {
  if (result.status === 'error') {
    const noConsensus = /^no consensus\b/.test(result.error ?? '');
    return noConsensus
      ? { text: '✗ no consensus', tone: 'error', title: result.error! }
      : { text: '—', tone: 'muted', title: 'failed: no result to verify' };
  }
  if (result.verified) {
    const agreeing = result.agreeing ?? 0;
    // What was published but not compared (function mode's stdout/stderr) is said on the cell, not only in the API.
    const unverified = result.unverified?.length ? `; ${result.unverified.join(', ')} unverified` : '';
    const why = unverified ? ` (${result.unverified!.join(' and ')} not compared: in function mode the module's top level prints into one chunk only)` : '';
    if (agreeing <= 1) return { text: `✓ trusted${unverified}`, tone: 'ok', title: `a trusted contributor's result, accepted alone (adaptive replication)${why}` };
    return { text: `✓ ${agreeing} agree${unverified}`, tone: 'ok', title: `${agreeing} results agree (quorum ${policy.quorum})${why}` };
  }
  return { text: 'unverified', tone: 'muted', title: isReplicated(policy) ? 'accepted without agreement' : 'the job runs each chunk once (quorum 1)' };
}

const VERDICT_TONE: Record<ResultDetail['validation'], Tone> = { valid: 'ok', invalid: 'error', inconclusive: 'warning', pending: 'muted' };

/** The colour of a result's verdict in the chunk detail view. */
export const verdictTone = (verdict: ResultDetail['validation']): Tone => VERDICT_TONE[verdict] ?? 'muted';

/** "3 results from 2 contributors: 2 valid, 1 invalid" — the head line of the chunk detail view. */
export function receivedSummary(results: Pick<ResultDetail, 'contributor' | 'validation' | 'state'>[]): string {
  if (results.length === 0) return 'No results yet: the chunk is waiting for a contributor.';
  const contributors = new Set(results.map((r) => r.contributor)).size;
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = r.state === 'running' ? 'running' : r.state === 'ok' ? r.validation : r.state === 'expired' ? 'expired' : r.state === 'released' ? 'released' : r.state === 'cancelled' ? 'cancelled' : 'error';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const order = ['valid', 'invalid', 'inconclusive', 'pending', 'error', 'expired', 'running', 'released', 'cancelled'];
  const parts = order.filter((key) => counts.has(key)).map((key) => `${formatCount(counts.get(key)!)} ${key}`);
  return `${plural(results.length, 'result')} from ${plural(contributors, 'contributor')}: ${parts.join(', ')}`;
}

/** A result's state in words: a lease that ran out reads better than "expired", one handed back than "released". */
export const resultStateText = (state: ResultDetail['state']): string =>
  state === 'expired' ? 'lease expired' : state === 'released' ? 'given back' : state;
