// The in-page API key form (a modal dialog, in place of window.prompt) and the header's "Forget key" control, for
// coordinators run with `--auth keys`. keyedFetch opens the form when the coordinator refuses a request for its key.
import { forgetApiKey, onApiKeyChange, storedApiKey } from './api-key.js';
import { h, setText } from './dom.js';

/** Why the form is shown: the coordinator's refusal, and whether a key had been sent with the request. */
export interface KeyRefusal {
  /** 401: no key, or a key the coordinator does not know (or revoked); 403: a live key that does not own the job. */
  status: 401 | 403;
  keySent: boolean;
}

/** What the form says for each refusal. Exported for the unit tests. */
export function refusalText({ status, keySent }: KeyRefusal): string {
  if (status === 403) return "This key does not own the job. Enter the owner's key, or an admin key.";
  if (keySent) return 'The coordinator refused that key: it is unknown or was revoked. Enter another key.';
  return 'This coordinator needs an API key for this. Its operator creates one with npm run keys -- create NAME.';
}

let open: Promise<string | null> | undefined;

/**
 * Shows the key form and resolves with the key entered, or null when the user cancels (Cancel or Esc). Requests that
 * are refused while it is open share the same form.
 */
export function askForApiKey(refusal: KeyRefusal): Promise<string | null> {
  open ??= showForm(refusal).finally(() => (open = undefined));
  return open;
}

function showForm(refusal: KeyRefusal): Promise<string | null> {
  const message = h('p', { id: 'api-key-message', class: 'alert alert-warning', role: 'alert', 'data-testid': 'api-key-message' }, refusalText(refusal));
  const input = h('input', {
    id: 'api-key-input',
    'data-testid': 'api-key-input',
    type: 'password',
    class: 'code',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
    required: true,
    'aria-describedby': 'api-key-message api-key-hint',
  });
  const empty = h('p', { class: 'hint field-error', 'data-testid': 'api-key-empty', hidden: true }, 'Enter a key, or Cancel.');
  const cancel = h('button', { type: 'button', class: 'button', 'data-testid': 'api-key-cancel' }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-inner form', novalidate: true },
    h('h2', { id: 'api-key-title' }, 'API key'),
    message,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'api-key-input' }, 'API key'),
      input,
      empty,
      h('p', { id: 'api-key-hint', class: 'hint' }, 'It starts with isk_. It is kept in this browser until you press Forget key.'),
    ),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'api-key-submit' }, 'Use key'), cancel),
  );
  const dialog = h('dialog', { class: 'key-dialog', 'aria-labelledby': 'api-key-title', 'data-testid': 'api-key-form' }, form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    const finish = (key: string | null) => {
      dialog.close();
      dialog.remove();
      resolve(key);
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) {
        empty.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      finish(key);
    });
    cancel.addEventListener('click', () => finish(null));
    // Esc closes a modal dialog by itself: treat it as Cancel.
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(null);
    });
    dialog.showModal();
    input.focus();
  });
}

/**
 * Adds the header's key control to the page: "Using a saved API key · Forget key" while a key is stored, "API key
 * forgotten" right after Forget key, nothing otherwise. `onForget` runs after the key is forgotten.
 */
export function mountApiKeyControl(onForget?: () => void): void {
  const header = document.querySelector('.site-header');
  if (!header) return;
  const status = h('span', { class: 'hint', 'data-testid': 'api-key-status' });
  const forget = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'forget-key' }, 'Forget key');
  // A polite live region, so a screen reader hears that the key is gone after the button disappears.
  const control = h('div', { class: 'key-control', role: 'status', 'aria-live': 'polite' }, status, forget);
  header.append(control);
  let forgotten = false;
  const render = (key: string | null) => {
    control.hidden = !key && !forgotten;
    forget.hidden = !key;
    setText(status, key ? 'Using a saved API key' : 'API key forgotten');
  };
  forget.addEventListener('click', () => {
    forgotten = true;
    forgetApiKey();
    onForget?.();
  });
  onApiKeyChange((key) => {
    if (key) forgotten = false;
    render(key);
  });
  render(storedApiKey());
}
