/**
 * POST /v1/images/edits in process, on the tiny model: the multipart form read and checked
 * (OpenAI's `param` on a failed field), the image and prompt as one user turn in the job's
 * context, n edits as n generations with seed + k, and the answer once a stand-in worker
 * has made the images. test/openai/ drives it with the official client.
 */
import { describe, expect, it } from 'vitest';
import { appFixture } from '../../test/support/app.js';
import { pngBytes } from '../../test/support/images.js';
import { playWorker } from '../../test/support/play-worker.js';
import type { AppDeps } from '../app.js';
import { OpenAiErrorBody } from './errors.js';
import { ImagesResponse } from './schemas.js';

const api = appFixture();
const { tiny, setup } = api;

const decodeToBoi: AppDeps['textDecoder'] = async () => ({ ids: [], text: '', stop: 'boi' });
const circle = pngBytes(64, 64, (x, y) => ((x - 20) ** 2 + (y - 20) ** 2 < 100 ? [220, 30, 30, 255] : [255, 255, 255, 255]));

function form(fields: Record<string, string | Blob | undefined>): FormData {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) body.append(key, value);
  return body;
}
const file = (bytes: Uint8Array, name = 'in.png', type = 'image/png') => new File([Buffer.from(bytes)], name, { type });
const edit = (body: FormData | string, headers: Record<string, string> = {}) =>
  Promise.resolve(api.app.request('/v1/images/edits', { method: 'POST', body, headers }));

async function openAiError(res: Response, status: number): Promise<OpenAiErrorBody['error']> {
  expect(res.status).toBe(status);
  return OpenAiErrorBody.parse(await res.json()).error;
}

describe('POST /v1/images/edits', () => {
  it('queues n edits whose user turn is the image then the prompt, then answers 504 naming them (no worker)', async () => {
    setup({ textDecoder: decodeToBoi, config: { apiKeys: [], openAiWaitSeconds: 1 } });
    const res = await edit(
      form({ image: file(circle), prompt: 'make the circle blue', n: '2', seed: '10', steps: '3', temperature: '1.5' }),
    );
    const error = await openAiError(res, 504);
    expect(error).toMatchObject({ type: 'timeout_error', code: 'generation_timeout' });
    expect(error.generation_ids).toHaveLength(2);
    const { bos, user, boi, eoi, assistant } = tiny.runtime.tokenizer.specialTokens;
    for (const [k, id] of error.generation_ids!.entries()) {
      const record = (await api.deps.jobs.get(id))!;
      expect(record.status).toBe('queued');
      expect(record.params).toMatchObject({ seed: 10 + k, steps: 3, temperature: 1.5 });
      // <bos> <user> <boi> patches <eoi> {prompt} <assistant>, then the answer's <boi>.
      expect(record.context).toEqual([
        { type: 'text', ids: [bos, user, boi] },
        { type: 'image', key: `inputs/${id}/0.png` },
        { type: 'text', ids: [eoi, ...tiny.runtime.tokenizer.encode('make the circle blue'), assistant, boi] },
      ]);
      expect(await api.deps.store.get(`inputs/${id}/0.png`)).not.toBeNull();
    }
  });

  it('answers with the edited images as URLs or base64 once they are made', async () => {
    setup({ textDecoder: decodeToBoi, config: { apiKeys: [], openAiWaitSeconds: 20 } });
    // A stand-in worker finishes every job it finds queued.
    let stop = false;
    const worker = (async () => {
      while (!stop) {
        const [message] = await api.deps.queue.receive({ maxMessages: 1, waitSeconds: 0 });
        if (message) {
          await playWorker(api.deps, (JSON.parse(message.body) as { jobId: string }).jobId, 1);
          await api.deps.queue.delete(message.receiptHandle);
        } else await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const byUrl = await edit(form({ image: file(circle), prompt: 'draw this in twitter style', response_format: 'url' }));
      expect(byUrl.status).toBe(200);
      const urls = ImagesResponse.parse(await byUrl.json());
      expect(urls.data).toEqual([
        {
          url: expect.stringMatching(/^http:\/\/localhost\/v1\/files\/outputs\/gen_.+\/0\.png\?/),
          revised_prompt: 'draw this in twitter style',
        },
      ]);
      // OpenAI's clients send a list of images as image[]; the type is read from the bytes, whatever the file says.
      const b64 = await edit(
        form({
          'image[]': file(circle, 'x.bin', 'application/octet-stream'),
          prompt: 'make the circle blue',
          response_format: 'b64_json',
          n: '2',
        }),
      );
      expect(b64.status).toBe(200);
      const body = ImagesResponse.parse(await b64.json());
      expect(body.data).toHaveLength(2);
      for (const datum of body.data)
        expect(
          Buffer.from((datum as { b64_json: string }).b64_json, 'base64')
            .subarray(1, 4)
            .toString(),
        ).toBe('PNG');
    } finally {
      stop = true;
      await worker;
    }
  });

  it("names the field at fault, in OpenAI's shape", async () => {
    setup({ textDecoder: decodeToBoi });
    expect(await openAiError(await edit(form({ prompt: 'make it blue' })), 400)).toMatchObject({ param: 'image', code: 'invalid_request' });
    expect(await openAiError(await edit(form({ image: file(circle) })), 400)).toMatchObject({ param: 'prompt' });
    const two = form({ image: file(circle), prompt: 'x' });
    two.append('image', file(circle));
    expect(await openAiError(await edit(two), 400)).toMatchObject({ param: 'image' });
    expect(await openAiError(await edit(form({ image: file(circle), prompt: 'x', n: '9' })), 400)).toMatchObject({ param: 'n' });
    expect(await openAiError(await edit(form({ image: file(circle), prompt: 'x', size: '1024x1024' })), 400)).toMatchObject({
      param: 'size',
    });
    const mask = await openAiError(await edit(form({ image: file(circle), prompt: 'x', mask: file(circle) })), 400);
    expect(mask.message).toMatch(/mask/);
    expect(await openAiError(await edit(form({ image: file(new TextEncoder().encode('hello')), prompt: 'x' })), 400)).toMatchObject({
      param: 'image',
      code: 'unsupported_image',
    });
    const json = await openAiError(await edit(JSON.stringify({ prompt: 'x' }), { 'Content-Type': 'application/json' }), 400);
    expect(json.message).toMatch(/multipart\/form-data/);
    expect(await openAiError(await edit(form({ image: file(circle), prompt: 'x', model: 'dall-e-2' })), 404)).toMatchObject({
      code: 'model_not_found',
      param: 'model',
    });
    // Nothing was queued by any of them.
    expect(await api.deps.queue.stats()).toMatchObject({ visible: 0 });
  });
});
