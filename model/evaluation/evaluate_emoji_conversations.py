"""Scoring Emoji64 conversations (issue 27's targets), as a library; eval_emoji_conversations.py
is the command. Every figure is a retrieval in pixel space (eval_corpus.Pools): a drawing
counts for a concept when the nearest real images of the asked style name it.

- restyle, held-out cells: the concept in another training style + `draw this in <style>
  style` -> top-5 (and top-1) among that style's images; beside drawing from the caption and
  copying the input, in the same run;
- restyle from the unseen style (a `fluent` image): top-1 of the concept in the asked style;
  beside the pixel nearest neighbour (the fluent image's nearest training image) and the
  two-step pipeline (describe, then draw the model's caption in that style);
- every style: the three images of `draw <caption> in every style`, each retrieved top-1 in
  its style, beside single draws of the same cells; the text parts exactly the style labels;
- second turns: the held-out restyles asked after a turn (the model's own drawing of the
  source cell, or the model's description of the source image then `draw it in <style>
  style`), beside the one-turn restyle;
- refusals: held-out out-of-scope phrasings answered in text, and valid requests answered in
  text (wrongly).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from model.data.corpus import Corpus
from model.data.dialogues import Turn, context_items
from model.data.emoji_dialogues import (
    DESCRIBE,
    EVERY_STYLE,
    RESTYLE,
    RESTYLE_FOLLOW_UP,
    SOURCE_ONLY_STYLES,
    STYLE_LABEL,
    out_of_scope_prompts,
)
from model.data.examples import draw_text
from model.evaluation.eval_corpus import HELD_OUT_STYLE, Pools, copy_baseline, rate, sample, training_rows
from model.network.sequence import image_to_patches
from model.network.tokenizer import Tokenizer
from model.sampling.conversation import answer_parts, text_and_first_image
from model.sampling.inference import Runtime


def drawn_rows(corpus: Corpus) -> tuple[list[str], list[int]]:
    """(the styles the model draws in, their training rows): eval_corpus.training_rows less the
    styles a restyle only starts from (OpenMoji's outline, when the corpus has it)."""
    styles, train = training_rows(corpus)
    styles = [s for s in styles if s not in SOURCE_ONLY_STYLES]
    return styles, [i for i in train if corpus.styles[i] in styles]


BLANK = np.full((64, 64, 3), 255, np.uint8)  # where an answer held no image: retrieves nothing useful


@dataclass
class Answers:
    """Batched answers with fixed seeds; a text answer scores as a white image."""

    rt: Runtime
    tok: Tokenizer
    steps: int
    guidance: float
    batch: int = 32
    progress: object = None  # a tqdm bar, updated per batch

    def parts(self, convs: list[list[Turn]], seeds: list[int], max_images: int = 1) -> list[list]:
        out: list[list] = []
        for s in range(0, len(convs), self.batch):
            out += answer_parts(
                self.rt,
                self.tok,
                convs[s : s + self.batch],
                seeds[s : s + self.batch],
                self.steps,
                self.guidance,
                max_images=max_images,
            )
            if self.progress is not None:
                self.progress.update(len(convs[s : s + self.batch]))
        return out

    def one(self, convs: list[list[Turn]], seeds: list[int]) -> tuple[list[str], np.ndarray, list[bool]]:
        """(texts, images [N, H, W, 3], whether each answer held an image)."""
        answers = [text_and_first_image(p) for p in self.parts(convs, seeds)]
        images = np.stack([img if img is not None else BLANK for _, img in answers])
        return [t for t, _ in answers], images, [img is not None for _, img in answers]


def hits_in_style(pools: Pools, images: np.ndarray, styles: list[str], concepts: list[str], k: int) -> list[bool]:
    """Per image: is its concept among the k nearest concepts of its style's real images?"""
    out = [False] * len(images)
    for style in set(styles):
        idx = [j for j, s in enumerate(styles) if s == style]
        for j, found in zip(idx, pools.retrieve(images[idx], style, k)):
            out[j] = concepts[j] in found
    return out


def named_right(said: list[str], captions: list[str], styles: list[str]) -> list[bool]:
    """Per restyle answer: do its words (before the image) name the concept and the asked style
    exactly, as the draw request's caption does (`draw_text`)?"""
    return [t.strip() == draw_text(c, s) for t, c, s in zip(said, captions, styles)]


def heldout_restyles(corpus: Corpus, split: str, n: int) -> list[tuple[int, int]]:
    """(source row, held-out target row): each held-out cell of the split in a training style,
    from the same concept in every other training style (training cells only)."""
    styles, train = drawn_rows(corpus)
    where = {(corpus.captions[i], corpus.styles[i]): i for i in train}
    pairs = []
    for t in corpus.indices(split):
        if corpus.styles[t] not in styles:
            continue
        for s in styles:
            src = where.get((corpus.captions[t], s))
            if s != corpus.styles[t] and src is not None:
                pairs.append((src, t))
    if n and n < len(pairs):
        pairs = [pairs[j] for j in sorted(random.Random(11).sample(range(len(pairs)), n))]
    return pairs


def evaluate_restyle_heldout(answers: Answers, corpus: Corpus, pools: Pools, pairs: list[tuple[int, int]]) -> dict:
    caps = [corpus.captions[t] for _, t in pairs]
    styles = [corpus.styles[t] for _, t in pairs]
    seeds = [5000 + t for _, t in pairs]
    convs = [[Turn("user", [corpus.images[s], RESTYLE.format(style=st)])] for (s, _), st in zip(pairs, styles)]
    said, images, drew = answers.one(convs, seeds)
    top5 = hits_in_style(pools, images, styles, caps, 5)
    top1 = hits_in_style(pools, images, styles, caps, 1)
    # Drawing from the caption, the same seed: one drawing per held-out cell, counted for each of its pairs.
    draws = [[Turn("user", ["draw " + draw_text(c, st)])] for c, st in zip(caps, styles)]
    _, drawn, _ = answers.one(draws, seeds)
    training_styles, _ = drawn_rows(corpus)
    targets = sorted({t for _, t in pairs})
    copies = dict(zip(targets, copy_baseline(pools, corpus, targets, training_styles)))
    return {
        "restyle_top5": rate(top5),
        "restyle_top1": rate(top1),
        "answered_with_image": rate(drew),
        "named_exact": rate(named_right(said, caps, styles)),
        "draw_from_caption_top5": rate(hits_in_style(pools, drawn, styles, caps, 5)),
        "draw_from_caption_top1": rate(hits_in_style(pools, drawn, styles, caps, 1)),
        "copy_input_top5": {"n": len(pairs), "accuracy": float(np.mean([copies[t] for _, t in pairs]))},
    }


def evaluate_restyle_fluent(answers: Answers, corpus: Corpus, pools: Pools, n: int) -> dict:
    """A fluent image, restyled into each training style in turn (row j -> style j mod 3)."""
    styles, _ = drawn_rows(corpus)
    rows = sample(corpus.indices("eval", HELD_OUT_STYLE), n, 21)
    targets = [styles[j % len(styles)] for j in range(len(rows))]
    caps = [corpus.captions[i] for i in rows]
    seeds = [9000 + i for i in rows]
    convs = [[Turn("user", [corpus.images[i], RESTYLE.format(style=st)])] for i, st in zip(rows, targets)]
    said, images, drew = answers.one(convs, seeds)
    restyle = hits_in_style(pools, images, targets, caps, 1)
    # The pipeline: the model describes the image, then draws its own caption in the style.
    described, _, _ = answers.one([[Turn("user", [corpus.images[i], DESCRIBE])] for i in rows], seeds)
    draws = [[Turn("user", ["draw " + draw_text(d.strip(), st)])] for d, st in zip(described, targets)]
    _, drawn, _ = answers.one(draws, seeds)
    nn = pools.retrieve(corpus.images[rows], None, 1)
    copied = hits_in_style(pools, corpus.images[rows], targets, caps, 1)
    return {
        "restyle_top1": rate(restyle),
        "answered_with_image": rate(drew),
        "named_exact": rate(named_right(said, caps, targets)),
        "pipeline_top1": rate(hits_in_style(pools, drawn, targets, caps, 1)),
        "pipeline_describe_exact": rate([d.strip() == c for d, c in zip(described, caps)]),
        "pixel_nn_top1": rate([r[0] == c for r, c in zip(nn, caps)]),
        "copy_input_top1": rate(copied),
    }


def evaluate_every_style(answers: Answers, corpus: Corpus, pools: Pools, n: int) -> dict:
    """`draw <caption> in every style` for concepts whose three training-style images are all
    training cells; beside a single draw of each of those cells with the same seed."""
    styles, train = drawn_rows(corpus)
    by_concept: dict[str, set] = {}
    for i in train:
        by_concept.setdefault(corpus.captions[i], set()).add(corpus.styles[i])
    concepts = sorted(c for c, s in by_concept.items() if s >= set(styles))
    concepts = [concepts[j] for j in sample(list(range(len(concepts))), n, 31)]
    seeds = [700 + j for j in range(len(concepts))]
    outs = answers.parts([[Turn("user", [EVERY_STYLE.format(caption=c)])] for c in concepts], seeds, len(styles))
    want = [STYLE_LABEL.format(style=s) for s in styles]
    labels_right, images, img_styles, img_caps = [], [], [], []
    for c, parts in zip(concepts, outs):
        texts = [p.strip() for p in parts if isinstance(p, str)]
        pics = [p for p in parts if not isinstance(p, str)]
        labels_right.append(texts == want and len(pics) == len(styles) and isinstance(parts[0], str))
        for k, s in enumerate(styles):
            images.append(pics[k] if k < len(pics) else BLANK)
            img_styles.append(s)
            img_caps.append(c)
    every = hits_in_style(pools, np.stack(images), img_styles, img_caps, 1)
    singles = [[Turn("user", ["draw " + draw_text(c, s)])] for c, s in zip(img_caps, img_styles)]
    _, drawn, _ = answers.one(singles, [seeds[j // len(styles)] for j in range(len(singles))])
    return {
        "every_style_top1": rate(every),
        "single_draw_top1": rate(hits_in_style(pools, drawn, img_styles, img_caps, 1)),
        "labels_exact": rate(labels_right),
        "by_style": {s: rate([h for h, st in zip(every, img_styles) if st == s]) for s in styles},
    }


def evaluate_second_turn(answers: Answers, corpus: Corpus, pools: Pools, pairs: list[tuple[int, int]]) -> dict:
    """The held-out restyles of evaluate_restyle_heldout, asked in a second turn."""
    caps = [corpus.captions[t] for _, t in pairs]
    styles = [corpus.styles[t] for _, t in pairs]
    seeds = [5000 + t for _, t in pairs]
    # After the model's own drawing of the source cell.
    firsts = [[Turn("user", ["draw " + draw_text(corpus.captions[s], corpus.styles[s])])] for s, _ in pairs]
    _, own, _ = answers.one(firsts, [s + 300 for s in seeds])
    convs = [
        [*first, Turn("assistant", [img]), Turn("user", [RESTYLE.format(style=st)])]
        for first, img, st in zip(firsts, own, styles)
    ]
    _, after_draw, _ = answers.one(convs, seeds)
    # After describing the source image: `draw it in <style> style`.
    asks = [[Turn("user", [corpus.images[s], DESCRIBE])] for s, _ in pairs]
    said, _, _ = answers.one(asks, seeds)
    convs = [
        [*ask, Turn("assistant", [text.strip()]), Turn("user", [RESTYLE_FOLLOW_UP.format(style=st)])]
        for ask, text, st in zip(asks, said, styles)
    ]
    _, after_describe, _ = answers.one(convs, seeds)
    return {
        "after_own_drawing_top5": rate(hits_in_style(pools, after_draw, styles, caps, 5)),
        "after_describe_top5": rate(hits_in_style(pools, after_describe, styles, caps, 5)),
    }


def evaluate_refusals(rt: Runtime, tok: Tokenizer, corpus: Corpus, n: int, batch: int = 32, max_text: int = 48) -> dict:
    """Held-out out-of-scope phrasings (an image, a fluent one, where the ask is about one)
    answered in text; valid draws, restyles and every-style requests wrongly answered in text."""
    styles, train = drawn_rows(corpus)
    fluent = corpus.indices("eval", HELD_OUT_STYLE) or train
    asks = out_of_scope_prompts(n, styles, sorted(set(corpus.captions[i] for i in train)), seed=5)
    convs = [
        [Turn("user", [corpus.images[fluent[j % len(fluent)]], text] if with_image else [text])]
        for j, (text, with_image) in enumerate(asks)
    ]
    rng = random.Random(8)
    valid = []
    for j in range(n):
        i = rng.choice(train)
        style = styles[j % len(styles)]
        kind = j % 3
        if kind == 0:
            valid.append([Turn("user", ["draw " + draw_text(corpus.captions[i], style)])])
        elif kind == 1:
            valid.append([Turn("user", [corpus.images[rng.choice(fluent)], RESTYLE.format(style=style)])])
        else:
            valid.append([Turn("user", [EVERY_STYLE.format(caption=corpus.captions[i])])])

    def in_text(cs: list[list[Turn]]) -> list[bool]:
        """Answered in text: the answer ends (or runs past `max_text` tokens) before any image.
        A restyle and an every-style answer open with words, so the first token cannot tell."""
        out: list[bool] = []
        for s in range(0, len(cs), batch):
            ctx = [_context(tok, rt, turns) for turns in cs[s : s + batch]]
            out += [not (ids and ids[-1] == tok.boi) for ids in rt.decode_greedy(ctx, max_text, {tok.eos, tok.boi})]
        return out

    return {
        "out_of_scope_answered_in_text": rate(in_text(convs)),
        "valid_answered_in_text": rate(in_text(valid)),
    }


def _context(tok: Tokenizer, rt: Runtime, turns: list[Turn]) -> list:
    return context_items(tok, turns, lambda img: image_to_patches(img, rt.cfg.patch_size))
