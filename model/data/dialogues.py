"""Conversations of several turns, any mix of text and images, as model inputs.

The multi-turn template (docs/model-package.md):

    <bos> (<user> {parts} <assistant> {parts} <eos>)* <user> {parts} <assistant> {answer}

A part is text (its tokens) or an image (<boi> patches <eoi>). A single-turn draw or
describe lays out exactly as chat.py lays it out, so the shipped packages read both.
In training one assistant image (the last) is the diffusion target, noised to t; every other
image is clean, as the worker puts a finished image back in the context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from model.data.named_numbers import parse_named_numbers
from model.network.sequence import Image
from model.network.tokenizer import Tokenizer

Part = "str | np.ndarray"  # text, or a uint8 [H, W, 3] image


@dataclass
class Turn:
    role: str  # "user" | "assistant"
    parts: list = field(default_factory=list)

    def images(self) -> list[np.ndarray]:
        return [p for p in self.parts if not isinstance(p, str)]


@dataclass
class Dialogue:
    turns: list[Turn]
    task: str = ""  # what it teaches, for mixing and reporting ("draw", "edit", "refuse", ...)
    # False: the answer goes on after its last part (an answer of several images, cut after
    # the image that is the diffusion target), so no <eos> is trained there.
    complete: bool = True
    # A distillation pair (model/distill/): the answer's last image is a teacher's sample from
    # this starting noise (patches), trained at one of these noise levels on the straight line
    # between the two, with its condition always kept. None: noise and level drawn as usual.
    noise: np.ndarray | None = None
    levels: tuple[float, ...] = ()
    # The target image's caption in its data set's grammar, where the data set has one
    # (Shapes64): what a teacher's sample of it is scored against (model/distill/judges.py).
    target_caption: str = ""

    def __post_init__(self):
        roles = [t.role for t in self.turns]
        if not roles or roles[-1] != "assistant" or roles != ["user", "assistant"] * (len(roles) // 2):
            raise ValueError(f"a dialogue alternates user and assistant turns and ends with the assistant: {roles}")

    @property
    def target_image(self) -> np.ndarray | None:
        """The image the answer ends with, if its last part is one (the diffusion target)."""
        last = self.turns[-1].parts
        return None if not last or isinstance(last[-1], str) else last[-1]


def part_items(tok: Tokenizer, part, to_patches) -> list:
    if isinstance(part, str):
        return tok.encode(part)
    return [tok.boi, Image(to_patches(part)), tok.eoi]


def context_items(tok: Tokenizer, turns: list[Turn], to_patches) -> list:
    """Everything up to and including the last <assistant>: `turns` end with a user turn."""
    if not turns or turns[-1].role != "user":
        raise ValueError("a context ends with the user's turn")
    items = [tok.bos]
    for turn in turns:
        items.append(tok.user if turn.role == "user" else tok.assistant)
        for part in turn.parts:
            items.extend(part_items(tok, part, to_patches))
        if turn.role == "assistant":
            items.append(tok.eos)
    items.append(tok.assistant)
    return items


def training_items(
    tok: Tokenizer,
    dialogue: Dialogue,
    to_patches,
    noisy: np.ndarray | None = None,
    noise_level: float = 0.0,
    drop_condition: bool = False,
) -> list:
    """The whole dialogue. With `noisy` (patches of the target image already noised to
    noise_level) the answer's last image is that; with drop_condition the context before the
    answer's image is the unconditional one (`<bos> <user> <assistant>`)."""
    answer = dialogue.turns[-1].parts
    if drop_condition:
        if noisy is None:
            raise ValueError("only a drawn image's context is dropped")
        return [tok.bos, tok.user, tok.assistant, tok.boi, Image(noisy, noise_level), tok.eoi, tok.eos]
    items = context_items(tok, dialogue.turns[:-1], to_patches)
    for i, part in enumerate(answer):
        if noisy is not None and i == len(answer) - 1:
            items.extend([tok.boi, Image(noisy, noise_level), tok.eoi])
        else:
            items.extend(part_items(tok, part, to_patches))
    return [*items, tok.eos] if dialogue.complete else items


def assistant_text_targets(tokens: list[int], is_image: list[float], tok: Tokenizer, ignore: int = -100) -> list[int]:
    """Next-token targets inside every assistant turn (from its <assistant> to its <eos>) where
    both positions are text; the users' turns are context, never targets."""
    out = [ignore] * len(tokens)
    inside = False
    for i in range(len(tokens) - 1):
        if is_image[i]:
            continue
        if tokens[i] == tok.assistant:
            inside = True
        elif tokens[i] in (tok.eos, tok.user):
            inside = False
        if inside and not is_image[i + 1]:
            out[i] = tokens[i + 1]
    return out


def parse_task_mix(text: str, base: Mapping[str, float]) -> dict[str, float]:
    """`"multi_turn=0.3,edit=0.25"` -> `base` (a data set's TRAIN_MIX) with those tasks' shares of
    a batch replaced; the shares must still add up to 1 (empty: `base` as it is)."""
    shares = parse_named_numbers(text, base, "task share", "SHARE", lambda f: 0 <= f <= 1, "a share from 0 to 1")
    mix = dict(base) | shares
    if abs(sum(mix.values()) - 1) > 1e-6:
        shares = ", ".join(f"{k}={v:g}" for k, v in mix.items())
        raise ValueError(f"task shares add up to {sum(mix.values()):g}, not 1: {shares}")
    return mix
