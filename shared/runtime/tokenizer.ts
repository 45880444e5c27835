/**
 * Byte-level BPE (docs/model-package.md, "Tokens"): ids 0..255 are UTF-8 bytes, merge k makes
 * id 256 + k, special tokens follow and are never produced from text. Text is cut into chunks
 * by PRETOKENIZE_PATTERN and each chunk is merged independently, lowest merge rank first.
 */

export const SPECIAL_TOKEN_NAMES = ['bos', 'eos', 'user', 'assistant', 'boi', 'eoi', 'pad'] as const;
export type SpecialTokenName = (typeof SPECIAL_TOKEN_NAMES)[number];
export type SpecialTokens = Readonly<Record<SpecialTokenName, number>>;

/** A word with at most one leading space, or a run of whitespace (same in Python's `re`). */
export const PRETOKENIZE_PATTERN = ' ?[^ \\t\\n\\r\\f\\v]+|[ \\t\\n\\r\\f\\v]+';

export interface TokenizerSpec {
  /** Merge k joins [left, right] into id 256 + k. */
  readonly merges: readonly (readonly [number, number])[];
  readonly specialTokens: SpecialTokens;
}

const BYTE_COUNT = 256;

/** Key of an adjacent pair for the rank map (ids stay far below 2^21). */
const pairKey = (left: number, right: number): number => left * 2097152 + right;

export class Tokenizer {
  readonly specialTokens: SpecialTokens;
  /** Ids of the BPE vocabulary (bytes and merges); special ids may lie beyond. */
  readonly bpeSize: number;
  private readonly ranks = new Map<number, number>();
  private readonly mergePairs: readonly (readonly [number, number])[];
  private readonly bytesOf: Uint8Array[] = [];
  private readonly specialIds: ReadonlySet<number>;
  private readonly chunkCache = new Map<string, readonly number[]>();
  private readonly pattern = new RegExp(PRETOKENIZE_PATTERN, 'gu');
  private readonly encoder = new TextEncoder();

  constructor(spec: TokenizerSpec) {
    this.specialTokens = spec.specialTokens;
    this.specialIds = new Set(Object.values(spec.specialTokens));
    this.mergePairs = spec.merges;
    for (let b = 0; b < BYTE_COUNT; b += 1) this.bytesOf.push(Uint8Array.of(b));
    spec.merges.forEach(([left, right], rank) => {
      const leftBytes = this.bytesOf[left];
      const rightBytes = this.bytesOf[right];
      if (!leftBytes || !rightBytes) throw new Error(`tokenizer merge ${rank} refers to an unknown id (${left}, ${right})`);
      const joined = new Uint8Array(leftBytes.length + rightBytes.length);
      joined.set(leftBytes);
      joined.set(rightBytes, leftBytes.length);
      this.bytesOf.push(joined);
      this.ranks.set(pairKey(left, right), rank);
    });
    this.bpeSize = this.bytesOf.length;
    for (const [name, id] of Object.entries(spec.specialTokens)) {
      if (id < this.bpeSize) throw new Error(`special token ${name} (id ${id}) collides with the BPE vocabulary (size ${this.bpeSize})`);
    }
  }

  /** Token ids of plain text; never yields special ids, whatever the text says. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const match of text.matchAll(this.pattern)) ids.push(...this.encodeChunk(match[0]));
    return ids;
  }

  /** Text of ids; special ids decode to nothing, broken UTF-8 to U+FFFD. */
  decode(ids: readonly number[]): string {
    return new TextDecoder('utf-8').decode(this.bytes(ids));
  }

  /** UTF-8 bytes of ids, special ids skipped. */
  bytes(ids: readonly number[]): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const id of ids) {
      if (this.specialIds.has(id)) continue;
      const part = this.bytesOf[id];
      if (!part) throw new RangeError(`token id ${id} is outside the vocabulary`);
      parts.push(part);
      total += part.length;
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /**
   * An incremental decoder for streaming: each call returns the text completed so far,
   * holding back a trailing partial UTF-8 character until its remaining bytes arrive.
   */
  streamDecoder(): { push(ids: readonly number[]): string; flush(): string } {
    const decoder = new TextDecoder('utf-8');
    return {
      push: (ids) => decoder.decode(this.bytes(ids), { stream: true }),
      flush: () => decoder.decode(),
    };
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  private encodeChunk(chunk: string): readonly number[] {
    const cached = this.chunkCache.get(chunk);
    if (cached) return cached;
    const ids = this.merge(Array.from(this.encoder.encode(chunk)));
    // Chunks are words: the cache stays small for natural text and bounded for the rest.
    if (this.chunkCache.size < 65536) this.chunkCache.set(chunk, ids);
    return ids;
  }

  /**
   * Repeatedly take the adjacent pair of lowest rank and merge all its occurrences, left to
   * right, in one pass (as model/network/tokenizer.py does), until no pair is mergeable.
   */
  private merge(ids: number[]): number[] {
    while (ids.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < ids.length; i += 1) {
        const rank = this.ranks.get(pairKey(ids[i]!, ids[i + 1]!));
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Infinity) break;
      const [left, right] = this.mergePairs[bestRank]!;
      const merged: number[] = [];
      for (let i = 0; i < ids.length; i += 1) {
        if (i + 1 < ids.length && ids[i] === left && ids[i + 1] === right) {
          merged.push(BYTE_COUNT + bestRank);
          i += 1;
        } else merged.push(ids[i]!);
      }
      ids = merged;
    }
    return ids;
  }
}

/**
 * Build a tokenizer from a parsed tokenizer.json (`merges`: [[left, right], ...]) and the
 * manifest's special token ids (the manifest wins where both name them).
 */
export function tokenizerFromJson(json: unknown, specialTokens?: SpecialTokens): Tokenizer {
  if (typeof json !== 'object' || json === null) throw new Error('tokenizer.json: expected an object');
  const record = json as Record<string, unknown>;
  const merges = record['merges'];
  if (!Array.isArray(merges) || !merges.every(isIdPair)) {
    throw new Error('tokenizer.json: `merges` must be a list of [left_id, right_id] pairs');
  }
  const own = record['special_tokens'] === undefined ? undefined : readSpecials(record['special_tokens']);
  const specials = specialTokens ?? own;
  if (!specials) throw new Error('tokenizer.json: `special_tokens` missing and none given');
  for (const name of SPECIAL_TOKEN_NAMES) {
    if (own && own[name] !== specials[name]) {
      throw new Error(`tokenizer.json and manifest.json disagree on special token ${name}: ${own[name]} vs ${specials[name]}`);
    }
  }
  return new Tokenizer({ merges, specialTokens: specials });
}

function isIdPair(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every((id) => Number.isInteger(id) && id >= 0);
}

function readSpecials(value: unknown): SpecialTokens {
  if (typeof value !== 'object' || value === null) throw new Error('tokenizer.json: `special_tokens` missing');
  const record = value as Record<string, unknown>;
  const out: Partial<Record<SpecialTokenName, number>> = {};
  for (const name of SPECIAL_TOKEN_NAMES) {
    const id = record[name];
    if (!Number.isInteger(id)) throw new Error(`tokenizer.json: special token \`${name}\` missing`);
    out[name] = id as number;
  }
  return out as SpecialTokens;
}
