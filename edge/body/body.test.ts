/**
 * Large bodies parsed off the event loop: the parse itself (images at the schema's image
 * positions decoded and replaced by content keys, refusals kept as parseImageDataUrl words
 * them, everything else untouched) and the thread that runs it (the same answer, the bytes
 * moved rather than copied, a closed parser refusing).
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/index.js';
import { dataUrl, jpegBytes, pngBytes } from '../images/test-images.js';
import { eventLoopBodyParser, startBodyThread } from './index.js';
import { parseLargeJson, type ParsedBody } from './parse.js';

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
      messages: [{ role: 'user', content: [{ type: 'text', text: 'data:,a text part' }, { type: 'image', url: dataUrl('image/jpeg', jpeg) }] }],
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
    const body = { prompt: 'x', images: ['data:image/png;base64,@@@@', 'data:image/bmp;base64,AAAA', `data:image/png;base64,${'A'.repeat(8 * 1024 * 1024)}`, 'https://example.com/a.png'] };
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

describe('startBodyThread', () => {
  it('answers as the event loop does, moving the bytes to the thread', async () => {
    const thread = startBodyThread({ logger: createLogger({ logLevel: 'silent' }) });
    try {
      const body = { prompt: 'describe', images: [dataUrl('image/jpeg', jpeg), 'data:image/png;base64,!!!!'] };
      const sent = encode(body);
      const expected = await eventLoopBodyParser.parse(encode(body), { images: true });
      const answer = await thread.parse(sent, { images: true });
      expect(sent.byteLength).toBe(0); // transferred, not copied
      expect(answer).toEqual(expected);
      expect(await thread.parse(new TextEncoder().encode('not json'), { images: true })).toEqual({ ok: false });
    } finally {
      await thread.close();
    }
    await expect(thread.parse(encode({}), { images: false })).rejects.toThrow(/closed/);
  });
});
