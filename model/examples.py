"""Where training examples come from: Shapes64 seeds or a corpus (model/corpus.py).

An Example is one image with its two texts: what follows the draw prefix when the model
is asked to draw it, and the caption it answers when asked to describe it. A source hands
out a batch's examples for a training step; both directions are built from them in train.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image as PILImage, ImageFilter

from corpus import Corpus
from shapes64 import DESCRIBE_PROMPT, DRAW_PREFIX, TRAIN_SEEDS, scene_from_seed
from tokenizer import Tokenizer, train_bpe

STYLE_TEMPLATE = "{caption} in {style} style"


@dataclass
class Example:
    image: np.ndarray           # uint8 [H, W, 3], drawn as it is
    draw_text: str              # the user's text after the draw prefix
    caption: str                # the describe answer
    seen_image: np.ndarray | None = None   # what describe reads (augmented); None: `image`

    @property
    def describe_image(self) -> np.ndarray:
        return self.image if self.seen_image is None else self.seen_image


def shapes64_example(seed: int) -> Example:
    scene = scene_from_seed(seed)
    return Example(scene.render(), scene.caption(), scene.caption())


def draw_text(caption: str, style: str | None) -> str:
    return STYLE_TEMPLATE.format(caption=caption, style=style) if style else caption


def augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Changes that keep an emoji's meaning, so that describe learns the concept rather than
    one artist's pixels: a small scale and shift on white, sometimes a blur. Never hue (a red
    and a blue heart differ) and never a flip (arrows point somewhere)."""
    size = img.shape[0]
    scale = rng.uniform(0.8, 1.05)
    side = max(8, round(size * scale))
    im = PILImage.fromarray(img).resize((side, side), PILImage.Resampling.BOX if side < size else PILImage.Resampling.BILINEAR)
    canvas = PILImage.new("RGB", (max(size, side), max(size, side)), (255, 255, 255))
    dx, dy = rng.integers(-4, 5, size=2)
    off = (canvas.size[0] - side) // 2
    canvas.paste(im, (off + int(dx), off + int(dy)))
    if canvas.size[0] != size:  # scaled up: crop the centre back to size
        c = (canvas.size[0] - size) // 2
        canvas = canvas.crop((c, c, c + size, c + size))
    if rng.random() < 0.3:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    return np.asarray(canvas, dtype=np.uint8)


class Shapes64Source:
    """Consecutive training seeds: step s, rank r takes its own disjoint slice."""

    def examples(self, step: int, rank: int, world: int, n: int, gen: torch.Generator) -> list[Example]:
        base = TRAIN_SEEDS[0] + (step * world + rank) * n
        return [shapes64_example(s) for s in range(base, base + n)]


class CorpusSource:
    """Random training rows of a corpus (with replacement, from the step's generator).
    A row with a style is drawn as `<caption> in <style> style`, and `style_free_fraction`
    of the time as `<caption>` alone, so a user may leave the style open."""

    def __init__(self, corpus: Corpus, style_free_fraction: float = 0.25, augment_fraction: float = 0.0):
        self.corpus = corpus
        self.rows = corpus.indices("train")
        if not self.rows:
            raise SystemExit("the corpus has no training rows")
        self.style_free_fraction = style_free_fraction
        self.augment_fraction = augment_fraction

    def examples(self, step: int, rank: int, world: int, n: int, gen: torch.Generator) -> list[Example]:
        c = self.corpus
        picks = torch.randint(len(self.rows), (n,), generator=gen).tolist()
        coins = torch.rand(n, 2, generator=gen).tolist()
        rng = np.random.default_rng(int(torch.randint(1 << 31, (1,), generator=gen)))
        out = []
        for p, (style_coin, aug_coin) in zip(picks, coins):
            i = self.rows[p]
            style = None if style_coin < self.style_free_fraction else c.styles[i]
            img = c.images[i]
            seen = augment(img, rng) if aug_coin < self.augment_fraction else None
            out.append(Example(img, draw_text(c.captions[i], style), c.captions[i], seen))
        return out


def corpus_tokenizer(corpus: Corpus, max_merges: int) -> Tokenizer:
    """BPE merges from the text a corpus model reads and writes (its training rows)."""
    texts = [DESCRIBE_PROMPT]
    for i in corpus.indices("train"):
        cap, style = corpus.captions[i], corpus.styles[i]
        texts += [cap, DRAW_PREFIX + cap, DRAW_PREFIX + draw_text(cap, style)]
    return train_bpe(texts, max_merges=max_merges)
