"""Whether a teacher's sample is a right answer, for a distillation that keeps only those
(train.py --distill_right_only): a student regressed onto its teacher's mistakes learns them
too, so where the data set can score an image, a pair the teacher got wrong is left out."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from model.data.dialogues import Dialogue
from model.evaluation.evaluate_conversations import scene_from_caption
from model.evaluation.score import score_image

# (the pair's dialogue, the teacher's image) -> keep it
Judge = Callable[[Dialogue, np.ndarray], bool]


def shapes64_right(dialogue: Dialogue, image: np.ndarray) -> bool:
    """Right by the Shapes64 card's rule for the target caption (as the evaluation scores draws and edits)."""
    scene = scene_from_caption(dialogue.target_caption)
    if scene is None:
        raise ValueError(f"a Shapes64 pair without a target caption to score: {dialogue.task!r}")
    return bool(score_image(image, scene)["right"])


JUDGES: dict[str, Judge] = {"shapes64": shapes64_right}
