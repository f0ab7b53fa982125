import { describe, expect, it } from 'vitest';
import type { VerificationPolicy } from '../../protocol/index.js';
import { policyText, receivedSummary, resultsPerVerified, validationText, verdictTone, verifiedCell, verifiedText } from './verification.js';

const single: VerificationPolicy = { replicas: 1, quorum: 1, maxResults: 3, maxErrors: 3, validation: { kind: 'exact' }, adaptive: false };
const pair: VerificationPolicy = { replicas: 2, quorum: 2, maxResults: 5, maxErrors: 3, validation: { kind: 'exact' }, adaptive: false };

describe('validationText', () => {
  it('names exact comparison and the tolerances that are set', () => {
    expect(validationText({ kind: 'exact' })).toBe('exact match');
    expect(validationText({ kind: 'tolerance', abs: 1e-4, rel: 0.001 })).toBe('within abs 0.0001 or rel 0.001');
    expect(validationText({ kind: 'tolerance', rel: 0.01 })).toBe('within rel 0.01');
  });
});

describe('policyText', () => {
  it('says plainly when a job is not replicated', () => {
    expect(policyText(single)).toMatch(/^Not replicated/);
  });
  it('states replicas, quorum, comparison and limits', () => {
    expect(policyText(pair)).toBe(
      'Each chunk goes to 2 contributors; 2 agreeing results (exact match) accept it. At most 5 results and 3 errors per chunk.',
    );
  });
  it('mentions adaptive replication', () => {
    expect(policyText({ ...pair, adaptive: true, validation: { kind: 'tolerance', abs: 0.5 } })).toMatch(
      /^Adaptive replication: .*2 contributors; 2 agreeing results \(within abs 0\.5\)/,
    );
  });
});

describe('job counts', () => {
  it('shows verified chunks out of all', () => expect(verifiedText({ verified: 12, total: 12 })).toBe('12 / 12 verified'));
  it('prices verification in results per verified chunk', () => {
    expect(resultsPerVerified({ verified: 12, resultsIssued: 25 })).toBe('2.08');
    expect(resultsPerVerified({ verified: 0, resultsIssued: 4 })).toBeUndefined();
  });
});

describe('verifiedCell', () => {
  it('labels what a verified chunk publishes without comparing it', () => {
    const cell = verifiedCell({ index: 0, status: 'ok', verified: true, agreeing: 2, stdout: 'x', unverified: ['stdout'] }, pair);
    expect(cell.text).toBe('✓ 2 agree; stdout unverified');
    expect(cell.title).toMatch(/stdout not compared/);
  });
  it('counts agreeing results of a verified chunk', () => {
    expect(verifiedCell({ index: 0, status: 'ok', verified: true, agreeing: 2 }, pair)).toMatchObject({ text: '✓ 2 agree', tone: 'ok' });
  });
  it("marks a trusted contributor's lone result", () => {
    expect(verifiedCell({ index: 0, status: 'ok', verified: true, agreeing: 1 }, { ...pair, adaptive: true }).text).toBe('✓ trusted');
  });
  it('says unverified for quorum-1 jobs', () => {
    expect(verifiedCell({ index: 0, status: 'ok', verified: false, agreeing: 1 }, single)).toMatchObject({ text: 'unverified', tone: 'muted' });
  });
  it('shows a failed consensus as an error', () => {
    const error = 'no consensus after 5 results: 3 different answers';
    expect(verifiedCell({ index: 0, status: 'error', error }, pair)).toEqual({ text: '✗ no consensus', tone: 'error', title: error });
    expect(verifiedCell({ index: 0, status: 'error', error: 'ZeroDivisionError' }, pair).text).toBe('—');
  });
});

describe('verdicts', () => {
  it('colours valid green, invalid red, inconclusive amber, pending grey', () => {
    expect(['valid', 'invalid', 'inconclusive', 'pending'].map((v) => verdictTone(v as never))).toEqual(['ok', 'error', 'warning', 'muted']);
  });
  it('summarises the results a chunk received', () => {
    expect(receivedSummary([])).toMatch(/^No results yet/);
    expect(
      receivedSummary([
        { contributor: 'c-1', validation: 'valid', state: 'ok' },
        { contributor: 'c-2', validation: 'valid', state: 'ok' },
        { contributor: 'c-1', validation: 'pending', state: 'expired' },
        { contributor: 'c-3', validation: 'invalid', state: 'ok' },
      ]),
    ).toBe('4 results from 3 contributors: 2 valid, 1 invalid, 1 expired');
  });
});
