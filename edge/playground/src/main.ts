/**
 * The playground page: ask the model (draw from a prompt, describe attached images), follow
 * the generation live, show the answer as the model gave it (text and images in order), and
 * keep this browser's generations in a gallery to run again or describe.
 */
import { ApiClient, ApiProblem, describeFailure } from './api.js';
import { button, byId, h } from './dom.js';
import { follow } from './follow.js';
import { Gallery, type GalleryEntry, type Settings, type StoredPart } from './gallery.js';
import { InputImages, readAsDataUrl, wireImageInputs, type Attached } from './inputs.js';
import { askForKey } from './key-dialog.js';
import { Generation, ModelList, OpenApiLimits, type Model, type OutputPart } from './schemas.js';

const FALLBACK_PROMPTS = { draw_prefix: 'draw ', describe_prompt: 'describe the image' };

const ui = {
  form: byId('ask', HTMLFormElement),
  model: byId('model', HTMLSelectElement),
  modelHelp: byId('model-help', HTMLParagraphElement),
  prompt: byId('prompt', HTMLTextAreaElement),
  examples: byId('examples', HTMLUListElement),
  file: byId('file', HTMLInputElement),
  drop: byId('drop', HTMLDivElement),
  inputs: byId('inputs', HTMLUListElement),
  steps: byId('steps', HTMLInputElement),
  guidance: byId('guidance', HTMLInputElement),
  seed: byId('seed', HTMLInputElement),
  generate: byId('generate', HTMLButtonElement),
  describe: byId('describe', HTMLButtonElement),
  cancel: byId('cancel', HTMLButtonElement),
  status: byId('status', HTMLParagraphElement),
  progress: byId('progress', HTMLProgressElement),
  error: byId('error', HTMLDivElement),
  answer: byId('answer', HTMLDivElement),
  gallery: byId('gallery', HTMLOListElement),
  galleryEmpty: byId('gallery-empty', HTMLParagraphElement),
  clearGallery: byId('clear-gallery', HTMLButtonElement),
  keyButton: byId('key-button', HTMLButtonElement),
};

const api = new ApiClient(new URL('./', location.href), askForKey);
const gallery = new Gallery();
let models: Model[] = [];
/** Whether the server takes `model` on POST /v1/generations (it serves more than one). */
let serverChoosesModels = false;
let running: { id: string | null; abort: AbortController } | null = null;

const images = new InputImages(renderInputs, showError);

function currentModel(): Model | undefined {
  return models.find((m) => m.id === ui.model.value) ?? models[0];
}
const promptsOf = (m: Model | undefined) => m?.prompts ?? FALLBACK_PROMPTS;

// ---- start-up -------------------------------------------------------------------------

async function loadModels(): Promise<void> {
  try {
    models = (await api.json(ModelList, '/v1/models')).data;
  } catch (err) {
    if (!(err instanceof ApiProblem) || err.status !== 404) throw err;
    // A server without GET /v1/models serves one model: its name is in /healthz.
    const health = (await (await fetch(api.url('/healthz'))).json()) as { model?: string };
    models = [{ id: health.model ?? 'default', prompts: FALLBACK_PROMPTS }];
  }
  serverChoosesModels = models.length > 1;
  ui.model.replaceChildren(...models.map((m) => h('option', { value: m.id, selected: m.default === true }, m.name ?? m.id)));
  ui.model.disabled = models.length < 2;
  onModelChange();
}

function onModelChange(): void {
  const m = currentModel();
  const size = m?.image ? `${m.image.width} x ${m.image.height} images` : 'images';
  ui.modelHelp.textContent = m?.description ?? `Draws ${size} and describes them.`;
  const { draw_prefix: draw } = promptsOf(m);
  const styles = m?.prompts?.styles;
  const examples = styles?.length
    ? [`${draw}snake in ${styles[0]} style`, `${draw}red heart`]   // captions as the model learned them (OpenMoji annotations)
    : [`${draw}a large red circle at the top left`, `${draw}a small blue 7 at the bottom right and a large green square at the center`];
  ui.examples.replaceChildren(
    ...examples.map((text) =>
      h('li', {}, button(text, () => {
        ui.prompt.value = text;
        ui.prompt.focus();
      }, { 'aria-label': `Use the example prompt: ${text}` })),
    ),
  );
}

/** The settings' limits as the API's own schema states them. */
async function loadLimits(): Promise<void> {
  const res = await fetch(api.url('/openapi.json')).catch(() => null);
  const parsed = OpenApiLimits.safeParse(await res?.json().catch(() => null));
  if (!parsed.success) return;
  const props = parsed.data.components.schemas.CreateGenerationRequest.properties;
  for (const [input, bound] of [[ui.steps, props.steps], [ui.guidance, props.guidance], [ui.seed, props.seed]] as const) {
    if (bound?.minimum !== undefined) input.min = String(bound.minimum);
    if (bound?.maximum !== undefined) input.max = String(bound.maximum);
  }
}

// ---- asking ---------------------------------------------------------------------------

interface Ask {
  prompt: string;
  inputs: string[];
  settings: Settings;
  model: string;
}

function readSettings(): Settings | null {
  const settings: Settings = {};
  for (const [name, input] of [['steps', ui.steps], ['guidance', ui.guidance], ['seed', ui.seed]] as const) {
    if (input.value.trim() === '') continue;
    if (!input.checkValidity()) {
      showError(`${input.labels?.[0]?.textContent ?? name}: ${input.validationMessage}`);
      input.focus();
      return null;
    }
    settings[name] = Number(input.value);
  }
  return settings;
}

async function ask(request: Ask): Promise<void> {
  // One job on the page at a time: one still running (a gallery action started another) is canceled, not left unseen.
  if (running?.id) void api.json(Generation, `/v1/generations/${encodeURIComponent(running.id)}/cancel`, { method: 'POST' }).catch(() => {});
  running?.abort.abort();
  const abort = new AbortController();
  const mine = { id: null as string | null, abort };
  running = mine;
  clearAnswer();
  setBusy(true);
  setStatus('Sending…');
  try {
    const body = {
      prompt: request.prompt,
      ...(request.inputs.length > 0 ? { images: request.inputs } : {}),
      ...request.settings,
      ...(serverChoosesModels ? { model: request.model } : {}),
    };
    let g = await api.json(Generation, '/v1/generations', { body, signal: abort.signal });
    mine.id = g.id;
    showProgress(g);
    if (g.status === 'queued' || g.status === 'running') {
      ui.cancel.hidden = false;
      g = await follow(api, g.id, showProgress, abort.signal);
    }
    const output = await storedOutput(g.output, abort.signal);
    renderAnswer(output, request);
    showFinal(g);
    gallery.put({ id: g.id, createdAt: new Date().toISOString(), model: request.model, prompt: request.prompt, inputs: request.inputs, settings: request.settings, status: g.status, output });
    renderGallery();
  } catch (err) {
    if (abort.signal.aborted) return;
    setStatus('Something went wrong.');
    showError(describeFailure(err));
  } finally {
    if (running === mine) {
      running = null;
      setBusy(false);
    }
  }
}

function showProgress(g: Generation): void {
  if (g.status === 'queued') {
    const ahead = g.queue_position;
    setStatus(ahead != null && ahead > 0 ? `Waiting in the queue: ${ahead} ahead.` : 'Waiting in the queue…');
    ui.progress.hidden = false;
    ui.progress.removeAttribute('value');
  } else if (g.status === 'running') {
    const { step, steps } = g.progress;
    setStatus(`Drawing: denoising step ${step} of ${steps}.`);
    ui.progress.hidden = false;
    ui.progress.max = Math.max(1, steps);
    ui.progress.value = step;
  }
  // Text that came before the image is shown at once.
  const text = g.output.filter((p) => p.type === 'text').map((p) => (p.type === 'text' ? p.text : ''));
  if (text.length > 0 && ui.answer.querySelector('.text') === null) ui.answer.append(...text.map((t) => h('p', { class: 'text' }, t)));
}

function showFinal(g: Generation): void {
  ui.progress.hidden = true;
  if (g.status === 'succeeded') setStatus(g.progress.steps > 0 ? `Done: ${g.progress.steps} denoising steps.` : 'Done.');
  else if (g.status === 'canceled') setStatus('Canceled.');
  else {
    setStatus('The generation failed.');
    showError(g.error?.message ?? 'The generation failed.');
  }
}

/** Output parts with images fetched (with the key) into data URLs, for the page and the gallery. */
async function storedOutput(parts: readonly OutputPart[], signal: AbortSignal): Promise<StoredPart[]> {
  return Promise.all(
    parts.map(async (part): Promise<StoredPart> => {
      if (part.type === 'text') return { type: 'text', text: part.text };
      const url = api.url(part.url);
      if (url.origin === location.origin) {
        // Through the API client, as every same-origin call (signed file URLs need no key).
        const res = await api.fetch(url.pathname + url.search, { signal });
        if (!res.ok) throw new ApiProblem(res.status, 'image_unavailable', `the image could not be loaded (${res.status})`);
        return { type: 'image', src: await readAsDataUrl(await res.blob()) };
      }
      // Another origin (presigned S3): kept as a data URL where CORS allows, else as its URL, which an <img> loads anyway.
      try {
        const res = await fetch(url, { signal });
        if (res.ok) return { type: 'image', src: await readAsDataUrl(await res.blob()) };
      } catch (err) {
        if (signal.aborted) throw err;
      }
      return { type: 'image', src: url.href };
    }),
  );
}

async function cancel(): Promise<void> {
  const id = running?.id;
  if (!id) return;
  ui.cancel.disabled = true;
  setStatus('Canceling…');
  try {
    await api.json(Generation, `/v1/generations/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  } catch (err) {
    // Finished meanwhile: the follow loop shows the result.
    if (!(err instanceof ApiProblem && err.code === 'already_finished')) showError(describeFailure(err));
  } finally {
    ui.cancel.disabled = false;
  }
}

// ---- rendering ------------------------------------------------------------------------

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function showError(message: string): void {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function clearAnswer(): void {
  ui.answer.replaceChildren();
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function setBusy(busy: boolean): void {
  ui.generate.disabled = busy;
  ui.describe.disabled = busy || images.list.length === 0;
  // Shown once there is a job to cancel (ask); hidden when the request ends.
  if (!busy) ui.cancel.hidden = true;
  ui.form.setAttribute('aria-busy', String(busy));
}

function imageFigure(src: string, alt: string, fileName: string, onDescribe: () => void): HTMLElement {
  return h(
    'figure',
    {},
    h('img', { class: 'pixels', src, alt, width: '320', height: '320' }),
    h('figcaption', {}, h('a', { href: src, download: fileName }, 'Download PNG'), button('Describe this image', onDescribe)),
  );
}

function renderAnswer(output: readonly StoredPart[], request: Ask): void {
  ui.answer.replaceChildren(h('p', { class: 'asked' }, `You asked: ${request.prompt}${request.inputs.length > 0 ? ` (with ${request.inputs.length} image${request.inputs.length > 1 ? 's' : ''})` : ''}`));
  if (request.inputs.length > 0) {
    ui.answer.append(h('div', { class: 'given' }, ...request.inputs.map((src, k) => h('img', { class: 'pixels', src, alt: `The image you gave (${k + 1})`, width: '128', height: '128' }))));
  }
  if (output.length === 0) ui.answer.append(h('p', { class: 'text' }, '(The model gave an empty answer.)'));
  output.forEach((part, k) => {
    if (part.type === 'text') ui.answer.append(h('p', { class: 'text' }, part.text));
    else ui.answer.append(imageFigure(part.src, `Image the model drew for: ${request.prompt}`, `drawing-${k + 1}.png`, () => void describeImage(part.src, request.model)));
  });
}

function renderInputs(items: readonly Attached[]): void {
  ui.inputs.replaceChildren(
    ...items.map((item, k) =>
      h('li', {}, h('img', { class: 'pixels', src: item.dataUrl, alt: `Attached: ${item.name}` }), button('Remove', () => images.removeAt(k), { 'aria-label': `Remove ${item.name}` })),
    ),
  );
  ui.describe.disabled = items.length === 0 || running !== null;
}

function renderGallery(): void {
  const entries = gallery.list();
  ui.galleryEmpty.hidden = entries.length > 0;
  ui.gallery.replaceChildren(
    ...entries.map((entry) => {
      const image = entry.output.find((p) => p.type === 'image');
      const text = entry.output.filter((p) => p.type === 'text').map((p) => (p.type === 'text' ? p.text : '')).join(' ');
      const shown = image?.type === 'image' ? image.src : entry.inputs[0];
      return h(
        'li',
        {},
        shown ? h('img', { class: 'pixels', src: shown, alt: image ? `Drawn for: ${entry.prompt}` : 'The image that was described', width: '128', height: '128' }) : null,
        h('p', { class: 'prompt' }, entry.prompt),
        text ? h('p', { class: 'reply' }, `→ ${text}`) : null,
        h('p', { class: 'meta' }, `${entry.model} · ${entry.status} · ${new Date(entry.createdAt).toLocaleString()}`),
        h(
          'div',
          { class: 'buttons' },
          button('Run again', () => rerun(entry), { 'aria-label': `Run again: ${entry.prompt}` }),
          shown ? button('Describe this image', () => void describeImage(shown, entry.model), { 'aria-label': `Describe the image of: ${entry.prompt}` }) : null,
          button('Delete', () => (gallery.remove(entry.id), renderGallery()), { 'aria-label': `Delete: ${entry.prompt}` }),
        ),
      );
    }),
  );
}

// ---- actions --------------------------------------------------------------------------

function rerun(entry: GalleryEntry): void {
  if (models.some((m) => m.id === entry.model)) ui.model.value = entry.model;
  ui.prompt.value = entry.prompt;
  ui.steps.value = entry.settings.steps?.toString() ?? '';
  ui.guidance.value = entry.settings.guidance?.toString() ?? '';
  ui.seed.value = entry.settings.seed?.toString() ?? '';
  images.set(entry.inputs.map((dataUrl, k) => ({ name: `image ${k + 1}`, dataUrl })));
  void ask({ prompt: entry.prompt, inputs: entry.inputs, settings: entry.settings, model: entry.model });
  ui.status.scrollIntoView({ block: 'nearest' });
}

async function describeImage(src: string, model: string): Promise<void> {
  let dataUrl = src;
  if (!src.startsWith('data:')) {
    try {
      dataUrl = await readAsDataUrl(await (await fetch(src)).blob());
    } catch {
      clearAnswer();
      showError('This image cannot be read by the page (its server does not allow it); download it and attach it instead.');
      return;
    }
  }
  const prompt = promptsOf(models.find((m) => m.id === model) ?? currentModel()).describe_prompt;
  images.set([{ name: 'image to describe', dataUrl }]);
  ui.prompt.value = prompt;
  ui.status.scrollIntoView({ block: 'nearest' });
  return ask({ prompt, inputs: [dataUrl], settings: {}, model: currentModel()?.id ?? model });
}

function submitForm(): void {
  const prompt = ui.prompt.value.trim();
  if (!prompt) {
    showError('Write a prompt first (or attach an image and choose Describe).');
    ui.prompt.focus();
    return;
  }
  const settings = readSettings();
  if (!settings) return;
  void ask({ prompt, inputs: images.list.map((i) => i.dataUrl), settings, model: currentModel()?.id ?? '' });
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  submitForm();
});
ui.prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    if (!ui.generate.disabled) submitForm();
  }
});
ui.describe.addEventListener('click', () => {
  const prompt = promptsOf(currentModel()).describe_prompt;
  ui.prompt.value = prompt;
  void ask({ prompt, inputs: images.list.map((i) => i.dataUrl), settings: {}, model: currentModel()?.id ?? '' });
});
ui.cancel.addEventListener('click', () => void cancel());
ui.model.addEventListener('change', onModelChange);
ui.clearGallery.addEventListener('click', () => {
  gallery.clear();
  renderGallery();
});
ui.keyButton.addEventListener('click', () => {
  void askForKey('This server needs an API key.').then((key) => key !== null && api.setKey(key));
});
wireImageInputs(images, ui.file, ui.drop);

renderGallery();
ui.keyButton.hidden = !api.hasKey;
void Promise.all([loadModels(), loadLimits()]).catch((err: unknown) => {
  setStatus('The server could not be asked for its models.');
  showError(describeFailure(err));
});
