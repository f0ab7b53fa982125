// The submit page (`/submit`): a Python script or an ONNX model (onnx-form.ts), its chunk inputs and limits become
// POST /api/jobs, then the job's page opens.
import { examples } from '../../examples/catalog.js';
import { describeIssues, JobSubmission } from '../../protocol/index.js';
import { errorText, jobsApi } from '../shared/api.js';
import { byId, h, setText } from '../shared/dom.js';
import { mountApiKeyControl } from '../shared/key-form.js';
import { plural } from '../shared/format.js';
import { enableCodeEditing } from './editor.js';
import { formatInputs, parseInputs, type ParsedInputs } from './inputs.js';
import { OnnxForm } from './onnx-form.js';
import { verificationFieldOf, verificationFields, type VerificationField } from './verification.js';

const form = byId<HTMLFormElement>('submit-form');
const exampleSelect = byId<HTMLSelectElement>('example-select');
const nameInput = byId<HTMLInputElement>('name-input');
const descriptionInput = byId<HTMLInputElement>('description-input');
const sourceInput = byId<HTMLTextAreaElement>('source-input');
const inputsInput = byId<HTMLTextAreaElement>('inputs-input');
const inputsCount = byId('inputs-count');
const timeoutInput = byId<HTMLInputElement>('timeout-input');
const entryInput = byId<HTMLInputElement>('entry-input');
const submitButton = byId<HTMLButtonElement>('submit-button');
const submitError = byId('submit-error');
const verificationSection = byId<HTMLDetailsElement>('verification-fields');
const replicasInput = byId<HTMLInputElement>('replicas-input');
const quorumInput = byId<HTMLInputElement>('quorum-input');
const validationSelect = byId<HTMLSelectElement>('validation-select');
const absInput = byId<HTMLInputElement>('tolerance-abs-input');
const relInput = byId<HTMLInputElement>('tolerance-rel-input');
const adaptiveInput = byId<HTMLInputElement>('adaptive-input');
const maxResultsInput = byId<HTMLInputElement>('max-results-input');
const maxErrorsInput = byId<HTMLInputElement>('max-errors-input');
const onnxRadio = byId<HTMLInputElement>('runtime-onnx');
const privateInput = byId<HTMLInputElement>('private-input');

// --- Runtime ---------------------------------------------------------------------------------------------------------

const onnxForm = new OnnxForm(hideError);
const isOnnx = () => onnxRadio.checked;

function showRuntime(): void {
  const onnx = isOnnx();
  byId('onnx-fields').hidden = !onnx;
  for (const id of ['python-fields', 'python-inputs-field', 'entry-field', 'example-field']) byId(id).hidden = onnx || (id === 'example-field' && examples.length === 0);
  hideError();
}
for (const radio of [byId('runtime-python'), onnxRadio]) radio.addEventListener('change', showRuntime);

enableCodeEditing(sourceInput);

// --- Examples ------------------------------------------------------------------------------------------------------

if (examples.length > 0) {
  byId('example-field').hidden = false;
  exampleSelect.append(...examples.map((example) => h('option', { value: example.slug }, example.name)));
}

exampleSelect.addEventListener('change', () => {
  const example = examples.find((e) => e.slug === exampleSelect.value);
  setText(byId('example-description'), example?.description ?? '');
  if (!example) return;
  nameInput.value = example.job.name ?? example.name;
  descriptionInput.value = example.job.description ?? example.description;
  sourceInput.value = example.source;
  inputsInput.value = formatInputs(example.job.inputs);
  timeoutInput.value = String((example.job.timeoutMs ?? 60_000) / 1000);
  entryInput.value = ('entry' in example.job ? example.job.entry : undefined) ?? '';
  updateInputsCount();
  hideError();
});

// `/submit?example=prime-counting` opens with that example filled in.
const requested = new URLSearchParams(location.search).get('example');
if (requested && examples.some((e) => e.slug === requested)) {
  exampleSelect.value = requested;
  exampleSelect.dispatchEvent(new Event('change'));
}

// --- Live chunk count ----------------------------------------------------------------------------------------------

let parsed: ParsedInputs = parseInputs('');
let countTimer: ReturnType<typeof setTimeout> | undefined;

function updateInputsCount(): void {
  clearTimeout(countTimer);
  parsed = parseInputs(inputsInput.value);
  if (inputsInput.value.trim() === '') {
    setText(inputsCount, '');
    inputsCount.dataset.state = 'empty';
    inputsInput.removeAttribute('aria-invalid');
  } else if (parsed.ok) {
    setText(inputsCount, plural(parsed.inputs.length, 'chunk'));
    inputsCount.dataset.state = 'ok';
    inputsInput.removeAttribute('aria-invalid');
  } else {
    setText(inputsCount, parsed.error);
    inputsCount.dataset.state = 'error';
    inputsInput.setAttribute('aria-invalid', 'true');
  }
}

// Large pasted inputs are parsed once typing pauses, not on every keystroke.
inputsInput.addEventListener('input', () => {
  clearTimeout(countTimer);
  countTimer = setTimeout(updateInputsCount, inputsInput.value.length > 100_000 ? 300 : 60);
});

// --- Verification ----------------------------------------------------------------------------------------------------

/** The boxes that an issue about each verification field is shown on. */
const verificationBoxes: Record<VerificationField, HTMLElement[]> = {
  replicas: [replicasInput],
  quorum: [quorumInput],
  validation: [absInput, relInput],
  'validation.abs': [absInput],
  'validation.rel': [relInput],
  adaptive: [adaptiveInput],
  maxResults: [maxResultsInput],
  maxErrors: [maxErrorsInput],
};

function updateVerificationHints(): void {
  byId('tolerance-fields').hidden = validationSelect.value !== 'tolerance';
  // The quorum defaults to the replicas; the empty box says so.
  const replicas = replicasInput.value.trim();
  quorumInput.placeholder = replicas === '' ? 'same as replicas' : `${replicas} (same as replicas)`;
}
validationSelect.addEventListener('change', updateVerificationHints);
replicasInput.addEventListener('input', updateVerificationHints);
for (const box of Object.values(verificationBoxes).flat()) box.addEventListener('input', () => box.removeAttribute('aria-invalid'));

/** Marks the verification boxes an error is about, and opens the section so they can be seen. */
function markVerificationIssue(field: VerificationField): void {
  verificationSection.open = true;
  for (const box of verificationBoxes[field]) box.setAttribute('aria-invalid', 'true');
}

// --- Submit ----------------------------------------------------------------------------------------------------------

function showError(message: string): void {
  setText(submitError, message);
  submitError.hidden = false;
}

function hideError(): void {
  submitError.hidden = true;
  setText(submitError, '');
}

/** The runtime-specific part of the submission: the script and its inputs, or the model and its tensors. */
async function runtimeFields(): Promise<{ ok: true; fields: object } | { ok: false; error: string }> {
  if (isOnnx()) {
    const onnx = await onnxForm.fields();
    return onnx.ok ? { ok: true, fields: { runtime: 'onnx', ...onnx.fields } } : onnx;
  }
  updateInputsCount();
  if (sourceInput.value.trim() === '') return { ok: false, error: 'Paste a Python script.' };
  if (!parsed.ok) return { ok: false, error: `Inputs: ${parsed.error}` };
  const entry = entryInput.value.trim();
  return { ok: true, fields: { runtime: 'python', source: sourceInput.value, inputs: parsed.inputs, ...(entry ? { entry } : {}) } };
}

/** Builds the submission from the form, or says what to fix. */
async function buildSubmission(): Promise<{ ok: true; body: JobSubmission } | { ok: false; error: string }> {
  const runtime = await runtimeFields();
  if (!runtime.ok) return runtime;
  const seconds = Number(timeoutInput.value);
  if (timeoutInput.value.trim() !== '' && (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 86_400)) {
    return { ok: false, error: 'The timeout must be between 0.1 and 86,400 seconds (24 hours).' };
  }
  for (const box of Object.values(verificationBoxes).flat()) box.removeAttribute('aria-invalid');
  // A number box holding something that is not a number reads as empty; say so instead of sending the default.
  const unreadable = (Object.entries(verificationBoxes) as [VerificationField, HTMLElement[]][]).find(
    ([, boxes]) => boxes.length === 1 && boxes[0] instanceof HTMLInputElement && boxes[0].validity.badInput && !boxes[0].closest('[hidden]'),
  );
  if (unreadable) {
    markVerificationIssue(unreadable[0]);
    return { ok: false, error: `${unreadable[0]}: must be a number` };
  }
  const verification = verificationFields({
    replicas: replicasInput.value,
    quorum: quorumInput.value,
    validation: validationSelect.value === 'tolerance' ? 'tolerance' : 'exact',
    abs: absInput.value,
    rel: relInput.value,
    adaptive: adaptiveInput.checked,
    maxResults: maxResultsInput.value,
    maxErrors: maxErrorsInput.value,
  });
  if (!verification.ok) {
    markVerificationIssue(verification.field);
    return { ok: false, error: verification.error };
  }
  const name = nameInput.value.trim();
  const description = descriptionInput.value.trim();
  const candidate = {
    ...runtime.fields,
    ...(name ? { name } : {}),
    ...(description ? { description } : {}),
    ...(timeoutInput.value.trim() !== '' ? { timeoutMs: Math.round(seconds * 1000) } : {}),
    ...verification.fields,
    ...(privateInput.checked ? { private: true } : {}),
  };
  // The coordinator validates with the same schema; checking here gives the same message without a round trip.
  const checked = JobSubmission.safeParse(candidate);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = verificationFieldOf(issue.path);
      if (field) markVerificationIssue(field);
    }
    return { ok: false, error: describeIssues(checked.error) };
  }
  return { ok: true, body: checked.data };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  hideError();
  submitButton.disabled = true;
  const label = submitButton.textContent;
  submitButton.textContent = 'Submitting…';
  try {
    const submission = await buildSubmission();
    if (!submission.ok) {
      showError(submission.error);
      submitButton.disabled = false;
      submitButton.textContent = label;
      return;
    }
    const job = await jobsApi.submit(submission.body);
    location.assign(jobsApi.pageUrl(job.id));
  } catch (error) {
    showError(errorText(error));
    submitButton.disabled = false;
    submitButton.textContent = label;
  }
});

mountApiKeyControl();
updateInputsCount();
updateVerificationHints();
showRuntime();
