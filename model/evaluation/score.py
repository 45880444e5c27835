"""Scores as the Shapes64 card defines them (docs/data/shapes64.md, 'What a score means').

Where the card leaves room we are strict and say so: "the right size" is at least 40 % of
the ideal area (the card) and a bounding box no larger than 1.5 x the size (ours, so that a
large object drawn for a small one does not pass); shapes are told apart by how much of
their bounding box they fill and, for triangles, by a narrow top.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np

from model.data.shapes64 import CELLS, COLOURS, EDGES, GEOMETRIC, SIZES, Scene, SceneObject, glyph_alpha

TOLERANCE = 60
MIN_AREA_FRACTION = 0.4
MAX_BOX_FACTOR = 1.5
STRAY_PIXELS = 20


def colour_mask(img: np.ndarray, colour: str) -> np.ndarray:
    rgb = np.array(COLOURS[colour], np.int32)
    return (np.abs(img.astype(np.int32) - rgb) <= TOLERANCE).all(-1)


def cell_slice(cell: int) -> tuple[slice, slice]:
    col, row = cell % 3, cell // 3
    return slice(EDGES[row], EDGES[row + 1]), slice(EDGES[col], EDGES[col + 1])


def largest_blob(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected component of a boolean mask."""
    h, w = mask.shape
    seen = np.zeros_like(mask)
    best: list[tuple[int, int]] = []
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        stack, blob = [(y0, x0)], []
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            blob.append((y, x))
            for yy, xx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not seen[yy, xx]:
                    seen[yy, xx] = True
                    stack.append((yy, xx))
        if len(blob) > len(best):
            best = blob
    out = np.zeros_like(mask)
    for y, x in best:
        out[y, x] = True
    return out


@functools.cache
def ideal_area(kind: str, size: str, colour: str) -> float:
    s = SIZES[size]
    if kind == "circle":
        return math.pi * (s / 2) ** 2
    if kind == "square":
        return float(s * s)
    if kind == "triangle":
        return s * s / 2
    # A digit: the pixels of the reference glyph that pass the colour test.
    alpha = glyph_alpha(kind, s, 32.0, 32.0)
    rgb = np.array(COLOURS[colour], np.float32)
    img = 255 * (1 - alpha[..., None]) + rgb * alpha[..., None]
    return float(colour_mask(np.round(img).astype(np.uint8), colour).sum())


def shape_of(blob: np.ndarray) -> str:
    ys, xs = np.nonzero(blob)
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fill = len(ys) / (h * w)
    top = blob[ys.min() : ys.min() + max(1, h // 4)].sum(1).mean()
    bottom = blob[ys.max() - max(1, h // 4) + 1 : ys.max() + 1].sum(1).mean()
    if fill < 0.65 and top < 0.6 * bottom:
        return "triangle"
    return "square" if fill > 0.9 else "circle"


def why_not_drawn(img: np.ndarray, obj: SceneObject) -> str | None:
    """The first of the card's checks that `obj` fails in `img`, or None when it is drawn:
    "missing" (no pixel of its colour in its cell), "too small", "too large", "wrong shape"."""
    ys, xs = cell_slice(obj.cell)
    mask = colour_mask(img[ys, xs], obj.colour)
    if not mask.any():
        return "missing"
    blob = largest_blob(mask)
    area = blob.sum()
    by, bx = np.nonzero(blob)
    side = max(by.max() - by.min() + 1, bx.max() - bx.min() + 1)
    if area < MIN_AREA_FRACTION * ideal_area(obj.kind, obj.size, obj.colour):
        return "too small"
    if side > MAX_BOX_FACTOR * SIZES[obj.size]:
        return "too large"
    if obj.kind in GEOMETRIC and shape_of(blob) != obj.kind:
        return "wrong shape"
    return None


def object_drawn(img: np.ndarray, obj: SceneObject) -> bool:
    return why_not_drawn(img, obj) is None


def stray_pixels(img: np.ndarray, scene: Scene) -> int:
    """The most pixels of any one palette colour outside the named cells."""
    outside = np.ones(img.shape[:2], bool)
    for obj in scene.objects:
        ys, xs = cell_slice(obj.cell)
        outside[ys, xs] = False
    return max(int((colour_mask(img, c) & outside).sum()) for c in COLOURS)


def failure_causes(img: np.ndarray, scene: Scene) -> list[str]:
    """Why a drawing of `scene` is wrong: each object's failed check (why_not_drawn), then
    "stray" for paint outside the named cells; empty when it is right."""
    causes = [c for c in (why_not_drawn(img, o) for o in scene.objects) if c is not None]
    return causes + (["stray"] if stray_pixels(img, scene) > STRAY_PIXELS else [])


def score_image(img: np.ndarray, scene: Scene) -> dict:
    drawn = [object_drawn(img, o) for o in scene.objects]
    clean = stray_pixels(img, scene) <= STRAY_PIXELS
    return {"objects": len(drawn), "objects_drawn": sum(drawn), "right": all(drawn) and clean}


def score_caption(answer: str, scene: Scene) -> dict:
    # Whole phrases only: "at the top" must not count inside "at the top left".
    said = set(answer.split(" and "))
    phrases = [o.phrase() for o in scene.objects]
    return {
        "objects": len(phrases),
        "objects_right": sum(p in said for p in phrases),
        "right": answer == scene.caption(),
    }


PHRASE = re.compile(r"^an? (\S+) (\S+) (\S+) at the (.+)$")


def kinds_by_cell(answer: str) -> dict[str, str]:
    """The kind an answer names at each cell ("a small red 7 at the top left" -> {"top left": "7"});
    phrases that do not parse are ignored."""
    out = {}
    for phrase in answer.split(" and "):
        m = PHRASE.match(phrase.strip())
        if m:
            out.setdefault(m.group(4), m.group(3))
    return out


def score_digits(answer: str, scene: Scene) -> dict:
    """Digit identity alone (the thesis study, docs/thesis.md): of the scene's digits, how many
    the answer names as the right digit at the right cell, whatever size and colour it says."""
    said = kinds_by_cell(answer)
    digits = [o for o in scene.objects if o.kind not in GEOMETRIC]
    return {"digits": len(digits), "digits_right": sum(said.get(CELLS[o.cell]) == o.kind for o in digits)}


__all__ = ["score_image", "score_caption", "score_digits", "failure_causes", "why_not_drawn", "CELLS"]


def psnr(mse: float, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB of a mean squared error on values up to `peak`."""
    return float("inf") if mse <= 0 else float(10 * np.log10(peak * peak / mse))
