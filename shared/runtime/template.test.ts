import { describe, expect, it } from 'vitest';
import { layoutSegments } from './layout.js';
import { conversationContext, describeContext, drawContext, uncondContext, userTurn } from './template.js';
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

  it('lays out several turns: <bos>, each earlier pair ending <eos>, the last user turn ending <assistant>', () => {
    const a = new Float32Array(4).fill(0.5);
    const b = new Float32Array(4).fill(-0.5);
    const segments = conversationContext(tokenizer, [
      { role: 'user', content: ['draw ', 'x'] },
      { role: 'assistant', content: ['ok', { type: 'image', patches: a }] },
      { role: 'user', content: [{ type: 'image', patches: b }, 'y'] },
    ]);
    expect(segments).toEqual([
      { type: 'text', ids: [special.bos, special.user, ...bytes('draw x'), special.assistant, ...bytes('ok'), special.boi] },
      { type: 'image', patches: a },
      { type: 'text', ids: [special.eoi, special.eos, special.user, special.boi] },
      { type: 'image', patches: b },
      { type: 'text', ids: [special.eoi, ...bytes('y'), special.assistant] },
    ]);
  });

  it('gives one user turn exactly the single-turn context', () => {
    const patches = new Float32Array(4);
    const content = [{ type: 'image' as const, patches }, 'describe the image'];
    expect(conversationContext(tokenizer, [{ role: 'user', content }])).toEqual(describeContext(tokenizer, patches));
    expect(userTurn(tokenizer, ['draw a cat'])).toEqual(conversationContext(tokenizer, [{ role: 'user', content: ['draw a cat'] }]));
  });

  it('refuses turns that do not alternate user, assistant, ..., user', () => {
    expect(() => conversationContext(tokenizer, [])).toThrow(/odd number/);
    expect(() =>
      conversationContext(tokenizer, [
        { role: 'user', content: ['a'] },
        { role: 'assistant', content: ['b'] },
      ]),
    ).toThrow(/odd number/);
    expect(() => conversationContext(tokenizer, [{ role: 'assistant', content: ['a'] }])).toThrow(/turn 0 must be the user's/);
    const three = [
      { role: 'user', content: ['a'] },
      { role: 'user', content: ['b'] },
      { role: 'user', content: ['c'] },
    ] as const;
    expect(() => conversationContext(tokenizer, three)).toThrow(/turn 1 must be the assistant's/);
  });

  it('continues the running index across turns (positions never restart)', () => {
    const geometry = { grid_h: 2, grid_w: 2, num_patches: 4, patch_dim: 1, padId: special.pad, imageGap: 0 };
    const segments = conversationContext(tokenizer, [
      { role: 'user', content: ['ab'] },
      { role: 'assistant', content: [{ type: 'image', patches: new Float32Array(4) }] },
      { role: 'user', content: ['c'] },
    ]);
    const layout = layoutSegments(segments, { nextIndex: 0, nextImageId: 0, lastImageStart: undefined }, geometry);
    // <bos><user>ab<assistant><boi> = 6 text positions (0..5); the image at 6 spans max(2, 2) = 2; then <eoi><eos><user>c<assistant>.
    const p0 = layout.positions.filter((_, i) => i % 3 === 0);
    expect(p0).toEqual([0, 1, 2, 3, 4, 5, 6, 6, 6, 6, 8, 9, 10, 11, 12]);
    expect(layout.end).toEqual({ nextIndex: 13, nextImageId: 1, lastImageStart: 6 });
  });
});
