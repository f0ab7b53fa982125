import { describe, expect, it } from 'vitest';
import { describeIssues, JobSubmission } from '../../protocol/index.js';
import { verificationFieldOf, verificationFields, type VerificationForm } from './verification.js';

const empty: VerificationForm = { replicas: '', quorum: '', validation: 'exact', abs: '', rel: '', adaptive: false, maxResults: '', maxErrors: '' };

describe('verificationFields', () => {
  it('sends nothing when the section is untouched, so the defaults apply', () => {
    expect(verificationFields(empty)).toEqual({ ok: true, fields: {} });
  });
  it('sends only what was set', () => {
    expect(verificationFields({ ...empty, replicas: '3', quorum: ' 2 ', adaptive: true, maxErrors: '4' })).toEqual({
      ok: true,
      fields: { replicas: 3, quorum: 2, adaptive: true, maxErrors: 4 },
    });
  });
  it('builds a tolerance validation, ignoring tolerances while comparing exactly', () => {
    expect(verificationFields({ ...empty, validation: 'tolerance', abs: '1e-9' })).toEqual({ ok: true, fields: { validation: { kind: 'tolerance', abs: 1e-9 } } });
    expect(verificationFields({ ...empty, abs: 'x' })).toEqual({ ok: true, fields: {} });
  });
  it('names a box that is not a number', () => {
    expect(verificationFields({ ...empty, replicas: 'two' })).toEqual({ ok: false, field: 'replicas', error: 'replicas: must be a number' });
    expect(verificationFields({ ...empty, validation: 'tolerance', rel: '1e' })).toMatchObject({ ok: false, field: 'validation.rel' });
  });
  it("leaves limits to the protocol schema, whose message names the field as the coordinator's does", () => {
    const job = (fields: object) => JobSubmission.safeParse({ runtime: 'python', source: 'x', inputs: [1], ...fields });
    const tooHigh = verificationFields({ ...empty, replicas: '2', quorum: '3' });
    const parsed = job(tooHigh.ok ? tooHigh.fields : {});
    expect(parsed.success).toBe(false);
    expect(describeIssues(parsed.error!)).toBe('quorum: must not exceed replicas (2)');
    const noBounds = verificationFields({ ...empty, validation: 'tolerance' });
    expect(describeIssues(job(noBounds.ok ? noBounds.fields : {}).error!)).toBe('validation: tolerance needs abs or rel');
  });
});

describe('verificationFieldOf', () => {
  it('maps issue paths to the verification boxes', () => {
    expect(verificationFieldOf(['quorum'])).toBe('quorum');
    expect(verificationFieldOf(['validation', 'abs'])).toBe('validation.abs');
    expect(verificationFieldOf(['validation'])).toBe('validation');
    expect(verificationFieldOf(['inputs'])).toBeUndefined();
  });
});
