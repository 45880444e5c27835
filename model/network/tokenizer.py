"""Byte-level BPE (see docs/model-package.md): UTF-8 bytes as the base alphabet, merges
learned from the training text, special tokens after the merges. The TypeScript tokenizer
(shared/runtime/tokenizer.ts) implements the same rules and is tested on the same vectors.
"""

from __future__ import annotations

import json
import re
from collections import Counter

SPECIALS = ["bos", "eos", "user", "assistant", "boi", "eoi", "pad"]
# A word with at most one leading space, or a run of whitespace. Written out (not \s) so
# that Python and JavaScript split identically.
CHUNK = re.compile(r" ?[^ \t\n\r\f\v]+|[ \t\n\r\f\v]+")


def chunks(text: str) -> list[bytes]:
    return [m.group(0).encode("utf-8") for m in CHUNK.finditer(text)]


def merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every non-overlapping occurrence of `pair`, left to right, by `new_id`."""
    out, i = [], 0
    while i < len(ids):
        if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class Tokenizer:
    def __init__(self, merges: list[tuple[int, int]]):
        self.merges = [tuple(m) for m in merges]
        self.rank = {pair: i for i, pair in enumerate(self.merges)}
        self.vocab: list[bytes] = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        n = len(self.vocab)
        self.special = {name: n + i for i, name in enumerate(SPECIALS)}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) + len(SPECIALS)

    def __getattr__(self, name: str) -> int:  # tok.bos, tok.eoi, ...
        special = self.__dict__.get("special", {})
        if name in special:
            return special[name]
        raise AttributeError(name)

    def _merge_chunk(self, ids: list[int]) -> list[int]:
        while len(ids) > 1:
            best = min(range(len(ids) - 1), key=lambda i: self.rank.get((ids[i], ids[i + 1]), 1 << 30))
            pair = (ids[best], ids[best + 1])
            if pair not in self.rank:
                break
            ids = merge_pair(ids, pair, 256 + self.rank[pair])
        return ids

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        for chunk in chunks(text):
            out.extend(self._merge_chunk(list(chunk)))
        return out

    def decode(self, ids: list[int]) -> str:
        data = b"".join(self.vocab[i] for i in ids if i < len(self.vocab))
        return data.decode("utf-8", errors="replace")

    def to_json(self) -> dict:
        return {
            "type": "byte-bpe",
            "version": 1,
            "chunk_pattern": CHUNK.pattern,
            "merges": [list(m) for m in self.merges],
            "special_tokens": self.special,
            "vocab_size": self.vocab_size,
        }

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump(self.to_json(), f)

    @classmethod
    def from_json(cls, data: dict) -> Tokenizer:
        tok = cls([tuple(m) for m in data["merges"]])
        assert tok.special == {k: int(v) for k, v in data["special_tokens"].items()}, "special ids disagree"
        return tok

    @classmethod
    def load(cls, path: str) -> Tokenizer:
        with open(path) as f:
            return cls.from_json(json.load(f))


def train_bpe(texts: list[str], max_merges: int = 300, min_count: int = 2) -> Tokenizer:
    """Classic BPE over chunk frequencies: merge the most frequent adjacent pair until no
    pair occurs `min_count` times or the budget is spent. Ties break on the smaller pair,
    so training is deterministic."""
    words = Counter()
    for t in texts:
        for c in chunks(t):
            words[tuple(c)] += 1
    seqs = {w: list(w) for w in words}
    merges: list[tuple[int, int]] = []
    for k in range(max_merges):
        pairs = Counter()
        for w, ids in seqs.items():
            for a, b in zip(ids, ids[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        pair, count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < min_count:
            break
        merges.append(pair)
        for w, ids in seqs.items():
            seqs[w] = merge_pair(ids, pair, 256 + k)
    return Tokenizer(merges)


def train_default() -> Tokenizer:
    """The shipped tokenizer: merges from the user and assistant text of training seeds."""
    from model.data.shapes64 import DESCRIBE_PROMPT, DRAW_PREFIX, scene_from_seed

    texts = []
    for seed in range(5000):
        caption = scene_from_seed(seed).caption()
        texts += [caption, DRAW_PREFIX + caption, DESCRIBE_PROMPT]
    return train_bpe(texts)
