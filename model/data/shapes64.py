"""Shapes64: the house data set (docs/data/shapes64.md), generated to the pixel.

A scene is 1 to 3 objects on a 64 x 64 white canvas, each in its own cell of a 3 x 3 grid.
Everything is a pure function of an integer seed, so splits are seed ranges.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZE = 64
BACKGROUND = (255, 255, 255)
EDGES = [round(SIZE * k / 3) for k in range(4)]  # 0, 21, 43, 64
CELLS = ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"]
SIZES = {"small": 10, "large": 18}
COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (30, 70, 220),
    "yellow": (230, 200, 20),
    "purple": (140, 50, 180),
    "orange": (245, 130, 20),
    "cyan": (20, 180, 200),
    "black": (20, 20, 20),
}
GEOMETRIC = ["circle", "square", "triangle"]
KINDS = GEOMETRIC + [str(d) for d in range(10)]
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# Seed ranges: training never touches the evaluation seeds.
TRAIN_SEEDS = (0, 1_000_000_000)
EVAL_SEEDS = (2_000_000_000, 2_000_100_000)
# Validation: for choosing what the evaluation must not see (the sampler's settings).
VAL_SEEDS = (1_500_000_000, 1_500_100_000)

DRAW_PREFIX = "draw "
DESCRIBE_PROMPT = "describe the image"


@dataclass(frozen=True)
class SceneObject:
    cell: int  # 0..8, row by row
    size: str  # small | large
    colour: str
    kind: str
    dx: int  # jitter of the centre, -2..2
    dy: int

    @property
    def centre(self) -> tuple[float, float]:
        col, row = self.cell % 3, self.cell // 3
        cx = (EDGES[col] + EDGES[col + 1]) / 2 + self.dx
        cy = (EDGES[row] + EDGES[row + 1]) / 2 + self.dy
        return cx, cy

    def phrase(self) -> str:
        return f"a {self.size} {self.colour} {self.kind} at the {CELLS[self.cell]}"


@dataclass(frozen=True)
class Scene:
    objects: tuple[SceneObject, ...]  # in reading order of their cells

    def caption(self) -> str:
        return " and ".join(o.phrase() for o in self.objects)

    def render(self) -> np.ndarray:
        """uint8 [64, 64, 3]."""
        img = np.empty((SIZE, SIZE, 3), np.float32)
        img[:] = BACKGROUND
        for obj in self.objects:
            alpha = object_alpha(obj)
            img = img * (1 - alpha[..., None]) + np.array(COLOURS[obj.colour], np.float32) * alpha[..., None]
        return np.clip(np.round(img), 0, 255).astype(np.uint8)


def scene_from_seed(seed: int) -> Scene:
    rng = random.Random(seed)
    n = rng.randint(1, 3)
    cells = sorted(rng.sample(range(9), n))
    return Scene(tuple(random_object(c, rng) for c in cells))


def random_object(cell: int, rng: random.Random) -> SceneObject:
    """An object of random size, colour, kind and offset in `cell`."""
    return SceneObject(
        cell=cell,
        size=rng.choice(list(SIZES)),
        colour=rng.choice(list(COLOURS)),
        kind=rng.choice(KINDS),
        dx=rng.randint(-2, 2),
        dy=rng.randint(-2, 2),
    )


def object_alpha(obj: SceneObject) -> np.ndarray:
    """Coverage in 0..1 over the canvas. Shapes are binary (no anti-aliasing): a pixel is in
    when its centre is; glyphs carry FreeType's anti-aliasing."""
    s = SIZES[obj.size]
    cx, cy = obj.centre
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5
    if obj.kind == "circle":
        inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= (s / 2) ** 2
    elif obj.kind == "square":
        inside = (xs >= cx - s / 2) & (xs < cx + s / 2) & (ys >= cy - s / 2) & (ys < cy + s / 2)
    elif obj.kind == "triangle":
        top = cy - s / 2
        depth = ys - top  # of the pixel's centre: 0.5 in the apex row, s - 0.5 in the base row
        # Half-width at the pixel's lower edge, so the apex row is never empty (height = s)
        # and the base row is s wide (base = s).
        inside = (depth >= 0) & (depth < s) & (np.abs(xs - cx) <= (depth + 0.5) / 2)
    else:
        return glyph_alpha(obj.kind, s, cx, cy)
    return inside.astype(np.float32)


@functools.cache
def glyph_mask(digit: str, size: int) -> np.ndarray:
    """The digit's anti-aliased mask cropped to its ink box, ink height == size."""
    for font_size in range(size, 4 * size):
        font = ImageFont.truetype(FONT_PATH, font_size)
        canvas = Image.new("L", (4 * size, 4 * size), 0)
        ImageDraw.Draw(canvas).text((size, size), digit, fill=255, font=font)
        a = np.asarray(canvas)
        rows = np.nonzero(a.any(axis=1))[0]
        if rows[-1] - rows[0] + 1 >= size:
            cols = np.nonzero(a.any(axis=0))[0]
            return a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255.0
    raise AssertionError("unreachable: ink height grows with the font size")


def glyph_alpha(digit: str, size: int, cx: float, cy: float) -> np.ndarray:
    mask = glyph_mask(digit, size)
    h, w = mask.shape
    # The same rule as the shapes: the first pixel whose centre is inside the box.
    top, left = int(np.ceil(cy - h / 2 - 0.5)), int(np.ceil(cx - w / 2 - 0.5))
    alpha = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, SIZE), min(left + w, SIZE)
    alpha[y0:y1, x0:x1] = mask[y0 - top : y1 - top, x0 - left : x1 - left]
    return alpha


@dataclass(frozen=True)
class Conversation:
    """One exchange. `direction` is draw (text -> image) or describe (image -> text)."""

    direction: str
    scene: Scene

    @property
    def user_text(self) -> str:
        return DRAW_PREFIX + self.scene.caption() if self.direction == "draw" else DESCRIBE_PROMPT


def conversation_from_seed(seed: int) -> Conversation:
    """Even seeds draw, odd seeds describe; the scene comes from the same seed."""
    return Conversation("draw" if seed % 2 == 0 else "describe", scene_from_seed(seed))


def eval_split(n_per_direction: int = 1000) -> list[Conversation]:
    """The evaluation split: scenes from the evaluation seed range, each in both directions."""
    return _split(EVAL_SEEDS, n_per_direction)


def val_split(n_per_direction: int = 1000) -> list[Conversation]:
    """The validation split, where settings are chosen, so that the evaluation split only reports."""
    return _split(VAL_SEEDS, n_per_direction)


def _split(seeds: tuple[int, int], n_per_direction: int) -> list[Conversation]:
    if n_per_direction > seeds[1] - seeds[0]:
        raise ValueError(f"a split holds at most {seeds[1] - seeds[0]} scenes")
    out = []
    for i in range(n_per_direction):
        scene = scene_from_seed(seeds[0] + i)
        out.append(Conversation("draw", scene))
        out.append(Conversation("describe", scene))
    return out
