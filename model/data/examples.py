"""Where training examples come from: Shapes64 seeds or a corpus (model/data/corpus.py).

An Example is one image with its two texts: what follows the draw prefix when the model
is asked to draw it, and the caption it answers when asked to describe it. A source hands
out a batch's examples for a training step; both directions are built from them in train.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image as PILImage
from PIL import ImageEnhance, ImageFilter

from model.data.corpus import Corpus
from model.data.shapes64 import DESCRIBE_PROMPT, DRAW_PREFIX, TRAIN_SEEDS, scene_from_seed
from model.network.tokenizer import Tokenizer, train_bpe

STYLE_TEMPLATE = "{caption} in {style} style"


@dataclass
class Example:
    image: np.ndarray  # uint8 [H, W, 3], drawn as it is
    draw_text: str  # the user's text after the draw prefix
    caption: str  # the describe answer
    seen_image: np.ndarray | None = None  # what describe reads (augmented); None: `image`

    @property
    def describe_image(self) -> np.ndarray:
        return self.image if self.seen_image is None else self.seen_image


def shapes64_example(seed: int) -> Example:
    scene = scene_from_seed(seed)
    return Example(scene.render(), scene.caption(), scene.caption())


def draw_text(caption: str, style: str | None) -> str:
    return STYLE_TEMPLATE.format(caption=caption, style=style) if style else caption


def is_white(img: np.ndarray) -> np.ndarray:
    """bool [H, W]: the white ground every corpus image is composited on."""
    return (img >= 250).all(-1)


def place_on_white(im: PILImage.Image, size: int, dx: int, dy: int) -> PILImage.Image:
    """`im` centred on a white square, moved by (dx, dy), then cropped back to size x size
    round the centre (an image larger than that loses its border)."""
    side = max(size, *im.size)
    canvas = PILImage.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(im, ((side - im.size[0]) // 2 + dx, (side - im.size[1]) // 2 + dy))
    if side != size:
        c = (side - size) // 2
        canvas = canvas.crop((c, c, c + size, c + size))
    return canvas


def augment(img: np.ndarray, rng: np.random.Generator, caption: str = "") -> np.ndarray:
    """Changes that keep an emoji's meaning, so that describe learns the concept rather than
    one artist's pixels: a small scale and shift on white, sometimes a blur. Never hue (a red
    and a blue heart differ) and never a flip (arrows point somewhere)."""
    size = img.shape[0]
    scale = rng.uniform(0.8, 1.05)
    side = max(8, round(size * scale))
    im = PILImage.fromarray(img).resize(
        (side, side), PILImage.Resampling.BOX if side < size else PILImage.Resampling.BILINEAR
    )
    dx, dy = rng.integers(-4, 5, size=2)
    canvas = place_on_white(im, size, int(dx), int(dy))
    if rng.random() < 0.3:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    return np.asarray(canvas, dtype=np.uint8)


# Hue is meaning for an emoji only where its name says so (a red and a blue heart differ); for
# the rest it is the artist's: the same concept's hue differs by up to 28 degrees between the
# training styles (a green heart is 71 in OpenMoji, 99 in Twemoji; a yellow face 42 to 54) and
# further in the held-out one (Fluent's faces are 37). So a caption that names a colour keeps
# its hue exactly, and any other may turn by up to STYLE_HUE_DEGREES.
STYLE_HUE_DEGREES = 18.0
COLOUR_WORDS = frozenset("red orange yellow green blue purple brown black white pink grey gray".split())


def names_a_colour(caption: str) -> bool:
    return any(w in COLOUR_WORDS for w in re.findall(r"[a-z]+", caption.lower()))


def augment_style(img: np.ndarray, rng: np.random.Generator, caption: str = "") -> np.ndarray:
    """What one artist's set differs from another's in, while the concept stays: proportions
    (scale, aspect, a slight turn, placement), palette (saturation, brightness, contrast, a
    hue turn within the styles' own spread, none where the caption names a colour), line
    work (thicker or thinner dark lines, an added outline), shading (flattened to few
    colours) and sharpness. The white ground stays white, and there is never a flip (arrows
    point somewhere)."""
    size = img.shape[0]
    white = is_white(img)
    im = PILImage.fromarray(img)

    if rng.random() < 0.8:  # palette; the ground is put back to white below
        if rng.random() < 0.5 and not names_a_colour(caption):
            hsv = np.asarray(im.convert("HSV")).copy()
            turn = rng.uniform(-STYLE_HUE_DEGREES, STYLE_HUE_DEGREES) * 256 / 360
            hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(turn)) % 256
            im = PILImage.fromarray(hsv, "HSV").convert("RGB")
        im = ImageEnhance.Color(im).enhance(rng.uniform(0.8, 1.3))
        im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.85, 1.2))
        im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.88, 1.1))
        a = np.asarray(im).copy()
        a[white] = 255
        im = PILImage.fromarray(a)
    if rng.random() < 0.25:  # shading flattened, as in the flat sets
        im = im.quantize(int(rng.integers(6, 17)), method=PILImage.Quantize.MEDIANCUT).convert("RGB")
    line = rng.random()
    if line < 0.12:  # dark lines thicker
        im = im.filter(ImageFilter.MinFilter(3))
    elif line < 0.24:  # dark lines thinner, thin outlines gone
        im = im.filter(ImageFilter.MaxFilter(3))
    elif line < 0.36:  # a dark outline round the figure, as in line-art sets
        fg = ~is_white(np.asarray(im))
        ring = np.asarray(PILImage.fromarray(fg.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
        a = np.asarray(im).copy()
        a[ring & ~fg] = int(rng.integers(0, 60))
        im = PILImage.fromarray(a)

    # proportions and placement, on a white canvas
    scale = rng.uniform(0.75, 1.08)
    aspect = rng.uniform(0.92, 1.08)
    w, h = max(8, round(size * scale * aspect)), max(8, round(size * scale / aspect))
    im = im.resize((w, h), PILImage.Resampling.BOX if w * h < size * size else PILImage.Resampling.BILINEAR)
    im = im.rotate(rng.uniform(-8, 8), resample=PILImage.Resampling.BILINEAR, expand=True, fillcolor=(255, 255, 255))
    dx, dy = rng.integers(-6, 7, size=2)
    canvas = place_on_white(im, size, int(dx), int(dy))
    if rng.random() < 0.3:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    return np.asarray(canvas, dtype=np.uint8)


def recolour_parts(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The figure flattened to a few colours, and some of its smaller parts given other ones:
    artists agree on an emoji's main colour more than on its parts' (eyes white or dark, a
    mouth brown or magenta, highlights of any tint). The largest part and the ground keep
    theirs."""
    white = is_white(img)
    if white.all():
        return img
    q = PILImage.fromarray(img).quantize(int(rng.integers(8, 15)), method=PILImage.Quantize.MEDIANCUT)
    labels = np.asarray(q)
    palette = np.array(q.getpalette()[: 3 * 256], dtype=np.float32).reshape(-1, 3)
    counts = np.bincount(labels[~white], minlength=len(palette))
    main = int(counts.argmax())
    for k in np.nonzero(counts)[0]:
        if k == main or rng.random() < 0.5:
            continue
        # a part must stay as distinct from the main colour as it was (up to 80 levels), or
        # a face's eyes and mouth could fade into it; a few tries, else it keeps its colour
        need = 0.8 * min(np.linalg.norm(palette[k] - palette[main]), 80.0)
        for _ in range(4):
            colour = palette[k] + rng.uniform(0.3, 0.8) * (rng.uniform(0, 255, 3) - palette[k])
            if np.linalg.norm(colour - palette[main]) >= need:
                palette[k] = colour
                break
    out = palette.round().astype(np.uint8)[labels]
    out[white] = 255
    return out


def augment_parts(img: np.ndarray, rng: np.random.Generator, caption: str = "") -> np.ndarray:
    """The style augmentation, with two more differences between artists' sets: the colours
    of an emoji's smaller parts (never where the caption names a colour, which may be a
    part's) and detail, by passing the image through 16 to 32 pixels, so that describe also
    learns the coarse layout a pixel-space neighbour sees."""
    if rng.random() < 0.5 and not names_a_colour(caption):
        img = recolour_parts(img, rng)
    out = augment_style(img, rng, caption)
    if rng.random() < 0.25:
        size = out.shape[0]
        small = int(rng.integers(16, 33))
        im = PILImage.fromarray(out).resize((small, small), PILImage.Resampling.BOX)
        out = np.asarray(im.resize((size, size), PILImage.Resampling.BILINEAR), dtype=np.uint8)
    return out


AUGMENTATIONS = {"mild": augment, "style": augment_style, "parts": augment_parts}


class Shapes64Source:
    """Consecutive training seeds: step s, rank r takes its own disjoint slice."""

    def examples(self, step: int, rank: int, world: int, n: int, gen: torch.Generator) -> list[Example]:
        base = TRAIN_SEEDS[0] + (step * world + rank) * n
        return [shapes64_example(s) for s in range(base, base + n)]


class CorpusSource:
    """Random training rows of a corpus (with replacement, from the step's generator).
    A row with a style is drawn as `<caption> in <style> style`, and `style_free_fraction`
    of the time as `<caption>` alone, so a user may leave the style open."""

    def __init__(
        self,
        corpus: Corpus,
        style_free_fraction: float = 0.25,
        augment_fraction: float = 0.0,
        augmentation: str = "mild",
    ):
        self.corpus = corpus
        self.rows = corpus.indices("train")
        if not self.rows:
            raise SystemExit("the corpus has no training rows")
        self.style_free_fraction = style_free_fraction
        self.augment_fraction = augment_fraction
        if augmentation not in AUGMENTATIONS:
            raise SystemExit(f"unknown augmentation {augmentation!r}; one of {', '.join(AUGMENTATIONS)}")
        self.augment = AUGMENTATIONS[augmentation]

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
            seen = self.augment(img, rng, c.captions[i]) if aug_coin < self.augment_fraction else None
            out.append(Example(img, draw_text(c.captions[i], style), c.captions[i], seen))
        return out


def corpus_tokenizer(corpus: Corpus, max_merges: int) -> Tokenizer:
    """BPE merges from the text a corpus model reads and writes (its training rows)."""
    texts = [DESCRIBE_PROMPT]
    for i in corpus.indices("train"):
        cap, style = corpus.captions[i], corpus.styles[i]
        texts += [cap, DRAW_PREFIX + cap, DRAW_PREFIX + draw_text(cap, style)]
    return train_bpe(texts, max_merges=max_merges)
