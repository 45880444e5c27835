/**
 * The playground in a real browser (Debian's Chromium through playwright-core) against the
 * real system on loopback: the edge serving the page and a worker process. Each state the
 * tests reach is saved as a screenshot under results/playground/.
 *
 * Three servers: one with a worker (draw, describe, keyboard), one without (a job stays
 * queued: cancel it), one with API_KEYS (the key prompt).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '../../edge/images/test-images.js';
import { buildPlayground } from '../../edge/playground/build.js';
import { startEdge, startWorkerProcess, stopProcess, tempDataDir, type Edge, type WorkerProcess } from '../e2e/system.js';
import { launchChromium, newPage, screenshot } from './browser.js';

const KEY = 'playground-test-key-1';
const dirs = [tempDataDir(), tempDataDir(), tempDataDir()];
let browser: Browser;
let withWorker: Edge;
let withoutWorker: Edge;
let withKeys: Edge;
let worker: WorkerProcess;

beforeAll(async () => {
  buildPlayground();
  [browser, withWorker, withoutWorker, withKeys, worker] = await Promise.all([
    launchChromium(),
    startEdge(dirs[0]!.dir),
    startEdge(dirs[1]!.dir),
    startEdge(dirs[2]!.dir, { API_KEYS: KEY }),
    startWorkerProcess(dirs[0]!.dir),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.allSettled([withWorker?.close(), withoutWorker?.close(), withKeys?.close(), worker && stopProcess(worker)]);
  for (const d of dirs) d.remove();
});

/** Opens the page and records every status line it shows (the live region), in order. */
async function open(base: string, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; statuses: () => Promise<string[]>; close(): Promise<void> }> {
  const { context, page } = await newPage(browser, { colorScheme });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __statuses: string[] }).__statuses = seen;
    document.addEventListener('DOMContentLoaded', () => {
      const status = document.getElementById('status')!;
      new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
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
const modelLoaded = (page: Page, edge: Edge) => expect.poll(() => page.locator('#model option').first().textContent()).toBe(edge.deps.models.default.manifest.name);

/** WCAG contrast of each element's text against the background it is drawn on (the nearest opaque one). */
function contrastOf(page: Page, selectors: string[]): Promise<Record<string, number>> {
  return page.evaluate((sels) => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) =>
      [r!, g!, b!].map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i]!, 0);
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
      await page.getByLabel('Denoising steps').fill('20');
      await page.getByLabel('Seed').fill('7');
      await page.getByRole('button', { name: 'Generate' }).click();
      const image = page.locator('#answer figure img');
      await expect.poll(() => image.count(), { timeout: 60_000 }).toBe(1);
      await expect.poll(() => page.locator('#status').textContent()).toBe('Done: 20 denoising steps.');
      const seen = await statuses();
      expect(seen[0]).toBe('Sending…');
      expect(seen).toContain('Waiting in the queue…');
      for (const s of seen.filter((t) => t.startsWith('Drawing'))) expect(s).toMatch(/^Drawing: denoising step \d+ of 20\.$/);
      expect(await image.evaluate((img) => getComputedStyle(img).imageRendering)).toBe('pixelated');
      const box = await image.boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(256);
      expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(withWorker.deps.models.default.manifest.image.width);
      expect(await image.getAttribute('alt')).toBe('Image the model drew for: draw a large red circle at the top left');
      expect(await page.getByRole('link', { name: 'Download PNG' }).getAttribute('download')).toBe('drawing-1.png');
      // Kept in the gallery, with the settings to run it again.
      const entry = page.locator('#gallery li').first();
      await expect.poll(() => entry.locator('.prompt').textContent()).toBe('draw a large red circle at the top left');
      // AA contrast (4.5:1) for text: body, help, the status line, links, buttons.
      const contrast = await contrastOf(page, ['h1', '.tagline', '#model-help', '#status', 'a[href="./docs"]', '#generate', '.gallery .meta', 'figcaption a']);
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
      document.getElementById('prompt')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: pasted, bubbles: true, cancelable: true }));
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
    await entries.first().getByRole('button', { name: /^Run again/ }).click();
    await expect.poll(() => entries.count(), { timeout: 60_000 }).toBe(2);
    expect(await promptBox(page).inputValue()).toBe('draw a small yellow 3 at the top right');
    expect(await page.getByLabel('Seed').inputValue()).toBe('12345');
    // The same seed and steps draw the same picture.
    const [again, first] = await entries.locator('img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')));
    expect(again).toBe(first);
    expect(await page.locator('#status').textContent()).toBe('Done: 4 denoising steps.');
    await close();
  });

  it("shows the API's error in plain words", async () => {
    const { page, close } = await open(withWorker.url);
    await modelLoaded(page, withWorker);
    const fake = join(dirs[0]!.dir, 'not-really.png');
    writeFileSync(fake, 'this is text, not a picture');
    await page.locator('#file').setInputFiles({ name: 'not-really.png', mimeType: 'image/png', buffer: Buffer.from('this is text, not a picture') });
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
    const id = await page.evaluate(() => (JSON.parse(localStorage.getItem('playground.gallery.v1')!) as { id: string }[])[0]!.id);
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
    // Describe the drawn image: Tab to its button, Enter.
    await focusOn('#answer figcaption button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#answer .asked').textContent(), { timeout: 30_000 }).toBe('You asked: describe the image (with 1 image)');
    await expect.poll(() => page.locator('#status').textContent()).toBe('Done.');
    await screenshot(page, 'keyboard');
    await close();
  });
});
