/**
 * The playground in a real browser (Debian's Chromium through playwright-core) against the
 * real system on loopback: the edge serving the page and a worker process. Each state the
 * tests reach is saved as a screenshot under results/playground/.
 *
 * Three servers: one with a worker (draw, describe, conversations, keyboard; it serves the
 * test model and a copy that answers one turn at a time), one without (a job stays queued:
 * cancel it), one with API_KEYS (the key prompt).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlayground } from '../../edge/playground/build.js';
import { type Edge, MODEL_DIR, startEdge, startWorkerProcess, stopProcess, tempDataDir, type WorkerProcess } from '../e2e/system.js';
import { pngBytes } from '../support/images.js';
import { launchChromium, newPage, screenshot } from './browser.js';

const KEY = 'playground-test-key-1';
const dirs = [tempDataDir(), tempDataDir(), tempDataDir()];
type ManifestJson = { name: string; conversation: Record<string, unknown>; diffusion: Record<string, unknown> };

/** A copy of the test model under another name, its manifest changed by `change`. */
function modelCopy(name: string, change: (manifest: ManifestJson) => void): string {
  const dir = join(dirs[0]!.dir, `${name}-model`);
  cpSync(MODEL_DIR, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestJson;
  manifest.name = name;
  change(manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}
/** A copy of the test model that declares no multi_turn (nor restyle): a follow-up to it starts a new single-turn request. */
const SINGLE = 'tiny-single';
const singleTurnCopy = (): string => modelCopy(SINGLE, (m) => (m.conversation['tasks'] = ['draw', 'describe', 'edit']));
/** A copy of the test model declared as a few-step student: 1 or 2 steps, its guidance fixed in the network. */
const STUDENT = 'tiny-student';
const studentCopy = (): string =>
  modelCopy(STUDENT, (m) => (m.diffusion = { ...m.diffusion, default_steps: 1, steps: { supported: [1, 2] }, guidance: 'fixed' }));
let browser: Browser;
let withWorker: Edge;
let withoutWorker: Edge;
let withKeys: Edge;
let worker: WorkerProcess;

beforeAll(async () => {
  buildPlayground();
  const models = { MODELS: `${MODEL_DIR},${singleTurnCopy()},${studentCopy()}` };
  [browser, withWorker, withoutWorker, withKeys, worker] = await Promise.all([
    launchChromium(),
    startEdge(dirs[0]!.dir, models),
    startEdge(dirs[1]!.dir),
    startEdge(dirs[2]!.dir, { API_KEYS: KEY }),
    startWorkerProcess(dirs[0]!.dir, models),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.allSettled([withWorker?.close(), withoutWorker?.close(), withKeys?.close(), worker && stopProcess(worker)]);
  for (const d of dirs) d.remove();
});

/** Opens the page and records every status line it shows (the live region), in order. */
async function open(
  base: string,
  colorScheme: 'light' | 'dark' = 'light',
): Promise<{ page: Page; statuses: () => Promise<string[]>; close(): Promise<void> }> {
  const { context, page } = await newPage(browser, { colorScheme });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __statuses: string[] }).__statuses = seen;
    document.addEventListener('DOMContentLoaded', () => {
      const status = document.getElementById('status')!;
      new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
  });
  await page.goto(`${base}/`);
  return {
    page,
    statuses: () => page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses),
    async close() {
      expect(errors, 'uncaught errors in the page').toEqual([]);
      await context.close();
    },
  };
}

const promptBox = (page: Page) => page.getByRole('textbox', { name: 'Prompt', exact: true });
const modelLoaded = (page: Page, edge: Edge) =>
  expect.poll(() => page.locator('#model option').first().textContent()).toBe(edge.deps.models.default.manifest.name);

/** WCAG contrast of each element's text against the background it is drawn on (the nearest opaque one). */
function contrastOf(page: Page, selectors: string[]): Promise<Record<string, number>> {
  return page.evaluate((sels) => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) =>
      [r!, g!, b!]
        .map((c) => {
          const v = c / 255;
          return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        })
        .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i]!, 0);
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.99)) return c;
      }
      return [255, 255, 255];
    };
    const out: Record<string, number> = {};
    for (const sel of sels) {
      const el = document.querySelector(sel)!;
      const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))].sort((x, y) => y - x);
      out[sel] = Math.round(((a! + 0.05) / (b! + 0.05)) * 100) / 100;
    }
    return out;
  }, selectors);
}

function pngFile(name: string, pixel: Parameters<typeof pngBytes>[2]): string {
  const path = join(dirs[0]!.dir, name);
  writeFileSync(path, pngBytes(64, 64, pixel));
  return path;
}

describe('the playground in Chromium', () => {
  it('serves a page that works without a build step for the user', async () => {
    const res = await fetch(`${withWorker.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = await fetch(`${withWorker.url}/playground/playground.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    // A few kB: no framework.
    expect((await script.text()).length).toBeLessThan(60_000);
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`draws a prompt: progress, then the image enlarged with crisp pixels (${scheme})`, async () => {
      const { page, statuses, close } = await open(withWorker.url, scheme);
      await modelLoaded(page, withWorker);
      await promptBox(page).fill('draw a large red circle at the top left');
      await page.getByText('Settings').click();
      // 100 steps (the most): the tiny model draws 20 within one read of the record, and the page
      // would show no progress line to check.
      await page.getByLabel('Denoising steps').fill('100');
      await page.getByLabel('Seed').fill('7');
      await page.getByRole('button', { name: 'Generate' }).click();
      const image = page.locator('#answer figure img');
      await expect.poll(() => image.count(), { timeout: 60_000 }).toBe(1);
      await expect.poll(() => page.locator('#status').textContent()).toBe('Done: 100 denoising steps.');
      const seen = await statuses();
      expect(seen[0]).toBe('Sending…');
      expect(seen).toContain('Waiting in the queue…');
      const drawing = seen.filter((t) => t.startsWith('Drawing'));
      expect(drawing.length).toBeGreaterThan(0);
      for (const s of drawing) expect(s).toMatch(/^Drawing: image 1, step \d+ of 100\.$/);
      expect(await image.evaluate((img) => getComputedStyle(img).imageRendering)).toBe('pixelated');
      const box = await image.boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(256);
      expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(withWorker.deps.models.default.manifest.image.width);
      expect(await image.getAttribute('alt')).toBe('Image the model drew for: draw a large red circle at the top left');
      expect(await page.getByRole('link', { name: 'Download PNG' }).getAttribute('download')).toBe('drawing-1-1.png');
      // Kept in the gallery, with the settings to run it again.
      const entry = page.locator('#gallery li').first();
      await expect.poll(() => entry.locator('.prompt').textContent()).toBe('draw a large red circle at the top left');
      // AA contrast (4.5:1) for text: body, help, the status line, links, buttons.
      const contrast = await contrastOf(page, [
        'h1',
        '.tagline',
        '#model-help',
        '#status',
        'a[href="./docs"]',
        '#generate',
        '.gallery .meta',
        'figcaption a',
      ]);
      for (const [selector, ratio] of Object.entries(contrast)) expect(ratio, selector).toBeGreaterThanOrEqual(4.5);
      await screenshot(page, `draw-${scheme}`);
      await close();
    });
  }

  it('describes an uploaded image (image in, text out)', async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    await page.locator('#file').setInputFiles(pngFile('red.png', (x, y) => (x < 32 && y < 32 ? [220, 30, 30, 255] : [255, 255, 255, 255])));
    await expect.poll(() => page.getByRole('list', { name: 'Attached images' }).locator('img').count()).toBe(1);
    await page.getByRole('button', { name: 'Describe the image', exact: true }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toBe('Done.');
    expect(await page.locator('#answer .asked').textContent()).toBe('You asked: describe the image (with 1 image)');
    // The image asked about, then the answer: text (whatever the fixture model says), never an image.
    expect(await page.locator('#answer .given img').getAttribute('alt')).toBe('The image you gave (1)');
    expect(await page.locator('#answer figure').count()).toBe(0);
    expect(await page.locator('#answer .text').count()).toBe(1);
    expect(await page.locator('#gallery li').first().locator('.prompt').textContent()).toBe('describe the image');
    await screenshot(page, 'describe');
    await close();
  });

  it('attaches images by drag and drop and by paste', async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const png = pngBytes(8, 8, () => [30, 70, 220, 255]).toString('base64');
    await page.evaluate(async (b64) => {
      const file = () => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'blue.png', { type: 'image/png' });
      const dropped = new DataTransfer();
      dropped.items.add(file());
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, bubbles: true, cancelable: true }));
      const pasted = new DataTransfer();
      pasted.items.add(file());
      document
        .getElementById('prompt')!
        .dispatchEvent(new ClipboardEvent('paste', { clipboardData: pasted, bubbles: true, cancelable: true }));
    }, png);
    const attached = page.getByRole('list', { name: 'Attached images' }).locator('img');
    await expect.poll(() => attached.count()).toBe(2);
    expect(await attached.first().getAttribute('src')).toBe(`data:image/png;base64,${png}`);
    expect(await page.getByRole('button', { name: 'Describe the image', exact: true }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Remove blue.png' }).first().click();
    await expect.poll(() => attached.count()).toBe(1);
    await close();
  });

  it('runs a gallery entry again with its prompt and settings', async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    await promptBox(page).fill('draw a small yellow 3 at the top right');
    await page.getByText('Settings').click();
    await page.getByLabel('Denoising steps').fill('4');
    await page.getByLabel('Seed').fill('12345');
    await page.getByRole('button', { name: 'Generate' }).click();
    const entries = page.locator('#gallery li');
    await expect.poll(() => entries.count(), { timeout: 60_000 }).toBe(1);
    await page.getByLabel('Seed').fill('');
    await promptBox(page).fill('something else');
    await entries
      .first()
      .getByRole('button', { name: /^Run again/ })
      .click();
    await expect.poll(() => entries.count(), { timeout: 60_000 }).toBe(2);
    expect(await promptBox(page).inputValue()).toBe('draw a small yellow 3 at the top right');
    expect(await page.getByLabel('Seed').inputValue()).toBe('12345');
    // The same seed and steps draw the same picture.
    const [again, first] = await entries.locator('img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')));
    expect(again).toBe(first);
    expect(await page.locator('#status').textContent()).toBe('Done: 4 denoising steps.');
    await close();
  });

  it("fits the settings to the model's sampling: a few-step model's steps, its guidance fixed", async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    await page.getByText('Settings').click();
    const steps = page.getByLabel('Denoising steps', { exact: true });
    const guidance = page.getByLabel('Guidance', { exact: true });
    await expect.poll(() => steps.getAttribute('max')).toBe('100');
    await guidance.fill('3');
    await page.getByLabel('Model', { exact: true }).selectOption(STUDENT);
    expect(await steps.getAttribute('max')).toBe('2');
    expect(await page.locator('#steps-help').textContent()).toBe(`${STUDENT} draws in 1 or 2 steps. Empty: 1.`);
    expect(await guidance.isDisabled()).toBe(true);
    expect(await guidance.inputValue()).toBe('');
    expect(await page.locator('#guidance-help').textContent()).toMatch(new RegExp(`^Fixed at [0-9.]+ for ${STUDENT}`));
    await screenshot(page, 'few-step-model-settings');
    // It draws in the steps it serves; the page sends no guidance for it.
    const posted = postedBodies(page);
    await steps.fill('2');
    await promptBox(page).fill('draw a small red circle at the top left');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 60_000 }).toBe('Done: 2 denoising steps.');
    expect(posted[0]).toMatchObject({ model: STUDENT, steps: 2 });
    expect(posted[0]).not.toHaveProperty('guidance');
    // Back on the default model, guidance is the client's again.
    await page.getByLabel('Model', { exact: true }).selectOption(withWorker.deps.models.default.manifest.name ?? '');
    expect(await guidance.isDisabled()).toBe(false);
    expect(await steps.getAttribute('max')).toBe('100');
    await close();
  });

  it("shows the API's error in plain words", async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const fake = join(dirs[0]!.dir, 'not-really.png');
    writeFileSync(fake, 'this is text, not a picture');
    await page
      .locator('#file')
      .setInputFiles({ name: 'not-really.png', mimeType: 'image/png', buffer: Buffer.from('this is text, not a picture') });
    await promptBox(page).fill('describe the image');
    await page.getByRole('button', { name: 'Generate' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /./ }).first();
    await expect.poll(() => alert.textContent()).toBe('images[0]: the bytes are not a PNG, JPEG, WebP or GIF image');
    expect(await page.locator('#status').textContent()).toBe('Something went wrong.');
    await screenshot(page, 'error');
    await close();
  });

  it('cancels a job that is waiting or running', async () => {
    const { page, close } = await open(withoutWorker.url);
    await modelLoaded(page, withoutWorker);
    await promptBox(page).fill('draw a small blue 7 at the bottom right');
    await page.getByRole('button', { name: 'Generate' }).click();
    const cancel = page.getByRole('button', { name: 'Cancel' });
    await cancel.waitFor({ state: 'visible' });
    expect(await page.locator('#status').textContent()).toBe('Waiting in the queue…');
    expect(await page.locator('#progress').isVisible()).toBe(true);
    await screenshot(page, 'queued');
    await cancel.click();
    await expect.poll(() => page.locator('#status').textContent()).toBe('Canceled.');
    expect(await cancel.isVisible()).toBe(false);
    const id = await page.evaluate(
      () => (JSON.parse(localStorage.getItem('playground.gallery.v2')!) as { turns: { generation: string }[] }[])[0]!.turns[0]!.generation,
    );
    expect((await withoutWorker.deps.jobs.get(id))!.status).toBe('canceled');
    await screenshot(page, 'canceled');
    await close();
  });

  it('asks for the API key when the server has API_KEYS, and keeps it for the tab', async () => {
    const { page, close } = await open(withKeys.url);
    const dialog = page.getByRole('dialog', { name: 'API key' });
    await dialog.waitFor({ state: 'visible' });
    await screenshot(page, 'key-prompt');
    await dialog.getByLabel('Key').fill('wrong-key-123');
    await dialog.getByRole('button', { name: 'Use this key' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toBe('the API key is not valid');
    await dialog.getByLabel('Key').fill(KEY);
    await dialog.getByRole('button', { name: 'Use this key' }).click();
    await modelLoaded(page, withKeys);
    expect(await dialog.isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('playground.apiKey'))).toBe(KEY);
    // Requests now carry it: a generation is created (no worker here: it waits).
    await promptBox(page).fill('draw a red circle');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.locator('#status').textContent()).toBe('Waiting in the queue…');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('#status').textContent()).toBe('Canceled.');
    await close();
  });

  it('works from the keyboard alone', async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const focusOn = async (selector: string): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached ${selector}`);
    };
    // The skip link is the first stop and lands on the prompt.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the prompt');
    await page.keyboard.press('Enter');
    await focusOn('#prompt');
    await page.keyboard.type('draw a large green square at the center');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.locator('#answer figure img').count(), { timeout: 60_000 }).toBe(1);
    // Describe the drawn image: Tab to its button, Enter (a second turn of the conversation).
    await focusOn('#answer figcaption button[aria-label^="Describe this image"]');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('#answer .asked').last().textContent(), { timeout: 30_000 })
      .toBe('You asked: describe the image (with 1 image)');
    // The turn shows at once; its answer comes when the server has decoded it.
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toBe('Done.');
    await screenshot(page, 'keyboard');
    await close();
  });
});

/** The bodies the page POSTs to /v1/generations, in order. */
function postedBodies(page: Page): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/generations') bodies.push(r.postDataJSON() as Record<string, unknown>);
  });
  return bodies;
}

interface KeptThread {
  id: string;
  model: string;
  turns: { prompt: string; generation: string; status: string }[];
}
const keptThreads = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('playground.gallery.v2') ?? '[]') as KeptThread[]);

const done = (page: Page) => expect.poll(() => page.locator('#status').textContent(), { timeout: 60_000 }).toMatch(/^Done/);

/** Draws the first turn (seeded) and waits for its image. */
async function drawFirstTurn(page: Page, prompt: string): Promise<void> {
  await promptBox(page).fill(prompt);
  await page.getByText('Settings').click();
  await page.getByLabel('Denoising steps').fill('4');
  await page.getByLabel('Seed').fill('7');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect.poll(() => page.locator('#answer figure img').count(), { timeout: 60_000 }).toBe(1);
  await done(page);
}

describe('conversations in the playground', () => {
  it("sends the whole history with a follow-up, the first answer's image by reference", async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const posted = postedBodies(page);
    expect(await page.locator('#thread-note').textContent()).toBe('Your message starts a new conversation.');
    await drawFirstTurn(page, 'draw a large red circle at the top left');
    expect(await page.locator('#thread-note').textContent()).toBe(
      'Your message continues this conversation: the answer above goes with it.',
    );
    // The composer is empty again, ready for the next turn.
    expect(await promptBox(page).inputValue()).toBe('');
    const [first] = await keptThreads(page);
    const g1 = first!.turns[0]!.generation;
    await promptBox(page).fill('make the circle at the top left blue');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.locator('#answer .turn').count()).toBe(2);
    await done(page);
    expect(posted).toHaveLength(2);
    expect(posted[0]).toMatchObject({ prompt: 'draw a large red circle at the top left', steps: 4, seed: 7 });
    expect(posted[1]!['messages']).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'draw a large red circle at the top left' }] },
      { role: 'assistant', content: [{ type: 'image', generation: g1, index: 0 }] },
      { role: 'user', content: [{ type: 'text', text: 'make the circle at the top left blue' }] },
    ]);
    // The server read the image from the first generation.
    const threads = await keptThreads(page);
    expect(threads).toHaveLength(1);
    expect(threads[0]!.turns.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    const second = await withWorker.deps.jobs.get(threads[0]!.turns[1]!.generation);
    expect(second!.messages![1]!.content[0]).toMatchObject({ type: 'image', generation: g1, index: 0 });
    expect(await page.locator('#answer .turn').last().locator('.asked').textContent()).toBe(
      'You asked: make the circle at the top left blue',
    );
    expect(await page.locator('#gallery li .meta').first().textContent()).toMatch(/^tiny · 2 turns · succeeded · /);
    await screenshot(page, 'conversation');
    await close();
  });

  it('follows an answer up with "Edit this": its image in the composer with a suggested prompt', async () => {
    const { page, close } = await open(withWorker.url, 'dark');
    await modelLoaded(page, withWorker);
    const posted = postedBodies(page);
    await drawFirstTurn(page, 'draw a small blue 7 at the bottom right');
    const g1 = (await keptThreads(page))[0]!.turns[0]!.generation;
    // The test model declares restyle: both follow-ups are offered.
    expect(await page.getByRole('button', { name: /^Restyle this/ }).count()).toBe(1);
    await page.getByRole('button', { name: 'Edit this: image 1 of answer 1' }).click();
    const attached = page.getByRole('list', { name: 'Attached images' }).locator('img');
    await expect.poll(() => attached.count()).toBe(1);
    expect(await attached.getAttribute('alt')).toBe('Attached: answer 1, image 1');
    expect(await promptBox(page).inputValue()).toBe('make the ');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    await page.keyboard.type('7 at the bottom right red');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.locator('#answer .turn').count()).toBe(2);
    await done(page);
    const messages = posted[1]!['messages'] as { role: string; content: unknown[] }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[2]!.content).toEqual([
      { type: 'image', generation: g1, index: 0 },
      { type: 'text', text: 'make the 7 at the bottom right red' },
    ]);
    // The turn shows the image it was given; the composer is cleared.
    expect(await page.locator('#answer .turn').last().locator('.given img').count()).toBe(1);
    expect(await attached.count()).toBe(0);
    await screenshot(page, 'edit-this');
    await close();
  });

  it("drags an answer's image into the next turn", async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const posted = postedBodies(page);
    await drawFirstTurn(page, 'draw a large green square at the center');
    const g1 = (await keptThreads(page))[0]!.turns[0]!.generation;
    await page.locator('#answer figure img').dragTo(page.locator('#drop'));
    const attached = page.getByRole('list', { name: 'Attached images' }).locator('img');
    await expect.poll(() => attached.count()).toBe(1);
    await promptBox(page).fill('describe the image');
    await page.getByRole('button', { name: 'Generate' }).click();
    await done(page);
    expect(posted).toHaveLength(2);
    expect((posted[1]!['messages'] as { content: unknown[] }[])[2]!.content[0]).toEqual({ type: 'image', generation: g1, index: 0 });
    await close();
  });

  it('reopens a kept conversation from the gallery after a reload and continues it', async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const posted = postedBodies(page);
    await drawFirstTurn(page, 'draw a small yellow 3 at the top right');
    await promptBox(page).fill('make the 3 at the top right large');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.locator('#answer .turn').count()).toBe(2);
    await done(page);
    const before = (await keptThreads(page))[0]!;
    await page.reload();
    await modelLoaded(page, withWorker);
    expect(await page.locator('#answer .turn').count()).toBe(0);
    await page.getByRole('button', { name: 'Open the conversation: draw a small yellow 3 at the top right' }).click();
    await expect.poll(() => page.locator('#answer .turn').count()).toBe(2);
    expect(await page.locator('#status').textContent()).toBe('Reopened a conversation of 2 turns.');
    expect(await page.locator('#answer figure img').count()).toBe(1);
    expect(await page.locator('#thread-note').textContent()).toBe(
      'Your message continues this conversation: the 2 turns above go with it.',
    );
    await promptBox(page).fill('describe the image');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.locator('#answer .turn').count()).toBe(3);
    await done(page);
    expect(posted).toHaveLength(3);
    const messages = posted[2]!['messages'] as { role: string; content: unknown[] }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[1]!.content).toEqual([{ type: 'image', generation: before.turns[0]!.generation, index: 0 }]);
    // Still one thread in the gallery, now of three turns.
    const after = await keptThreads(page);
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(before.id);
    expect(after[0]!.turns).toHaveLength(3);
    await screenshot(page, 'reopened');
    await close();
  });

  it('starts a new single-turn request for a follow-up to a model without multi_turn, and says so', async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const posted = postedBodies(page);
    await page.getByLabel('Model', { exact: true }).selectOption(SINGLE);
    await drawFirstTurn(page, 'draw a large red circle at the top left');
    const g1 = (await keptThreads(page))[0]!.turns[0]!.generation;
    expect(await page.locator('#thread-note').textContent()).toBe(
      `${SINGLE} answers one turn at a time: your message starts a new single-turn request (the conversation above is not sent with it).`,
    );
    // No restyle for a model that does not declare it.
    expect(await page.getByRole('button', { name: /^Restyle this/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Edit this: image 1 of answer 1' }).click();
    await page.keyboard.type('circle at the top left blue');
    await page.getByRole('button', { name: 'Generate' }).click();
    await done(page);
    expect(posted[1]).toMatchObject({
      model: SINGLE,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', generation: g1, index: 0 },
            { type: 'text', text: 'make the circle at the top left blue' },
          ],
        },
      ],
    });
    // A new thread on the page and in the gallery.
    expect(await page.locator('#answer .turn').count()).toBe(1);
    expect(await page.locator('#answer .asked').textContent()).toBe('You asked: make the circle at the top left blue (with 1 image)');
    expect((await keptThreads(page)).map((t) => t.turns.length)).toEqual([1, 1]);
    await screenshot(page, 'single-turn');
    await close();
  });
});
