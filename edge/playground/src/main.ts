/**
 * The playground page: a conversation with the model (draw from a prompt, describe attached
 * images, follow an answer up with an edit, a restyle or free text), each answer followed
 * live, shown as the model gave it (text and images in order), and the threads kept in this
 * browser's gallery to reopen, continue, run again or describe.
 */
import { ApiClient, ApiProblem, describeFailure } from './api.js';
import { answeredTurns, nextTurn, requestBody, type TurnRequest, usesRefs } from './conversation.js';
import { button, byId, h } from './dom.js';
import { follow } from './follow.js';
import { Gallery, type Settings, type Thread, type Turn } from './gallery.js';
import { renderGallery as drawGallery } from './gallery-view.js';
import { type Attached, InputImages, readAsDataUrl, wireImageInputs } from './inputs.js';
import { askForKey } from './key-dialog.js';
import { OutputImages } from './output-images.js';
import { finalText, progressText } from './progress.js';
import { samplingSettings } from './sampling.js';
import { Generation, type Model, ModelList, OpenApiLimits } from './schemas.js';
import { ThreadView } from './thread-view.js';

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
  stepsHelp: byId('steps-help', HTMLParagraphElement),
  guidance: byId('guidance', HTMLInputElement),
  guidanceHelp: byId('guidance-help', HTMLParagraphElement),
  seed: byId('seed', HTMLInputElement),
  generate: byId('generate', HTMLButtonElement),
  describe: byId('describe', HTMLButtonElement),
  cancel: byId('cancel', HTMLButtonElement),
  status: byId('status', HTMLParagraphElement),
  progress: byId('progress', HTMLProgressElement),
  error: byId('error', HTMLDivElement),
  answer: byId('answer', HTMLDivElement),
  threadNote: byId('thread-note', HTMLParagraphElement),
  newThread: byId('new-thread', HTMLButtonElement),
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
/** The conversation on the page (null: the next message starts one). */
let thread: Thread | null = null;

const images = new InputImages(renderInputs, showError);
const view = new ThreadView(ui.answer, {
  describe: (item) => void send({ prompt: promptsOf(currentModel()).describe_prompt, inputs: [item], settings: {} }),
  edit: (item) => compose([item], 'make the ', null),
  restyle: (item) => {
    const style = currentModel()?.prompts?.styles?.[0] ?? 'STYLE';
    compose([item], `draw this in ${style} style`, style);
  },
  attach: (item) => {
    if (images.attach(item)) ui.prompt.focus();
  },
});

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
  applySampling(m);
  const { draw_prefix: draw } = promptsOf(m);
  const styles = m?.prompts?.styles;
  const examples = styles?.length
    ? [`${draw}snake in ${styles[0]} style`, `${draw}red heart`] // captions as the model learned them (OpenMoji annotations)
    : [`${draw}a large red circle at the top left`, `${draw}a small blue 7 at the bottom right and a large green square at the center`];
  ui.examples.replaceChildren(
    ...examples.map((text) =>
      h(
        'li',
        {},
        button(
          text,
          () => {
            ui.prompt.value = text;
            ui.prompt.focus();
          },
          { 'aria-label': `Use the example prompt: ${text}` },
        ),
      ),
    ),
  );
  // The follow-ups an answer offers follow the model's tasks.
  if (thread && !running) view.render(thread, m);
  showNextTurn();
}

/** The API's own bound on steps (its schema's), which a model's sampling may narrow. */
let apiStepsMax: number | undefined;

/** The settings' limits as the API's own schema states them. */
async function loadLimits(): Promise<void> {
  const res = await fetch(api.url('/openapi.json')).catch(() => null);
  const parsed = OpenApiLimits.safeParse(await res?.json().catch(() => null));
  if (!parsed.success) return;
  const props = parsed.data.components.schemas.CreateGenerationRequest.properties;
  for (const [input, bound] of [
    [ui.steps, props.steps],
    [ui.guidance, props.guidance],
    [ui.seed, props.seed],
  ] as const) {
    if (bound?.minimum !== undefined) input.min = String(bound.minimum);
    if (bound?.maximum !== undefined) input.max = String(bound.maximum);
  }
  apiStepsMax = props.steps?.maximum;
  applySampling(currentModel());
}

/** The steps and guidance inputs as the chosen model samples (sampling.ts). */
function applySampling(m: Model | undefined): void {
  const s = samplingSettings(m, apiStepsMax);
  if (s.stepsMax !== undefined) ui.steps.max = String(s.stepsMax);
  ui.stepsHelp.textContent = s.stepsHelp;
  ui.guidance.disabled = s.guidanceFixed;
  if (s.guidanceFixed) ui.guidance.value = '';
  ui.guidanceHelp.textContent = s.guidanceHelp;
}

// ---- asking ---------------------------------------------------------------------------

interface Ask {
  prompt: string;
  inputs: readonly Attached[];
  settings: Settings;
}

function readSettings(): Settings | null {
  const settings: Settings = {};
  for (const [name, input] of [
    ['steps', ui.steps],
    ['guidance', ui.guidance],
    ['seed', ui.seed],
  ] as const) {
    // A disabled input (guidance a model has fixed) is the model's own: not sent.
    if (input.disabled || input.value.trim() === '') continue;
    if (!input.checkValidity()) {
      showError(`${input.labels?.[0]?.textContent ?? name}: ${input.validationMessage}`);
      input.focus();
      return null;
    }
    settings[name] = Number(input.value);
  }
  return settings;
}

/** Says under the composer what the next message does: continue this thread, or start one (and why). */
function showNextTurn(): void {
  const m = currentModel();
  const next = nextTurn(thread, m);
  const name = m?.name ?? m?.id ?? 'This model';
  ui.newThread.hidden = thread === null;
  if (next.kind === 'continue') {
    const n = answeredTurns(next.thread).length;
    ui.threadNote.textContent = `Your message continues this conversation: the ${n === 1 ? 'answer' : `${n} turns`} above ${n === 1 ? 'goes' : 'go'} with it.`;
  } else if (next.why === 'single_turn') {
    ui.threadNote.textContent = `${name} answers one turn at a time: your message starts a new single-turn request (the conversation above is not sent with it).`;
  } else if (next.why === 'other_model') {
    ui.threadNote.textContent = `This conversation is with ${thread?.model ?? 'another model'}: a message to ${name} starts a new one.`;
  } else {
    ui.threadNote.textContent = 'Your message starts a new conversation.';
  }
}

function newThread(model: string): Thread {
  return { id: `thread_${crypto.randomUUID()}`, createdAt: new Date().toISOString(), model, turns: [] };
}

/**
 * Sends one user turn: it continues the thread on the page where the model reads several
 * turns (the history goes with it as `messages`), else it starts a new thread. `fresh`
 * always starts one (the gallery's actions). Resolves true once the server took it.
 */
async function send(request: Ask, options: { fresh?: boolean; fromComposer?: boolean } = {}): Promise<boolean> {
  // One job on the page at a time: one still running (a gallery action started another) is canceled, not left unseen.
  if (running?.id)
    void api.json(Generation, `/v1/generations/${encodeURIComponent(running.id)}/cancel`, { method: 'POST' }).catch(() => {});
  running?.abort.abort();
  const abort = new AbortController();
  const mine = { id: null as string | null, abort };
  running = mine;
  const model = currentModel();
  const modelId = model?.id ?? '';
  const next = options.fresh ? null : nextTurn(thread, model);
  if (next?.kind !== 'continue') {
    thread = newThread(modelId);
    view.clear();
  }
  const here = thread as Thread;
  const history = answeredTurns(here);
  const turn: Turn = {
    prompt: request.prompt,
    inputs: request.inputs.map((i) => ({ src: i.dataUrl, ...(i.ref ? { ref: i.ref } : {}) })),
    settings: request.settings,
    generation: null,
    status: 'sending',
    output: [],
  };
  here.turns.push(turn);
  const k = here.turns.length - 1;
  const redraw = (isRunning: boolean) => thread === here && view.renderTurn(turn, k, currentModel(), isRunning);
  redraw(true);
  clearError();
  setBusy(true);
  setStatus('Sending…');
  showNextTurn();
  const outputs = new OutputImages(api, abort.signal);
  try {
    const req: TurnRequest = { history, turn, settings: request.settings, ...(serverChoosesModels ? { model: modelId } : {}) };
    let g = await create(req, abort.signal);
    mine.id = g.id;
    turn.generation = g.id;
    if (options.fromComposer) clearComposer();
    // Each image is shown as it comes; the chain keeps the redraws in order.
    let shown = 0;
    let chain = Promise.resolve();
    const onUpdate = (update: Generation) => {
      showProgress(update);
      if (update.output.length === shown) return;
      shown = update.output.length;
      chain = chain.then(async () => {
        turn.output = await outputs.stored(update.id, update.output);
        if (running === mine) redraw(true);
        showProgress(update);
      });
    };
    onUpdate(g);
    if (g.status === 'queued' || g.status === 'running') {
      ui.cancel.hidden = false;
      g = await follow(api, g.id, onUpdate, abort.signal);
    }
    await chain;
    turn.output = await outputs.stored(g.id, g.output);
    turn.status = g.status;
    redraw(false);
    showFinal(g, turn.output.filter((p) => p.type === 'image').length);
    gallery.put(here);
    renderGallery();
    return true;
  } catch (err) {
    if (turn.generation === null) {
      // The server never took it: the turn leaves the thread (the composer keeps it to fix and resend).
      here.turns.splice(k, 1);
      if (thread === here) view.removeTurn(k);
      if (here.turns.length === 0 && thread === here) thread = null;
    } else {
      turn.status = 'canceled';
      redraw(false);
      gallery.put(here);
      renderGallery();
    }
    if (abort.signal.aborted) return false;
    setStatus('Something went wrong.');
    showError(describeFailure(err));
    return false;
  } finally {
    if (running === mine) {
      running = null;
      setBusy(false);
    }
    showNextTurn();
  }
}

/** POST /v1/generations; a referenced generation that is gone (404) is retried with the images' own data URLs. */
async function create(req: TurnRequest, signal: AbortSignal): Promise<Generation> {
  try {
    return await api.json(Generation, '/v1/generations', { body: requestBody(req), signal });
  } catch (err) {
    if (!(err instanceof ApiProblem && err.status === 404 && usesRefs(req))) throw err;
    return api.json(Generation, '/v1/generations', { body: requestBody(req, false), signal });
  }
}

function showProgress(g: Generation): void {
  const text = progressText(g);
  if (text === null) return;
  setStatus(text);
  ui.progress.hidden = false;
  if (g.status === 'queued') {
    ui.progress.removeAttribute('value');
    view.setLive(text);
  } else {
    const { step, steps, image = 0 } = g.progress;
    ui.progress.max = Math.max(1, steps);
    ui.progress.value = step;
    view.setLive(`Image ${image + 1}, step ${step} of ${steps}`);
  }
}

function showFinal(g: Generation, images: number): void {
  ui.progress.hidden = true;
  setStatus(finalText(g, images));
  if (g.status === 'failed') showError(g.error?.message ?? 'The generation failed.');
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

function clearError(): void {
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

function renderInputs(items: readonly Attached[]): void {
  ui.inputs.replaceChildren(
    ...items.map((item, k) =>
      h(
        'li',
        {},
        h('img', { class: 'pixels', src: item.dataUrl, alt: `Attached: ${item.name}` }),
        button('Remove', () => images.removeAt(k), { 'aria-label': `Remove ${item.name}` }),
      ),
    ),
  );
  ui.describe.disabled = items.length === 0 || running !== null;
}

function renderGallery(): void {
  drawGallery(ui.gallery, ui.galleryEmpty, gallery, {
    open: openThread,
    rerun,
    describe: (src, model) => void describeImage(src, model),
    changed: renderGallery,
  });
}

// ---- actions --------------------------------------------------------------------------

function clearComposer(): void {
  ui.prompt.value = '';
  images.set([]);
}

/** A follow-up's composer: the answer's image attached and a suggested prompt, `select` (a word of it) chosen to type over. */
function compose(items: readonly Attached[], prompt: string, select: string | null): void {
  images.set(items);
  ui.prompt.value = prompt;
  ui.prompt.focus();
  const at = select === null ? -1 : prompt.indexOf(select);
  if (at >= 0 && select !== null) ui.prompt.setSelectionRange(at, at + select.length);
  else ui.prompt.setSelectionRange(prompt.length, prompt.length);
  ui.prompt.scrollIntoView({ block: 'nearest' });
}

function selectModel(id: string): void {
  if (models.some((m) => m.id === id) && ui.model.value !== id) {
    ui.model.value = id;
    onModelChange();
  }
}

function fillSettings(settings: Settings): void {
  ui.steps.value = settings.steps?.toString() ?? '';
  ui.guidance.value = settings.guidance?.toString() ?? '';
  ui.seed.value = settings.seed?.toString() ?? '';
}

const attachedOf = (turn: Turn): Attached[] =>
  turn.inputs.map((i, k) => ({ name: `image ${k + 1}`, dataUrl: i.src, ...(i.ref ? { ref: i.ref } : {}) }));

/** A kept thread back on the page, to read and continue. */
function openThread(entry: Thread): void {
  if (running) return void showError('Wait for the answer being made (or cancel it) before opening another conversation.');
  thread = structuredClone(entry);
  selectModel(entry.model);
  clearError();
  view.render(thread, currentModel());
  const last = thread.turns.at(-1);
  if (last) fillSettings(last.settings);
  setStatus(`Reopened a conversation of ${thread.turns.length} turn${thread.turns.length === 1 ? '' : 's'}.`);
  showNextTurn();
  ui.prompt.focus();
  ui.answer.scrollIntoView({ block: 'nearest' });
}

/** The thread's first turn again, as a new thread. */
function rerun(entry: Thread): void {
  const first = entry.turns[0];
  if (!first) return;
  selectModel(entry.model);
  ui.prompt.value = first.prompt;
  fillSettings(first.settings);
  images.set(attachedOf(first));
  void send({ prompt: first.prompt, inputs: attachedOf(first), settings: first.settings }, { fresh: true });
  ui.status.scrollIntoView({ block: 'nearest' });
}

async function describeImage(src: string, model: string): Promise<void> {
  let dataUrl = src;
  if (!src.startsWith('data:')) {
    try {
      dataUrl = await readAsDataUrl(await (await fetch(src)).blob());
    } catch {
      showError('This image cannot be read by the page (its server does not allow it); download it and attach it instead.');
      return;
    }
  }
  selectModel(model);
  const prompt = promptsOf(currentModel()).describe_prompt;
  ui.status.scrollIntoView({ block: 'nearest' });
  await send({ prompt, inputs: [{ name: 'image to describe', dataUrl }], settings: {} }, { fresh: true });
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
  void send({ prompt, inputs: images.list, settings }, { fromComposer: true });
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
  void send({ prompt, inputs: images.list, settings: {} }, { fromComposer: true });
});
ui.cancel.addEventListener('click', () => void cancel());
ui.model.addEventListener('change', onModelChange);
ui.newThread.addEventListener('click', () => {
  thread = null;
  view.clear();
  clearError();
  setStatus('A new conversation: nothing asked yet.');
  showNextTurn();
  ui.prompt.focus();
});
ui.clearGallery.addEventListener('click', () => {
  gallery.clear();
  renderGallery();
});
ui.keyButton.addEventListener('click', () => {
  void askForKey('This server needs an API key.').then((key) => key !== null && api.setKey(key));
});
wireImageInputs(images, ui.file, ui.drop);

renderGallery();
showNextTurn();
ui.keyButton.hidden = !api.hasKey;
void Promise.all([loadModels(), loadLimits()]).catch((err: unknown) => {
  setStatus('The server could not be asked for its models.');
  showError(describeFailure(err));
});
