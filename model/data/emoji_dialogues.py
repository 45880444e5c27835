"""Emoji64 conversations for training (docs/data/emoji.md, "Conversations").

Tasks: draw and describe (as before, with their augmentations), restyle (an emoji of any
training style, or OpenMoji's `outline` when the corpus has it, then `draw this in <style>
style` -> the same concept in that style), every_style (`draw <caption> in every style` ->
`<style>:` and that style's image, for each training style in order), multi_turn (describe ->
caption -> `draw it in <style> style`; a drawing -> `draw this in <style> style`) and refuse.

Only training cells are ever an input or a target: a held-out cell (a concept x style of the
draw evaluation or validation sets) and every `fluent` image stay out, so the restyle and
draw evaluations measure what was never seen.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from model.data.corpus import Corpus
from model.data.dialogues import Dialogue, Turn
from model.data.examples import draw_text

DESCRIBE = "describe the image"
RESTYLE = "draw this in {style} style"
RESTYLE_FOLLOW_UP = "draw it in {style} style"
EVERY_STYLE = "draw {caption} in every style"
STYLE_LABEL = "{style}:"
REFUSAL = (
    'i draw and describe emoji, and redraw them in another style. try "draw snake in twitter style", '
    '"draw red heart in every style", or send an emoji with "describe the image" or "draw this in google style".'
)

# Styles a restyle may start from but the model never draws in (OpenMoji's line art).
SOURCE_ONLY_STYLES = ("outline",)

TRAIN_MIX = {"draw": 0.30, "describe": 0.20, "restyle": 0.22, "every_style": 0.08, "multi_turn": 0.12, "refuse": 0.08}

_OUT_OF_SCOPE = {
    "train": [
        "hello",
        "hi",
        "hey there",
        "good morning",
        "thanks",
        "what is 2+2",
        "who are you",
        "what time is it",
        "tell me a joke",
        "write a poem",
        "how are you",
        "what is the capital of france",
        DESCRIBE,
        "describe this",
        "what is in the picture",
        "help",
        "translate hello to german",
        "bye",
    ],
    "eval": [
        "good evening",
        "howdy",
        "what is 7 times 8",
        "recommend a book",
        "describe this image",
        "what is in the image",
        "tell me a story",
        "who made you",
        "what year is it",
        "see you later",
    ],
}
_IMAGE_ASKS = {
    "train": ["make it prettier", "what is this worth", "translate this", "rotate it"],
    "eval": ["make it look like a photo", "sell this to me", "flip it upside down"],
}


class EmojiDialogues:
    """Builds dialogues from a corpus's training cells; `augment` is examples.py's describe augmentation."""

    def __init__(
        self,
        corpus: Corpus,
        styles: list[str],
        augment,
        augment_fraction: float,
        style_free_fraction: float,
        source_styles: tuple[str, ...] = SOURCE_ONLY_STYLES,
    ):
        self.c, self.styles, self.augment = corpus, styles, augment
        self.augment_fraction, self.style_free_fraction = augment_fraction, style_free_fraction
        self.cells: dict[str, dict[str, int]] = defaultdict(dict)  # caption -> style -> row, training cells only
        for i in corpus.indices("train"):
            if corpus.styles[i] in styles or corpus.styles[i] in source_styles:
                self.cells[corpus.captions[i]][corpus.styles[i]] = i
        self.concepts = sorted(self.cells)
        self.restylable = [
            c for c in self.concepts if sum(s in styles for s in self.cells[c]) >= 1 and len(self.cells[c]) >= 2
        ]
        self.complete = [c for c in self.concepts if all(s in self.cells[c] for s in styles)]
        self.train_rows = [i for c in self.concepts for s, i in self.cells[c].items() if s in styles]
        if not self.restylable or not self.complete:
            raise SystemExit("the corpus has no concept in two training styles: nothing to restyle")

    def image(self, row: int) -> np.ndarray:
        return self.c.images[row]

    def seen(self, row: int, rng: random.Random) -> np.ndarray:
        """What a user sends: sometimes augmented, so reading is about the concept, not the pixels."""
        if rng.random() < self.augment_fraction:
            return self.augment(self.c.images[row], np.random.default_rng(rng.randrange(1 << 31)), self.c.captions[row])
        return self.c.images[row]

    def dialogue(self, task: str, rng: random.Random) -> Dialogue:
        c = self.c
        if task == "draw":
            i = rng.choice(self.train_rows)
            style = None if rng.random() < self.style_free_fraction else c.styles[i]
            return Dialogue(
                [Turn("user", ["draw " + draw_text(c.captions[i], style)]), Turn("assistant", [self.image(i)])], task
            )
        if task == "describe":
            i = rng.choice(self.train_rows)
            return Dialogue([Turn("user", [self.seen(i, rng), DESCRIBE]), Turn("assistant", [c.captions[i]])], task)
        if task == "restyle":
            concept = rng.choice(self.restylable)
            cells = self.cells[concept]
            target = rng.choice([s for s in cells if s in self.styles])
            source = rng.choice([s for s in cells if s != target])
            return Dialogue(
                [
                    Turn("user", [self.seen(cells[source], rng), RESTYLE.format(style=target)]),
                    Turn("assistant", [self.image(cells[target])]),
                ],
                task,
            )
        if task == "every_style":
            concept = rng.choice(self.complete)
            k = rng.randint(1, len(self.styles))  # the target: the k-th image; the answer is cut after it
            parts = []
            for s in self.styles[:k]:
                parts += [STYLE_LABEL.format(style=s), self.image(self.cells[concept][s])]
            return Dialogue(
                [Turn("user", [EVERY_STYLE.format(caption=concept)]), Turn("assistant", parts)],
                task,
                complete=k == len(self.styles),
            )
        if task == "multi_turn":
            concept = rng.choice(self.restylable)
            cells = self.cells[concept]
            target = rng.choice([s for s in cells if s in self.styles])
            others = [s for s in cells if s != target]
            first = rng.choice(others)
            if rng.random() < 0.5:
                turns = [
                    Turn("user", [self.seen(cells[first], rng), DESCRIBE]),
                    Turn("assistant", [concept]),
                    Turn("user", [RESTYLE_FOLLOW_UP.format(style=target)]),
                ]
            else:
                drawn = first if first in self.styles else target
                if drawn == target:
                    return self.dialogue("restyle", rng)
                turns = [
                    Turn("user", ["draw " + draw_text(concept, drawn)]),
                    Turn("assistant", [self.image(cells[drawn])]),
                    Turn("user", [RESTYLE.format(style=target)]),
                ]
            return Dialogue([*turns, Turn("assistant", [self.image(cells[target])])], task)
        if task == "refuse":
            if rng.random() < 0.2:
                i = rng.choice(self.train_rows)
                parts = [self.seen(i, rng), rng.choice(_IMAGE_ASKS["train"])]
            else:
                parts = [rng.choice(_OUT_OF_SCOPE["train"])]
            return Dialogue([Turn("user", parts), Turn("assistant", [REFUSAL])], task)
        raise ValueError(f"unknown task {task!r}")

    def training_dialogues(self, n: int, rng: random.Random, mix: Mapping[str, float] = TRAIN_MIX) -> list[Dialogue]:
        """n dialogues in `mix` proportions (TRAIN_MIX unless told; rounded, the rest draws)."""
        counts = {k: round(n * f) for k, f in mix.items()}
        counts["draw"] += n - sum(counts.values())
        return [self.dialogue(task, rng) for task, k in counts.items() for _ in range(k)]


def out_of_scope_prompts(n: int, seed: int = 0) -> list[tuple[str, bool]]:
    """n held-out out-of-scope requests: (text, with an image)."""
    rng = random.Random(seed)
    return [
        (rng.choice(_IMAGE_ASKS["eval"]), True) if rng.random() < 0.2 else (rng.choice(_OUT_OF_SCOPE["eval"]), False)
        for _ in range(n)
    ]
