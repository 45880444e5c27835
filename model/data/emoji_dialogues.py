"""Emoji64 conversations for training (docs/data/emoji.md, "Conversations").

Tasks: draw and describe (as before, with their augmentations), restyle (an emoji of any
training style, or OpenMoji's `outline` when the corpus has it, then `draw this in <style>
style` -> `<caption> in <style> style`, then the same concept in that style), every_style
(`draw <caption> in every style` -> `<style>:` and that style's image, for each training style
in order), multi_turn (describe -> caption -> `draw it in <style> style`; a drawing -> `draw
this in <style> style`) and refuse.

A restyle first says, in words, what it read and what it will draw: the answer's text is the
draw request's own caption (`draw_text`), then the image follows it. Reading an emoji and
drawing a caption are the two things the model already does well; answering in that order
lets the image lean on both, and the input image stays in the context for everything the
words leave out (docs/conversations.md: the image-only answer of the first run, beside it).

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

TRAIN_MIX = {"draw": 0.30, "describe": 0.14, "restyle": 0.24, "every_style": 0.12, "multi_turn": 0.10, "refuse": 0.10}

# Out-of-scope requests by kind, train and held-out (eval) phrasings kept apart; the eval ones
# are what evaluate_emoji_conversations scores and never appear in training.
_GREETINGS = {
    "train": [
        "hello",
        "hi",
        "hey",
        "hey there",
        "hi there",
        "hello there",
        "good morning",
        "good afternoon",
        "good night",
        "thanks",
        "thank you",
        "bye",
        "goodbye",
        "yo",
        "hiya",
        "morning",
        "welcome",
        "nice to meet you",
        "cheers",
        "greetings",
        "hello friend",
        "hi again",
        "ok",
        "cool",
        "great",
    ],
    "eval": ["good evening", "howdy", "see you later"],
}
_QUESTIONS = {
    "train": [
        "what is 2+2",
        "what is 3 plus 4",
        "what is 9 minus 2",
        "what is 5 times 6",
        "how much is 12 divided by 4",
        "who are you",
        "what can you do",
        "what time is it",
        "tell me a joke",
        "write a poem",
        "how are you",
        "what is the capital of france",
        "what is your name",
        "how old are you",
        "what is the weather",
        "explain quantum physics",
        "what day is it today",
        "translate hello to german",
        "help",
        "where are you from",
        "do you like music",
        "write an essay",
        "give me a recipe",
        "sing a song",
        "what is love",
        "how far is the moon",
        "play a game",
        "what should i eat",
        "are you alive",
        "who won the game",
        "tell me a fact",
        "count to ten",
        "spell cat",
        "what does emoji mean",
        "which emoji is best",
        "list three colours",
        "is it going to rain",
    ],
    "eval": ["what is 7 times 8", "recommend a book", "tell me a story", "who made you", "what year is it"],
}
_NO_IMAGE = {  # asks about an image that was not sent
    "train": [
        DESCRIBE,
        "describe this",
        "what is in the picture",
        "describe the picture",
        "what do you see",
        "what is this",
        "name this emoji",
        RESTYLE,
    ],
    "eval": ["describe this image", "what is in the image"],
}
_STYLES_IT_CANNOT = {  # styles the model does not draw in (fluent is the unseen one it reads only)
    "train": ["fluent", "picasso", "pixel", "anime", "watercolour", "apple", "samsung", "cartoon", "outline"],
    "eval": ["oil painting", "lego", "photo"],
}
_IMAGE_ASKS = {  # an image with a request that is none of the model's tasks
    "train": [
        "make it prettier",
        "what is this worth",
        "translate this",
        "rotate it",
        "is this art",
        "make it bigger",
        "crop it",
        "how many are there",
        "what colour is it",
        "print this",
        "make it move",
        "is it happy",
        "remove the background",
        "add a hat",
        "who drew this",
        "make it darker",
        "what does it mean",
    ],
    "eval": ["make it look like a photo", "sell this to me", "flip it upside down"],
}
REFUSAL_KINDS = ("greeting", "question", "ask_without_image", "style_it_cannot_draw", "image_request")


def out_of_scope_prompt(rng: random.Random, split: str, styles: list[str], captions: list[str]) -> tuple[str, bool]:
    """(text, with an image) of a request none of the model's tasks answers, in the split's phrasings."""
    kind = rng.choice(REFUSAL_KINDS)
    if kind == "greeting":
        return rng.choice(_GREETINGS[split]), False
    if kind == "question":
        return rng.choice(_QUESTIONS[split]), False
    if kind == "ask_without_image":
        return rng.choice(_NO_IMAGE[split]).format(style=rng.choice(styles)), False
    if kind == "style_it_cannot_draw":  # the grammar's shape with a style it has no pictures of
        style = rng.choice(_STYLES_IT_CANNOT[split])
        if rng.random() < 0.5:
            return RESTYLE.format(style=style), True
        return "draw " + draw_text(rng.choice(captions), style), False
    return rng.choice(_IMAGE_ASKS[split]), True


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
                    Turn("assistant", [draw_text(concept, target), self.image(cells[target])]),
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
                answer = [self.image(cells[target])]  # the caption is in the context already
            else:
                drawn = first if first in self.styles else target
                if drawn == target:
                    return self.dialogue("restyle", rng)
                turns = [
                    Turn("user", ["draw " + draw_text(concept, drawn)]),
                    Turn("assistant", [self.image(cells[drawn])]),
                    Turn("user", [RESTYLE.format(style=target)]),
                ]
                answer = [draw_text(concept, target), self.image(cells[target])]
            return Dialogue([*turns, Turn("assistant", answer)], task)
        if task == "refuse":
            text, with_image = out_of_scope_prompt(rng, "train", self.styles, self.concepts)
            parts = [self.seen(rng.choice(self.train_rows), rng), text] if with_image else [text]
            return Dialogue([Turn("user", parts), Turn("assistant", [REFUSAL])], task)
        raise ValueError(f"unknown task {task!r}")

    def training_dialogues(self, n: int, rng: random.Random, mix: Mapping[str, float] = TRAIN_MIX) -> list[Dialogue]:
        """n dialogues in `mix` proportions (TRAIN_MIX unless told; rounded, the rest draws)."""
        counts = {k: round(n * f) for k, f in mix.items()}
        counts["draw"] += n - sum(counts.values())
        return [self.dialogue(task, rng) for task, k in counts.items() for _ in range(k)]


def out_of_scope_prompts(n: int, styles: list[str], captions: list[str], seed: int = 0) -> list[tuple[str, bool]]:
    """n held-out out-of-scope requests: (text, with an image)."""
    rng = random.Random(seed)
    return [out_of_scope_prompt(rng, "eval", styles, captions) for _ in range(n)]
