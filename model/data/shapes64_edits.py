"""Shapes64 edits (docs/data/shapes64.md, "Edit grammar"): one instruction changes one object.

    edit     := recolour | move | remove | add | resize
    recolour := "make the " kind " at the " cell " " colour
    move     := "move the " kind " at the " cell " to the " cell
    remove   := "remove the " kind " at the " cell
    add      := "add a " size " " colour " " kind " at the " cell
    resize   := "make the " kind " at the " cell " " size

Everything the edit leaves alone keeps its size, colour, kind, cell and offset, so its
pixels are the same; a moved object keeps its own offset, an added one gets a fresh one.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

from model.data.named_numbers import parse_named_numbers
from model.data.shapes64 import CELLS, COLOURS, KINDS, SIZES, Scene, SceneObject, random_object

EDIT_KINDS = ("recolour", "move", "remove", "add", "resize")
MAX_OBJECTS = 3


@dataclass(frozen=True)
class Edit:
    kind: str  # one of EDIT_KINDS
    instruction: str
    before: Scene
    after: Scene
    touched: tuple[int, ...]  # the cells whose pixels may change


def _sorted(objects) -> Scene:
    return Scene(tuple(sorted(objects, key=lambda o: o.cell)))


def _at(scene: Scene, cell: int) -> SceneObject | None:
    return next((o for o in scene.objects if o.cell == cell), None)


def possible_kinds(scene: Scene) -> list[str]:
    """The edits a scene allows: remove needs a second object (a scene is never empty), move
    and add an empty cell, add room for one more object."""
    n = len(scene.objects)
    out = ["recolour", "resize"]
    if n < 9:
        out.append("move")
    if n > 1:
        out.append("remove")
    if n < MAX_OBJECTS:
        out.append("add")
    return out


def parse_edit_weights(text: str) -> dict[str, float]:
    """`"move=3,add=0.5"` -> {"move": 3.0, "add": 0.5}: relative weights of edit kinds in training."""
    return parse_named_numbers(
        text, EDIT_KINDS, "edit weight", "WEIGHT", lambda w: 0 < w < math.inf, "a finite weight above 0"
    )


def random_edit(
    scene: Scene, rng: random.Random, kind: str | None = None, weights: Mapping[str, float] | None = None
) -> Edit:
    """A valid edit of `scene`, of `kind` if given (it must be possible for the scene), else of a
    possible kind drawn uniformly or, where `weights` names a kind, with that relative weight
    (1 for a kind it leaves out)."""
    kinds = possible_kinds(scene)
    if kind is None:
        # Without weights the draw is the one training always made, so pairs made earlier
        # (model/distill) still match the dialogues a seed gives.
        kind = rng.choices(kinds, [weights.get(k, 1.0) for k in kinds])[0] if weights else rng.choice(kinds)
    if kind not in kinds:
        raise ValueError(f"a {kind} is not possible on {scene.caption()!r}")
    empty = [c for c in range(9) if _at(scene, c) is None]
    if kind == "add":
        cell = rng.choice(empty)
        new = random_object(cell, rng)
        text = f"add a {new.size} {new.colour} {new.kind} at the {CELLS[cell]}"
        return Edit(kind, text, scene, _sorted([*scene.objects, new]), (cell,))
    obj = rng.choice(scene.objects)
    rest = [o for o in scene.objects if o is not obj]
    named = f"the {obj.kind} at the {CELLS[obj.cell]}"
    if kind == "recolour":
        colour = rng.choice([c for c in COLOURS if c != obj.colour])
        changed, text = dataclasses.replace(obj, colour=colour), f"make {named} {colour}"
    elif kind == "resize":
        size = "small" if obj.size == "large" else "large"
        changed, text = dataclasses.replace(obj, size=size), f"make {named} {size}"
    elif kind == "move":
        cell = rng.choice(empty)
        changed, text = dataclasses.replace(obj, cell=cell), f"move {named} to the {CELLS[cell]}"
        return Edit(kind, text, scene, _sorted([*rest, changed]), (obj.cell, cell))
    else:  # remove
        return Edit(kind, f"remove {named}", scene, _sorted(rest), (obj.cell,))
    return Edit(kind, text, scene, _sorted([*rest, changed]), (obj.cell,))


_CELL = "|".join(sorted(map(re.escape, CELLS), key=len, reverse=True))
_KIND = "|".join(map(re.escape, KINDS))
_COLOUR = "|".join(COLOURS)
_SIZE = "|".join(SIZES)
_PATTERNS = {
    "move": re.compile(rf"^move the ({_KIND}) at the ({_CELL}) to the ({_CELL})$"),
    "remove": re.compile(rf"^remove the ({_KIND}) at the ({_CELL})$"),
    "add": re.compile(rf"^add a ({_SIZE}) ({_COLOUR}) ({_KIND}) at the ({_CELL})$"),
    "recolour": re.compile(rf"^make the ({_KIND}) at the ({_CELL}) ({_COLOUR})$"),
    "resize": re.compile(rf"^make the ({_KIND}) at the ({_CELL}) ({_SIZE})$"),
}


def instruction_kind(instruction: str) -> str | None:
    """The edit kind of a grammatical instruction (None when it is not one)."""
    return next((kind for kind, pattern in _PATTERNS.items() if pattern.match(instruction)), None)


def apply_instruction(scene: Scene, instruction: str) -> Scene | None:
    """The scene after a grammatical instruction; None when it does not parse or does not
    apply (no such object there, a target cell taken, nothing would change). A moved object
    keeps its offset; an added one gets offset 0 (this is the two-step pipeline's caption,
    where offsets are not said)."""
    for kind, pattern in _PATTERNS.items():
        m = pattern.match(instruction)
        if not m:
            continue
        g = m.groups()
        if kind == "add":
            cell = CELLS.index(g[3])
            if _at(scene, cell) is not None or len(scene.objects) >= MAX_OBJECTS:
                return None
            return _sorted([*scene.objects, SceneObject(cell, g[0], g[1], g[2], 0, 0)])
        obj = _at(scene, CELLS.index(g[1]))
        if obj is None or obj.kind != g[0]:
            return None
        rest = [o for o in scene.objects if o is not obj]
        if kind == "remove":
            return _sorted(rest) if rest else None
        if kind == "move":
            to = CELLS.index(g[2])
            return None if _at(scene, to) is not None else _sorted([*rest, dataclasses.replace(obj, cell=to)])
        field = "colour" if kind == "recolour" else "size"
        if getattr(obj, field) == g[2]:
            return None
        return _sorted([*rest, dataclasses.replace(obj, **{field: g[2]})])
    return None
