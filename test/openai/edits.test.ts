/**
 * POST /v1/images/edits with the official `openai` client's `images.edit` against a running
 * server (the edge on loopback and a worker process, the tiny model): the multipart form as
 * the client writes it, edits as base64 PNGs and as URLs, and errors as its typed errors.
 * The tiny model has random weights: greedy, it answers an image with text, so the edits
 * sample (`temperature`, `seed`: this API's extensions, sent as extra form fields) with a
 * seed under which it draws (found by trying seeds, like its other fixtures).
 */
import OpenAI, { toFile } from 'openai';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { pngBytes } from '../support/images.js';
import { openAiServer } from './server.js';

const server = openAiServer();

const circle = pngBytes(64, 64, (x, y) => ((x - 20) ** 2 + (y - 20) ** 2 < 100 ? [220, 30, 30, 255] : [255, 255, 255, 255]));
/** Seeds 37 and 38 at temperature 1.5: the tiny model draws after this image and prompt. */
const drawing = { seed: 37, temperature: 1.5, steps: 3 };
type EditParams = OpenAI.ImageEditParamsNonStreaming & Partial<typeof drawing>;
const edit = (params: EditParams) => server.client.images.edit(params as OpenAI.ImageEditParamsNonStreaming);

describe('images.edit of the official openai client', () => {
  it('edits an image: n PNGs in base64, one by URL', async () => {
    const { width, height } = server.edge.deps.models.default.manifest.image;
    const image = await toFile(circle, 'circle.png', { type: 'image/png' });
    const edited = await edit({
      image,
      prompt: 'make the circle blue',
      n: 2,
      response_format: 'b64_json',
      size: `${width}x${height}` as '256x256',
      ...drawing,
    });
    expect(edited.data).toHaveLength(2);
    for (const datum of edited.data!) {
      expect(datum.revised_prompt).toBe('make the circle blue');
      const png = PNG.sync.read(Buffer.from(datum.b64_json!, 'base64'));
      expect([png.width, png.height]).toEqual([width, height]);
    }
    const byUrl = await edit({
      image: await toFile(circle, 'circle.png'),
      prompt: 'make the circle blue',
      response_format: 'url',
      ...drawing,
    });
    const res = await fetch(byUrl.data![0]!.url!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    // The same request (seed 37) makes the same edit, whatever the format.
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(edited.data![0]!.b64_json!, 'base64'))).toBe(true);
  });

  it('raises its typed errors: a field it does not take, and a model that answers with text', async () => {
    const image = await toFile(circle, 'circle.png', { type: 'image/png' });
    const mask = await edit({ image, prompt: 'make the circle blue', mask: await toFile(circle, 'mask.png') }).catch((e: unknown) => e);
    expect(mask).toBeInstanceOf(OpenAI.BadRequestError);
    expect((mask as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/mask/);
    // Greedy, the random-weight model describes the image instead of drawing.
    const text = await edit({ image: await toFile(circle, 'circle.png'), prompt: 'make the circle blue', steps: 3 }).catch(
      (e: unknown) => e,
    );
    // 422, not a 500: the client raises at once, without retrying into more generations.
    expect(text).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect((text as InstanceType<typeof OpenAI.UnprocessableEntityError>).code).toBe('no_image');
    expect((text as InstanceType<typeof OpenAI.UnprocessableEntityError>).message).toMatch(/answered in words/);
  });
});
