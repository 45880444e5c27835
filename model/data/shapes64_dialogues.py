"""Shapes64 conversations for training and evaluation (docs/data/shapes64.md, "Conversations").

Tasks: draw, describe, edit (an image and one instruction -> the edited image), multi_turn
(draw -> image -> edit(s), or describe -> caption -> edit), refuse (anything else -> a short
text saying what the model does). Everything is a pure function of a seed; the seed ranges
of shapes64.py keep training away from the validation and evaluation scenes, and the
refusal phrasings are split too: evaluation asks in words training never used.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from model.data.dialogues import Dialogue, Turn
from model.data.shapes64 import (
    CELLS,
    COLOURS,
    DESCRIBE_PROMPT,
    DRAW_PREFIX,
    EVAL_SEEDS,
    KINDS,
    SIZES,
    TRAIN_SEEDS,
    VAL_SEEDS,
    scene_from_seed,
)
from model.data.shapes64_edits import EDIT_KINDS, possible_kinds, random_edit

REFUSAL = (
    'i draw, describe and edit pictures of coloured shapes and digits. try "draw a large red circle at '
    'the top left", or send a picture with "describe the image" or "make the circle at the top left blue".'
)

# What training mixes (fractions of a batch). Edits take the most: copying the input's pixels
# through attention is the new skill (a warm-started model draws and reads already, and
# learns the refusal text within a hundred steps); draws keep a third: at a quarter (steps
# 10,300 to 11,550) drawing slipped from 79 to 74 % (docs/conversations.md).
TRAIN_MIX = {"draw": 0.33, "describe": 0.05, "edit": 0.38, "multi_turn": 0.17, "refuse": 0.07}

# Out-of-scope prompts by kind, each kind's words split into training and held-out phrasings.
_GREETINGS = {
    "train": [
        "hello",
        "hi",
        "hey",
        "good morning",
        "hello there",
        "hi!",
        "hey, how are you?",
        "yo",
        "hiya",
        "good afternoon",
        "thanks",
        "thank you",
        "bye",
        "ok",
    ],
    "eval": [
        "good evening",
        "howdy",
        "greetings",
        "hey there, friend",
        "hallo",
        "thanks a lot",
        "goodbye",
        "nice to meet you",
        "cheers",
        "sup",
    ],
}
_QUESTIONS = {
    "train": [
        "what is 2+2",
        "who are you",
        "what can you do",
        "what time is it",
        "how are you",
        "what is your name",
        "tell me a joke",
        "what is the capital of france",
        "write a poem",
        "help",
        "translate hello to french",
        "how old are you",
        "what is the weather",
        "explain quantum physics",
        "what day is it today",
    ],
    "eval": [
        "what is 7 times 8",
        "where do you live",
        "can you sing",
        "who made you",
        "what is the meaning of life",
        "recommend a book",
        "how do i cook pasta",
        "what is 10 minus 3",
        "tell me a story",
        "summarize this",
        "what year is it",
        "are you a robot",
    ],
}
_NO_IMAGE = {  # asks about an image that was not sent
    "train": [DESCRIBE_PROMPT, "describe this", "what is in the picture", "describe the picture", "what do you see"],
    "eval": ["describe this image", "what is in the image", "tell me what the picture shows", "caption this"],
}
_OUTSIDE = {  # things outside the world, to draw
    "train": [
        "cat",
        "dog",
        "house",
        "tree",
        "car",
        "sun",
        "flower",
        "person",
        "bird",
        "boat",
        "star",
        "heart",
        "moon",
        "fish",
        "apple",
        "mountain",
        "cloud",
        "robot",
        "face",
        "chair",
    ],
    "eval": ["horse", "bicycle", "castle", "rainbow", "banana", "guitar", "elephant", "rocket", "snowman", "dragon"],
}
_DRAW_ASKS = {
    "train": ["draw a {}", "draw me a {}", "please draw a {}", "can you draw a {}"],
    "eval": ["draw a {}", "paint a {}", "could you draw a {}"],
}
_OUTSIDE_KINDS = {"train": ["star", "hexagon", "heart", "oval", "letter a"], "eval": ["pentagon", "cross", "letter b"]}
_OUTSIDE_COLOURS = {"train": ["pink", "white", "brown"], "eval": ["grey", "gold"]}
_IMAGE_ASKS = {  # an image with a request that is none of the model's tasks
    "train": ["make it prettier", "what is this worth", "translate this", "is this art", "rotate it"],
    "eval": ["make it look like a photo", "sell this to me", "flip it upside down"],
}
REFUSAL_KINDS = (
    "greeting",
    "question",
    "describe_without_image",
    "draw_outside_world",
    "outside_grammar",
    "image_request",
)


def out_of_scope_prompt(rng: random.Random, split: str) -> tuple[str, str, bool]:
    """(kind, text, with_image) of an out-of-scope request, in the split's phrasings."""
    kind = rng.choice(REFUSAL_KINDS)
    if kind == "greeting":
        return kind, rng.choice(_GREETINGS[split]), False
    if kind == "question":
        return kind, rng.choice(_QUESTIONS[split]), False
    if kind == "describe_without_image":
        return kind, rng.choice(_NO_IMAGE[split]), False
    if kind == "draw_outside_world":
        return kind, rng.choice(_DRAW_ASKS[split]).format(rng.choice(_OUTSIDE[split])), False
    if kind == "outside_grammar":  # the grammar's shape with a kind or colour it does not have
        size, cell = rng.choice(list(SIZES)), rng.choice(CELLS)
        if rng.random() < 0.5:
            what = f"{rng.choice(list(COLOURS))} {rng.choice(_OUTSIDE_KINDS[split])}"
        else:
            what = f"{rng.choice(_OUTSIDE_COLOURS[split])} {rng.choice(KINDS)}"
        return kind, f"{DRAW_PREFIX}a {size} {what} at the {cell}", False
    return kind, rng.choice(_IMAGE_ASKS[split]), True


def _refuse(rng: random.Random, split: str) -> Dialogue:
    _, text, with_image = out_of_scope_prompt(rng, split)
    parts = [scene_from_seed(rng.randrange(*TRAIN_SEEDS)).render(), text] if with_image else [text]
    return Dialogue([Turn("user", parts), Turn("assistant", [REFUSAL])], "refuse")


def dialogue(task: str, seed: int, split: str = "train", edit_weights: Mapping[str, float] | None = None) -> Dialogue:
    """One conversation of `task` from `seed` (its scene comes from the seed's split range); its
    edits drawn by `edit_weights` (model/data/shapes64_edits.py `random_edit`)."""
    rng = random.Random(f"{task}:{seed}")
    scene = scene_from_seed(seed)
    if task == "draw":
        return Dialogue(
            [Turn("user", [DRAW_PREFIX + scene.caption()]), Turn("assistant", [scene.render()])],
            task,
            target_caption=scene.caption(),
        )
    if task == "describe":
        return Dialogue([Turn("user", [scene.render(), DESCRIBE_PROMPT]), Turn("assistant", [scene.caption()])], task)
    if task == "edit":
        edit = random_edit(scene, rng, weights=edit_weights)
        return Dialogue(
            [Turn("user", [scene.render(), edit.instruction]), Turn("assistant", [edit.after.render()])],
            task,
            target_caption=edit.after.caption(),
        )
    if task == "multi_turn":
        if rng.random() < 0.7:  # draw, then one or two edits of the assistant's own image
            turns = [Turn("user", [DRAW_PREFIX + scene.caption()]), Turn("assistant", [scene.render()])]
        else:  # describe, then an edit of the image the user sent
            turns = [Turn("user", [scene.render(), DESCRIBE_PROMPT]), Turn("assistant", [scene.caption()])]
        for _ in range(rng.choice([1, 1, 2])):
            edit = random_edit(scene, rng, weights=edit_weights)
            scene = edit.after
            turns += [Turn("user", [edit.instruction]), Turn("assistant", [scene.render()])]
        return Dialogue(turns, task, target_caption=scene.caption())
    if task == "refuse":
        return _refuse(rng, split)
    raise ValueError(f"unknown task {task!r}")


def training_dialogues(
    n: int,
    rng: random.Random,
    edit_weights: Mapping[str, float] | None = None,
    mix: Mapping[str, float] = TRAIN_MIX,
) -> list[Dialogue]:
    """n dialogues in `mix` proportions (TRAIN_MIX unless told; rounded, the rest draws), scenes
    from training seeds."""
    counts = {k: round(n * f) for k, f in mix.items()}
    counts["draw"] += n - sum(counts.values())
    out = []
    for task, k in counts.items():
        for _ in range(k):
            out.append(dialogue(task, rng.randrange(*TRAIN_SEEDS), edit_weights=edit_weights))
    return out


def edit_split(seeds: tuple[int, int], n_per_kind: int) -> list[tuple[int, str]]:
    """(seed, edit kind) pairs: n of each kind, from scenes of the range that allow it."""
    out, seed = [], seeds[0]
    for kind in EDIT_KINDS:
        k = 0
        while k < n_per_kind:
            if kind in possible_kinds(scene_from_seed(seed)):
                out.append((seed, kind))
                k += 1
            seed += 1
    return out


def eval_edit_split(n_per_kind: int = 200):
    return edit_split(EVAL_SEEDS, n_per_kind)


def val_edit_split(n_per_kind: int = 200):
    return edit_split(VAL_SEEDS, n_per_kind)
