import { describe, expect, it } from 'vitest';
import { Tokenizer } from './tokenizer.js';

const code = (s: string) => s.charCodeAt(0);
// merges: 256 = "a"+"a", 257 = " "+"d", 258 = 257+"r" (" dr"), 259 = "aa"+"a"
const tokenizer = new Tokenizer({
  merges: [
    [code('a'), code('a')],
    [code(' '), code('d')],
    [257, code('r')],
    [256, code('a')],
  ],
  specialTokens: { bos: 260, eos: 261, user: 262, assistant: 263, boi: 264, eoi: 265, pad: 266 },
});

describe('Tokenizer (byte-level BPE)', () => {
  it('encodes bytes and merges by rank, chunk by chunk', () => {
    expect(tokenizer.encode('dr dr')).toEqual([code('d'), code('r'), 258]);
    // "aaaa": rank 0 merges both pairs in one pass -> [aa, aa]; "aaa" -> [aa, a] -> [aaa]
    expect(tokenizer.encode('aaaa')).toEqual([256, 256]);
    expect(tokenizer.encode('aaa')).toEqual([259]);
  });

  it('never merges across chunks (words keep at most one leading space)', () => {
    // "a  a": chunks "a", " ", " a" -> no merge joins the two a's
    expect(tokenizer.encode('a  a')).toEqual([code('a'), code(' '), code(' '), code('a')]);
    expect(tokenizer.encode('\t\n')).toEqual([9, 10]);
  });

  it('encodes any text as UTF-8 bytes, and never yields special ids', () => {
    const ids = tokenizer.encode('<bos> é 🙂');
    expect(ids.every((id) => id < 260)).toBe(true);
    expect(tokenizer.decode(ids)).toBe('<bos> é 🙂');
  });

  it('decodes specials to nothing and broken UTF-8 to U+FFFD', () => {
    expect(tokenizer.decode([260, code('h'), 263, code('i'), 261])).toBe('hi');
    const smile = Array.from(new TextEncoder().encode('🙂'));
    expect(tokenizer.decode(smile.slice(0, 2))).toBe('\uFFFD');
  });

  it('streams text, holding back a partial character', () => {
    const stream = tokenizer.streamDecoder();
    const bytes = Array.from(new TextEncoder().encode('a🙂'));
    expect(stream.push(bytes.slice(0, 3))).toBe('a');
    expect(stream.push(bytes.slice(3))).toBe('🙂');
    expect(stream.flush()).toBe('');
  });

  it('refuses special ids that collide with merges', () => {
    expect(
      () =>
        new Tokenizer({ merges: [[1, 2]], specialTokens: { bos: 256, eos: 257, user: 258, assistant: 259, boi: 260, eoi: 261, pad: 262 } }),
    ).toThrow(/collides/);
  });
});
