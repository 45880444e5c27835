"""What a distillation pair trains on, where the data set can do better than the teacher's
sample (train.py --distill_targets).

A teacher's image is the right target where the answer is one choice among many: a one-step
student must map each noise to one coherent drawing, and the teacher's sample is such a
mapping. But a sample also carries the teacher's errors: grain in the fills, an edge a pixel
soft. Where the data set can, the student learns the data's pixels instead. Shapes64 has a
renderer, so it can keep the choice and drop the errors:
- `exact`: where the question fixes every pixel of the answer (an edit), the data's own image
  is the only right answer, whatever the noise;
- `redrawn`: elsewhere, the target caption's scene drawn by the renderer at the layout the
  teacher chose for that noise (each object's offset in its cell, fitted to the teacher's
  image), so the student still learns the teacher's noise-to-layout map, on clean pixels.
An emoji corpus has no renderer, but one image per concept and style: a draw that names its
style fixes its answer (`exact`); a draw without one, a choice of styles, keeps the teacher's."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np

from model.data.dialogues import Dialogue
from model.data.examples import STYLE_TEMPLATE
from model.data.shapes64 import EDGES, SIZE, Scene
from model.data.shapes64_edits import instruction_kind
from model.evaluation.evaluate_conversations import scene_from_caption

# The ending of a draw that names its style: examples.STYLE_TEMPLATE after its caption
_AFTER_CAPTION, _AFTER_STYLE = STYLE_TEMPLATE.split("{caption}")[1].split("{style}")
NAMED_STYLE = re.compile(re.escape(_AFTER_CAPTION) + r"[a-z0-9_-]+" + re.escape(_AFTER_STYLE) + "$")
OFFSETS = range(-2, 3)  # the card's jitter of an object's centre, in pixels
MARGIN = 4  # pixels around a cell that its object can reach (a large one, jittered)


@dataclasses.dataclass(frozen=True)
class TargetRules:
    # (a pair's dialogue) -> the data's image is the only right answer
    exact: Callable[[Dialogue], bool]
    # (a pair's dialogue, the teacher's image) -> the target caption's scene at the teacher's layout;
    # None where the data set has no renderer
    redraw: Callable[[Dialogue, np.ndarray], np.ndarray] | None = None


def shapes64_exact(dialogue: Dialogue) -> bool:
    """A Shapes64 edit (alone or a later turn) fixes every pixel of its answer, but for an add:
    the added object's offset in its cell is fresh (the data card), so the sampler chooses it."""
    if dialogue.task not in ("edit", "multi_turn"):
        return False
    instruction = dialogue.turns[-2].parts[-1]
    return isinstance(instruction, str) and instruction_kind(instruction) not in ("add", None)


def fit_layout(scene: Scene, image: np.ndarray) -> Scene:
    """`scene` with each object moved to the offset (of the card's 25) whose drawing, alone on
    the canvas, is nearest `image` (squared error) over its cell and the margin it can reach."""
    img = image.astype(np.float32)
    fitted = []
    for obj in scene.objects:
        row, col = divmod(obj.cell, 3)
        ys = slice(max(EDGES[row] - MARGIN, 0), min(EDGES[row + 1] + MARGIN, SIZE))
        xs = slice(max(EDGES[col] - MARGIN, 0), min(EDGES[col + 1] + MARGIN, SIZE))
        best = min(
            (dataclasses.replace(obj, dx=dx, dy=dy) for dx in OFFSETS for dy in OFFSETS),
            key=lambda o: float(((Scene((o,)).render()[ys, xs] - img[ys, xs]) ** 2).sum()),
        )
        fitted.append(best)
    return Scene(tuple(fitted))


def shapes64_redraw(dialogue: Dialogue, image: np.ndarray) -> np.ndarray:
    scene = scene_from_caption(dialogue.target_caption)
    if scene is None:
        raise ValueError(f"a Shapes64 pair without a target caption to redraw: {dialogue.task!r}")
    return fit_layout(scene, image).render()


def corpus_exact(dialogue: Dialogue) -> bool:
    """An emoji draw that names its style (`draw <caption> in <style> style`): the corpus holds
    one image per concept and style, drawn as it is (emoji_dialogues: a draw's answer is never
    augmented). Without a style the answer is one of the styles: the teacher's choice."""
    if dialogue.task != "draw":
        return False
    prompt = dialogue.turns[0].parts[-1]
    return isinstance(prompt, str) and NAMED_STYLE.search(prompt) is not None


TARGET_RULES: dict[str, TargetRules] = {
    "shapes64": TargetRules(shapes64_exact, shapes64_redraw),
    "corpus": TargetRules(corpus_exact),
}
# --distill_targets: what each choice uses of a data set's rules
TARGET_CHOICES = ("teacher", "exact", "redrawn")
