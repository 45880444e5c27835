"""Which pairs train on the data set's own image instead of the teacher's sample
(train.py --distill_exact_targets).

A teacher's image is the right target where the answer is one choice among many: a one-step
student must map each noise to one coherent drawing, and the teacher's sample is such a
mapping. Where the question fixes the answer pixel for pixel, there is nothing to choose: the
data's image is the exact answer, and a teacher's sample of it only adds its own errors
(its grain in the fills, a pixel off at an edge) for the student to learn."""

from __future__ import annotations

from collections.abc import Callable

from model.data.dialogues import Dialogue

# (a pair's dialogue) -> its data image is the only right answer
ExactRule = Callable[[Dialogue], bool]


def shapes64_exact(dialogue: Dialogue) -> bool:
    """A Shapes64 edit (alone or a later turn) fixes every pixel of its answer, but for an add:
    the added object's offset in its cell is fresh (the data card), so the sampler chooses it."""
    if dialogue.task not in ("edit", "multi_turn"):
        return False
    instruction = dialogue.turns[-2].parts[-1]
    return isinstance(instruction, str) and not instruction.startswith("add ")


EXACT_RULES: dict[str, ExactRule] = {"shapes64": shapes64_exact}
