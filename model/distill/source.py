"""Training dialogues for a few-step student (train.py --distill_pairs): the pairs of
pairs.py, each rebuilt from its chunk's seed with the teacher's image as the answer's target
(or, by the data set's target rules, the data's own where the question fixes it, or the
teacher's layout redrawn by the data set's renderer),
its noise and the student's levels attached (dialogue_batch.py trains them on the straight
line from the noise to that image, condition always kept), mixed with a share of the mix's
text answers so that what the model says stays as it was."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import torch

from model.data.dialogues import Dialogue, Turn
from model.data.named_numbers import parse_named_numbers
from model.distill.judges import Judge
from model.distill.pairs import chunk_dialogues, load_pairs, noise_seed, student_levels
from model.distill.targets import TargetRules
from model.network.sequence import image_to_patches
from model.sampling.inference import seeded_noise


class DistillSource:
    def __init__(
        self,
        folder: str,
        make,
        patch_size: int,
        text_fraction: float = 0.25,
        judge: Judge | None = None,
        task_weights: str = "",
        steps: str = "",
        time_shift: float | None = None,
        rules: TargetRules | None = None,
        redrawn: bool = False,
    ):
        self.meta, self.pairs = load_pairs(folder)
        self.make, self.patch_size, self.text_fraction = make, patch_size, text_fraction
        if text_fraction > 0 and all(d.target_image is not None for d in make(64, random.Random(0))):
            raise SystemExit(f"a text share of {text_fraction:g}, but the mix has no text answers: give 0")
        self.levels = self._levels(steps, time_shift) if steps else tuple(self.meta["levels"])
        self._chunks: dict[int, list[Dialogue]] = {}
        # Pairs whose answer the question fixes train on the data's image (model/distill/targets.py).
        every = range(len(self.pairs["index"]))
        self.exact = {j for j in every if rules is not None and rules.exact(self._dialogue(j))}
        # The pairs trained on: all, or with a judge only those the teacher got right (an exact
        # target is right whatever the teacher drew).
        self.kept = [
            j for j in every if j in self.exact or judge is None or judge(self._dialogue(j), self.pairs["image"][j])
        ]
        if not self.kept:
            raise SystemExit(f"{folder}: the judge keeps none of its {len(every)} pairs")
        self.weights = self._task_weights(task_weights) if task_weights else None
        # The others, with `redrawn`, on the teacher's layout drawn by the data set's renderer.
        self.redrawn: dict[int, np.ndarray] = {}
        if redrawn:
            if rules is None:
                raise ValueError("redrawn targets need the data set's target rules")
            if rules.redraw is None:
                raise SystemExit("--distill_targets=redrawn: this data set has no renderer to redraw with; try exact")
            for j in self.kept:
                if j not in self.exact:
                    self.redrawn[j] = rules.redraw(self._dialogue(j), self.pairs["image"][j])

    def _levels(self, steps: str, time_shift: float | None) -> tuple[float, ...]:
        """The noise levels of only these step counts (`1`: a student trained for one step alone),
        which must be among those the pairs were made for, on the same time grid."""
        made_for = self.meta["student_steps"]
        try:
            asked = {int(s) for s in steps.split(",")}
        except ValueError:
            raise SystemExit(f"--distill_steps={steps}: want step counts such as 1 or 1,2") from None
        if not asked <= {int(s) for s in made_for.split(",")}:
            raise SystemExit(f"--distill_steps={steps}: the pairs were made for {made_for} steps")
        if time_shift is None:
            raise ValueError("choosing the pairs' step counts needs the time grid's shift")
        levels = student_levels(steps, time_shift)
        stored = self.meta["levels"]
        if not all(any(abs(t - s) < 1e-5 for s in stored) for t in levels):
            raise SystemExit(f"--distill_steps={steps}: levels {levels} (shift {time_shift}) not the pairs' {stored}")
        return levels

    def _task_weights(self, text: str) -> torch.Tensor:
        """Each kept pair's chance of being drawn, by its dialogue's task (`draw=2`: a draw pair
        twice as often as any other): the pairs stay as the teacher made them, only the share
        of each task in a batch changes."""
        tasks = [self._dialogue(j).task for j in self.kept]
        try:
            by_task = parse_named_numbers(
                text, sorted(set(tasks)), "--distill_task_weights", "WEIGHT", lambda w: w >= 0, "a weight >= 0"
            )
        except ValueError as err:
            raise SystemExit(str(err)) from None
        weights = torch.tensor([by_task.get(t, 1.0) for t in tasks], dtype=torch.float64)
        if not weights.sum() > 0:
            raise SystemExit(f"--distill_task_weights={text}: every pair weighs 0")
        return weights

    def __len__(self) -> int:
        return len(self.kept)

    def _dialogue(self, j: int) -> Dialogue:
        seed, i = int(self.pairs["chunk_seed"][j]), int(self.pairs["index"][j])
        if seed not in self._chunks:
            self._chunks[seed] = chunk_dialogues(self.make, seed)
        return self._chunks[seed][i]

    def pair(self, j: int) -> Dialogue:
        """Pair j (of all stored) as a training dialogue."""
        seed, i = int(self.pairs["chunk_seed"][j]), int(self.pairs["index"][j])
        d = self._dialogue(j)
        answer = d.turns[-1]
        target = answer.parts[-1] if j in self.exact else self.redrawn.get(j, self.pairs["image"][j])
        turns = [*d.turns[:-1], Turn(answer.role, [*answer.parts[:-1], target])]
        shape = image_to_patches(target, self.patch_size).shape
        noise = seeded_noise(noise_seed(seed, i), shape[0], shape[1]).numpy()
        return dataclasses.replace(d, turns=turns, noise=noise, levels=self.levels)

    def examples(self, step: int, rank: int, world: int, n: int, gen: torch.Generator) -> list[Dialogue]:
        n_text = int(round(n * self.text_fraction))
        if self.weights is None:
            picks = torch.randint(len(self), (n - n_text,), generator=gen).tolist()
        else:
            picks = torch.multinomial(self.weights, n - n_text, replacement=True, generator=gen).tolist()
        out = [self.pair(self.kept[k]) for k in picks]
        rng = random.Random(int(torch.randint(1 << 62, (1,), generator=gen)))
        text: list[Dialogue] = []
        while len(text) < n_text:  # the mix's text answers (describe, refuse, ...) are a small share of it
            text += [d for d in self.make(8 * n_text, rng) if d.target_image is None]
        return out + text[:n_text]
