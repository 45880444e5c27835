/** The API key prompt: a modal dialog; concurrent requests that meet a 401 share one prompt. */
import { byId } from './dom.js';

let pending: Promise<string | null> | null = null;

export function askForKey(reason: string): Promise<string | null> {
  pending ??= prompt(reason).finally(() => (pending = null));
  return pending;
}

function prompt(reason: string): Promise<string | null> {
  const dialog = byId('key-dialog', HTMLDialogElement);
  const form = byId('key-form', HTMLFormElement);
  const input = byId('key', HTMLInputElement);
  const problem = byId('key-error', HTMLParagraphElement);
  const initial = reason === 'This server needs an API key.';
  problem.textContent = initial ? '' : reason;
  problem.hidden = initial;
  input.value = '';
  byId('key-button', HTMLButtonElement).hidden = false;
  return new Promise((resolve) => {
    const onSubmit = (e: SubmitEvent) => {
      const save = (e.submitter as HTMLButtonElement | null)?.value === 'save';
      if (save && input.value.trim() === '') {
        e.preventDefault();
        problem.textContent = 'Enter the key, or Cancel.';
        problem.hidden = false;
        input.focus();
        return;
      }
      done(save ? input.value.trim() : null);
    };
    const onCancel = () => done(null);
    const done = (key: string | null) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('cancel', onCancel);
      resolve(key);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    input.focus();
  });
}
