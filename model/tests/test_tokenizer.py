"""Byte-level BPE: any text round-trips, captions are short, specials never come from text,
and the vectors the TypeScript tokenizer is tested on are what this tokenizer produces."""

import json
import os

from model.data.shapes64 import scene_from_seed
from model.network.tokenizer import SPECIALS, Tokenizer, chunks, train_bpe, train_default

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "tiny")


def test_any_text_round_trips():
    tok = train_default()
    for text in ["", " ", "héllo  wörld\n\t😀", "a large red circle", "\x00\x7f", "日本語のテキスト", "<|eos|>"]:
        assert tok.decode(tok.encode(text)) == text


def test_specials_follow_the_merges_and_never_come_from_text():
    tok = train_default()
    assert list(tok.special) == SPECIALS
    assert min(tok.special.values()) == 256 + len(tok.merges)
    assert tok.vocab_size == 256 + len(tok.merges) + len(SPECIALS)
    assert not set(tok.encode("<|bos|> <|eos|> bos eos")) & set(tok.special.values())


def test_three_object_captions_take_about_thirty_tokens():
    tok = train_default()
    lengths = [len(tok.encode(scene_from_seed(s).caption())) for s in range(2000)]
    assert max(lengths) <= 30
    caption = "a large red circle at the top left and a small blue 7 at the bottom right"
    assert len(tok.encode(caption)) == 17 and len(caption.encode()) == 73


def test_chunks_split_words_with_one_leading_space():
    assert chunks("a  b\tc\n\nd ") == [b"a", b"  ", b"b", b"\t", b"c", b"\n\n", b"d", b" "]


def test_training_is_deterministic_and_round_trips_through_json():
    a, b = train_bpe(["aaa bbb aaa"] * 3), train_bpe(["aaa bbb aaa"] * 3)
    assert a.merges == b.merges
    assert Tokenizer.from_json(json.loads(json.dumps(a.to_json()))).merges == a.merges


def test_shared_vectors_match():
    tok = Tokenizer.load(os.path.join(FIXTURE, "tokenizer.json"))
    with open(os.path.join(FIXTURE, "golden.json")) as f:
        vectors = json.load(f)["tokenizer"]
    assert len(vectors) >= 10
    for v in vectors:
        assert tok.encode(v["text"]) == v["ids"], v["text"]
