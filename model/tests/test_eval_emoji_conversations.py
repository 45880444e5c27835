"""model/evaluation/evaluate_emoji_conversations.py: which restyles are asked, and how a drawing counts."""

import re
from types import SimpleNamespace

import numpy as np

from model.data.corpus import Corpus
from model.evaluation.eval_corpus import Pools
from model.evaluation.evaluate_emoji_conversations import heldout_restyles, hits_in_style
from model.network.tokenizer import Tokenizer

STYLES = ["google", "openmoji", "twitter"]
CONCEPTS = ["cat", "dog", "red heart", "snake", "sun"]


def corpus() -> Corpus:
    """Five concepts in three training styles, outline and fluent, each cell its own random
    picture; held out: cat x twitter (eval) and dog x google (val), and every fluent image."""
    rng = np.random.default_rng(0)
    images, captions, styles, splits = [], [], [], []
    for concept in CONCEPTS:
        for style in [*STYLES, "outline", "fluent"]:
            images.append(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
            captions.append(concept)
            styles.append(style)
            split = "train"
            if style == "fluent" or (concept, style) == ("cat", "twitter"):
                split = "eval"
            elif (concept, style) == ("dog", "google"):
                split = "val"
            splits.append(split)
    return Corpus(np.stack(images), captions, styles, splits)


def test_a_held_out_cell_is_asked_from_its_concept_in_each_other_training_style():
    c = corpus()
    cell = lambda i: (c.captions[i], c.styles[i], c.splits[i])  # noqa: E731
    pairs = heldout_restyles(c, "eval", 0)
    assert sorted((cell(s), cell(t)) for s, t in pairs) == [
        (("cat", "google", "train"), ("cat", "twitter", "eval")),
        (("cat", "openmoji", "train"), ("cat", "twitter", "eval")),
    ]
    (pair,) = heldout_restyles(c, "val", 1)
    assert cell(pair[1]) == ("dog", "google", "val") and c.splits[pair[0]] == "train"


def test_a_drawing_counts_for_the_concept_whose_real_image_of_the_asked_style_it_is_nearest():
    c = corpus()
    pools = Pools(c)
    twitter_cat = next(i for i in range(len(c)) if (c.captions[i], c.styles[i]) == ("cat", "twitter"))
    google_cat = next(i for i in range(len(c)) if (c.captions[i], c.styles[i]) == ("cat", "google"))
    images = c.images[[twitter_cat, twitter_cat, google_cat]]
    # the twitter cat itself, asked in twitter: found; asked as a dog: not; the google cat's
    # pixels asked in twitter: random pictures, so its nearest twitter image is chance
    hits = hits_in_style(pools, images, ["twitter", "twitter", "google"], ["cat", "dog", "cat"], 1)
    assert hits == [True, False, True]
    assert hits_in_style(pools, images[:1], ["twitter"], ["dog"], len(CONCEPTS)) == [True]


class ScriptedRuntime:
    """A runtime whose greedy answer is scripted by the request's text: the refusal measure
    only reads where an answer goes (text to its end, or words then an image)."""

    def __init__(self, tok, answer_kind):
        self.tok, self.answer_kind = tok, answer_kind
        self.cfg = SimpleNamespace(patch_size=8)

    def decode_greedy(self, contexts, max_tokens, stop_ids):
        out = []
        for items in contexts:
            asked = self.tok.decode([t for t in items if isinstance(t, int)])
            ids = {
                "refusal": self.tok.encode("i draw and describe emoji") + [self.tok.eos],
                "image": [self.tok.boi],
                "words then image": self.tok.encode("cat in google style") + [self.tok.boi],
                "rambling": self.tok.encode("cat " * 100),
            }[self.answer_kind(asked)]
            out.append(ids[:max_tokens])
        return out


def test_an_answer_counts_as_text_only_when_it_never_reaches_an_image():
    from model.evaluation.evaluate_emoji_conversations import evaluate_refusals

    tok = Tokenizer.load("packages/emoji64/tokenizer.json")
    c = corpus()
    # Out of scope: refused in words. Valid: a draw's image at once; a restyle and an every-style
    # answer open with words before their image, so none of the valid ones is "in text".
    styles = "|".join(STYLES)

    def answer_kind(asked: str) -> str:
        if re.fullmatch(rf"draw (this in ({styles})|.+ in every) style", asked):
            return "words then image"
        return "image" if re.fullmatch(rf"draw .+ in ({styles}) style", asked) else "refusal"

    r = evaluate_refusals(ScriptedRuntime(tok, answer_kind), tok, c, 30)
    assert r["out_of_scope_answered_in_text"]["accuracy"] == 1.0
    assert r["valid_answered_in_text"]["accuracy"] == 0.0
    # Words that run on past the budget without an image are a text answer too.
    rt = ScriptedRuntime(tok, lambda asked: "rambling")
    assert evaluate_refusals(rt, tok, c, 9, max_text=16)["valid_answered_in_text"]["accuracy"] == 1.0


def test_the_format_probe_asks_for_one_image_three_ways():
    from model.evaluation.format_probe import FORMATS, dialogue

    answer, source = np.zeros((64, 64, 3), np.uint8), np.ones((64, 64, 3), np.uint8)
    asked = {kind: dialogue(kind, "snake", answer, source, "google") for kind in FORMATS}
    assert all(d.target_image is answer for d in asked.values())
    assert asked["draw"].turns[0].parts == ["draw snake in google style"]
    assert asked["every_style"].turns[1].parts[0] == "google:" and not asked["every_style"].complete
    (given, ask), (said, _) = asked["restyle"].turns[0].parts, asked["restyle"].turns[1].parts
    assert given is source and ask == "draw this in google style" and said == "snake in google style"
