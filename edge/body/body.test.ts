/**
 * Large bodies parsed off the event loop: the parse itself (images at the schema's image
 * positions decoded and replaced by content keys, refusals kept as parseImageDataUrl words
 * them, everything else untouched) and the thread that runs it (the same answer, the bytes
 * moved rather than copied, a closed parser refusing).
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/index.js';
import { dataUrl, jpegBytes, pngBytes } from '../../test/support/images.js';
import { ApiError } from '../errors.js';
import { prepareInputBytes } from '../images/index.js';
import { eventLoopBodyParser, startBodyThread } from './index.js';
import { type ParsedBody, parseLargeJson } from './parse.js';

const png = pngBytes(8, 8, (x) => (x < 4 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
const jpeg = jpegBytes(16, 8, [0, 200, 0]);
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function parsed(result: ParsedBody): { body: Record<string, unknown>; images: Map<string, unknown> } {
  if (!result.ok) throw new Error('expected a parsed body');
  return { body: JSON.parse(result.text) as Record<string, unknown>, images: new Map(result.images) };
}

describe('parseLargeJson', () => {
  it('decodes the images of `images` and of image parts, each under a content key', () => {
    const body = {
      prompt: 'data:text/plain,not an image position',
      images: [dataUrl('image/png', png), dataUrl('image/jpeg', jpeg), dataUrl('image/png', png)],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'data:,a text part' },
            { type: 'image', url: dataUrl('image/jpeg', jpeg) },
          ],
        },
      ],
      seed: 3,
    };
    const { body: out, images } = parsed(parseLargeJson(encode(body), { images: true }));
    const keys = out.images as string[];
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(key).toMatch(/^data:,inline-json-sha256-[A-Za-z0-9_-]{43}$/);
    // The same data URL is the same key, read once; another is another.
    expect(keys[2]).toBe(keys[0]);
    expect(keys[1]).not.toBe(keys[0]);
    expect(images.size).toBe(2);
    expect(images.get(keys[0]!)).toEqual({ ok: true, mime: 'image/png', bytes: new Uint8Array(png) });
    expect(images.get(keys[1]!)).toEqual({ ok: true, mime: 'image/jpeg', bytes: new Uint8Array(jpeg) });
    const parts = (out.messages as { content: { url?: string; text?: string }[] }[])[0]!.content;
    expect(parts[1]!.url).toBe(keys[1]);
    // Text and other fields are as sent.
    expect(parts[0]!.text).toBe('data:,a text part');
    expect(out.prompt).toBe(body.prompt);
    expect(out.seed).toBe(3);
  });

  it('keeps each refusal as the data URL reader words it, to be said when the image is read', () => {
    const body = {
      prompt: 'x',
      images: [
        'data:image/png;base64,@@@@',
        'data:image/bmp;base64,AAAA',
        `data:image/png;base64,${'A'.repeat(8 * 1024 * 1024)}`,
        'https://example.com/a.png',
      ],
    };
    const { body: out, images } = parsed(parseLargeJson(encode(body), { images: true }));
    const [bad, bmp, big, url] = out.images as string[];
    expect(images.get(bad!)).toMatchObject({ ok: false, code: 'invalid_base64', message: expect.stringMatching(/^images\[0\]: /) });
    expect(images.get(bmp!)).toMatchObject({ ok: false, code: 'unsupported_image', message: expect.stringContaining('image/bmp') });
    expect(images.get(big!)).toMatchObject({ ok: false, code: 'image_too_large' });
    // Not a data URL: left for the schema to refuse.
    expect(url).toBe('https://example.com/a.png');
  });

  it('reads nothing as an image unless asked, and says when the body is not JSON', () => {
    const body = { images: [dataUrl('image/png', png)] };
    const result = parseLargeJson(encode(body), { images: false });
    expect(result).toEqual({ ok: true, text: JSON.stringify(body), images: [] });
    expect(parseLargeJson(new TextEncoder().encode('{"prompt": '), { images: true })).toEqual({ ok: false });
    expect(parseLargeJson(new Uint8Array([0xff, 0xfe, 0x7b]), { images: true })).toEqual({ ok: false });
  });
});

/** An answer without the functions the thread's images carry (`prepare`), to compare with the event loop's. */
const data = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
      const raw = this[key]; // before Buffer's toJSON: a Buffer and a moved Uint8Array alike
      return raw instanceof Uint8Array ? [...raw] : v;
    }),
  );

describe('startBodyThread', () => {
  it('answers as the event loop does, moving the chunks to the thread', async () => {
    const thread = startBodyThread({ logger: createLogger({ logLevel: 'silent' }) });
    try {
      const body = { prompt: 'describe', images: [dataUrl('image/jpeg', jpeg), 'data:image/png;base64,!!!!'] };
      const whole = encode(body);
      // The body as a socket delivers it: in chunks, joined on the thread.
      const chunks = [whole.slice(0, 10), whole.slice(10, 500), whole.slice(500)];
      const expected = await eventLoopBodyParser.parse([encode(body)], { images: true });
      const answer = await thread.parse(chunks, { images: true });
      expect(chunks.map((c) => c.byteLength)).toEqual([0, 0, 0]); // transferred, not copied
      expect(data(answer)).toEqual(data(expected));
      expect(await thread.parse([new TextEncoder().encode('not json')], { images: true })).toEqual({ ok: false });
    } finally {
      await thread.close();
    }
    await expect(thread.parse([encode({})], { images: false })).rejects.toThrow(/closed/);
  });

  it('reads a multipart form as the event loop does: fields as sent, files as inline images', async () => {
    const thread = startBodyThread({ logger: createLogger({ logLevel: 'silent' }) });
    try {
      const form = new FormData();
      form.append('prompt', 'describe');
      form.append('images', new File([Buffer.from(jpeg)], 'a.jpg', { type: 'application/octet-stream' }));
      form.append('images', new File([new TextEncoder().encode('hello')], 'b.txt'));
      const request = new Request('http://x/', { method: 'POST', body: form });
      const type = request.headers.get('content-type')!;
      const bytes = new Uint8Array(await request.arrayBuffer());
      const expected = await eventLoopBodyParser.parseForm([bytes.slice()], type);
      const answer = await thread.parseForm([bytes.slice(0, 100), bytes.slice(100)], type);
      expect(data(answer)).toEqual(data(expected));
      if (!answer.ok) throw new Error('expected a form');
      const [prompt, first, second] = answer.entries;
      expect(prompt).toEqual(['prompt', 'describe']);
      expect(first![1]).toMatchObject({
        name: 'a.jpg',
        key: expect.stringMatching(/^data:,inline-file-sha256-/),
        image: { ok: true, mime: 'image/jpeg', bytes: new Uint8Array(jpeg) },
      });
      expect(second![1]).toMatchObject({ name: 'b.txt', image: { ok: false, code: 'unsupported_image' } });
      expect(await thread.parseForm([new TextEncoder().encode('--x\r\nbroken')], 'multipart/form-data; boundary=x')).toMatchObject({
        ok: false,
        message: expect.any(String),
      });
    } finally {
      await thread.close();
    }
  });

  it("reads an image to the model's size on the thread as edge/images does, refusals as the same ApiError", async () => {
    const thread = startBodyThread({ logger: createLogger({ logLevel: 'silent' }) });
    try {
      const geometry = { width: 16, height: 16, patch_size: 8 };
      const answer = await thread.parse([encode({ images: [dataUrl('image/png', png), dataUrl('image/png', jpeg)] })], { images: true });
      if (!answer.ok) throw new Error('expected a parsed body');
      const [good, lying] = answer.images.map(([, image]) => image);
      if (!good?.ok || !lying?.ok || !good.prepare || !lying.prepare) throw new Error('expected images the thread reads');
      const expected = await prepareInputBytes(png, 'image/png', 0, geometry);
      // Read twice (a request may name one image twice): the bytes come back with each answer.
      for (let i = 0; i < 2; i += 1) expect(await good.prepare(geometry)).toEqual(expected);
      const onLoop = await prepareInputBytes(jpeg, 'image/png', 0, geometry).catch((err: unknown) => err);
      const onThread = await lying.prepare(geometry).catch((err: unknown) => err);
      expect(onThread).toBeInstanceOf(ApiError);
      expect(onThread).toMatchObject({ code: (onLoop as ApiError).code, message: (onLoop as ApiError).message });
    } finally {
      await thread.close();
    }
  });
});
