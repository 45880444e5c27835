/** The chat request schema refuses what history.ts cannot read, as the document says. */
import { describe, expect, it } from 'vitest';
import { imageSourceOf } from './history.js';
import { ChatRequest, OUTPUT_IMAGE_URL_PATTERN } from './schemas.js';

const valid = (messages: unknown[]) => ChatRequest.safeParse({ messages }).success;

describe('ChatRequest', () => {
  it('needs content in a user message: text that is not empty, or an image', () => {
    expect(valid([{ role: 'user' }])).toBe(false);
    expect(valid([{ role: 'user', content: null }])).toBe(false);
    expect(valid([{ role: 'user', content: '' }])).toBe(false);
    expect(valid([{ role: 'user', content: [{ type: 'text', text: '' }] }])).toBe(false);
    expect(valid([{ role: 'user', content: 'hi' }])).toBe(true);
    expect(
      valid([
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ]),
    ).toBe(true);
    // Others may be empty (OpenAI's clients send assistant messages with null content).
    expect(valid([{ role: 'system' }, { role: 'assistant', content: null }, { role: 'user', content: 'hi' }])).toBe(true);
  });

  it('states output image URLs with a pattern whose every match the server reads as a reference', () => {
    const re = new RegExp(OUTPUT_IMAGE_URL_PATTERN);
    for (const url of [
      'http://127.0.0.1:3000/v1/files/outputs/gen_abc/0.png?expires=1&sig=x',
      'https://b.s3.amazonaws.com/outputs/gen_a-b/12.png?X-Amz-Credential=A%2F1',
      '/v1/files/outputs/gen_x/1.png',
    ]) {
      expect(re.test(url), url).toBe(true);
      expect(imageSourceOf(url, 'p')).toMatchObject({ kind: 'generation' });
    }
    for (const url of [
      'ftp://h/outputs/gen_a/1.png',
      'http://h/outputs/gen_a/1.jpg',
      'http://1.2.3.999/outputs/gen_a/1.png',
      'http://xn--a/outputs/gen_a/1.png',
    ])
      expect(re.test(url), url).toBe(false);
  });
});
