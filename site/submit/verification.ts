// The submit form's optional Verification section: its raw field values become the submission's verification
// fields (replicas, quorum, validation, adaptive, maxResults, maxErrors). Limits and cross-field rules are left to
// the protocol's JobSubmission schema, so the page shows the coordinator's own messages.
import type { JobSubmission, Validation } from '../../protocol/index.js';

/** The section's inputs as the page reads them: number boxes as text, empty meaning "the default". */
export interface VerificationForm {
  replicas: string;
  quorum: string;
  validation: 'exact' | 'tolerance';
  abs: string;
  rel: string;
  adaptive: boolean;
  maxResults: string;
  maxErrors: string;
}

export type VerificationFields = Pick<JobSubmission, 'replicas' | 'quorum' | 'maxResults' | 'maxErrors' | 'validation' | 'adaptive'>;

/** The submission field each box feeds, as the schema's issue paths name it. */
export type VerificationField = 'replicas' | 'quorum' | 'validation' | 'validation.abs' | 'validation.rel' | 'adaptive' | 'maxResults' | 'maxErrors';

/**
 * Only what the submitter set is sent, so the coordinator's defaults apply to the rest (quorum = replicas, exact
 * comparison). A box that is not a number at all is the one error found here.
 *
 * Example: `verificationFields({ ...empty, replicas: '2' })` → `{ ok: true, fields: { replicas: 2 } }`.
 */
export function verificationFields(form: VerificationForm): { ok: true; fields: VerificationFields } | { ok: false; field: VerificationField; error: string } {
  const numbers: Partial<Record<VerificationField, number>> = {};
  const boxes: [VerificationField, string][] = [
    ['replicas', form.replicas],
    ['quorum', form.quorum],
    ['maxResults', form.maxResults],
    ['maxErrors', form.maxErrors],
    ...(form.validation === 'tolerance'
      ? ([
          ['validation.abs', form.abs],
          ['validation.rel', form.rel],
        ] as [VerificationField, string][])
      : []),
  ];
  for (const [field, raw] of boxes) {
    const text = raw.trim();
    if (text === '') continue;
    const value = Number(text);
    if (!Number.isFinite(value)) return { ok: false, field, error: `${field}: must be a number` };
    numbers[field] = value;
  }
  const fields: VerificationFields = {};
  if (numbers.replicas !== undefined) fields.replicas = numbers.replicas;
  if (numbers.quorum !== undefined) fields.quorum = numbers.quorum;
  if (numbers.maxResults !== undefined) fields.maxResults = numbers.maxResults;
  if (numbers.maxErrors !== undefined) fields.maxErrors = numbers.maxErrors;
  if (form.validation === 'tolerance') {
    const validation: Validation = { kind: 'tolerance' };
    if (numbers['validation.abs'] !== undefined) validation.abs = numbers['validation.abs'];
    if (numbers['validation.rel'] !== undefined) validation.rel = numbers['validation.rel'];
    fields.validation = validation;
  }
  if (form.adaptive) fields.adaptive = true;
  return { ok: true, fields };
}

/** The verification box an issue path of the schema points at (`['validation', 'abs']` → 'validation.abs'), if any. */
export function verificationFieldOf(path: readonly PropertyKey[]): VerificationField | undefined {
  const [first, second] = path.map(String);
  if (first === 'validation') return second === 'abs' || second === 'rel' ? `validation.${second}` : 'validation';
  return (['replicas', 'quorum', 'adaptive', 'maxResults', 'maxErrors'] as const).find((field) => field === first);
}
