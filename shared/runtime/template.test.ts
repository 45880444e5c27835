import { describe, expect, it } from 'vitest';
import { describeContext, drawContext, uncondContext, userTurn } from './template.js';
import { Tokenizer } from './tokenizer.js';

const special = { bos: 256, eos: 257, user: 258, assistant: 259, boi: 260, eoi: 261, pad: 262 };
const tokenizer = new Tokenizer({ merges: [], specialTokens: special });
const bytes = (s: string) => Array.from(new TextEncoder().encode(s));

describe('conversation template', () => {
  it('builds the draw context up to and including <boi>', () => {
    expect(drawContext(tokenizer, 'a cat')).toEqual([
      { type: 'text', ids: [special.bos, special.user, ...bytes('draw a cat'), special.assistant, special.boi] },
    ]);
  });

  it('builds the unconditional context <bos><user><assistant><boi>', () => {
    expect(uncondContext(tokenizer)).toEqual([{ type: 'text', ids: [256, 258, 259, 260] }]);
  });

  it('wraps an image <boi> patches <eoi> in the describe context', () => {
    const patches = new Float32Array(4);
    const segments = describeContext(tokenizer, patches);
    expect(segments).toHaveLength(3);
    expect(segments[0]).toEqual({ type: 'text', ids: [special.bos, special.user, special.boi] });
    expect(segments[1]).toEqual({ type: 'image', patches });
    expect(segments[2]).toEqual({ type: 'text', ids: [special.eoi, ...bytes('describe the image'), special.assistant] });
  });

  it('joins adjacent text in a user turn', () => {
    expect(userTurn(tokenizer, ['hi', { type: 'text', ids: [1] }])).toEqual([
      { type: 'text', ids: [special.bos, special.user, ...bytes('hi'), 1, special.assistant] },
    ]);
  });
});
