"""The conversation template (docs/model-package.md) as items for sequence.build_row."""

from __future__ import annotations

import numpy as np

from model.data.shapes64 import DESCRIBE_PROMPT, DRAW_PREFIX
from model.network.sequence import Image
from model.network.tokenizer import Tokenizer


def draw_context(tok: Tokenizer, caption: str | None) -> list:
    """Everything up to and including <boi>; caption None is the unconditional context."""
    user = tok.encode(DRAW_PREFIX + caption) if caption is not None else []
    return [tok.bos, tok.user, *user, tok.assistant, tok.boi]


def unconditional_context(tok: Tokenizer) -> list:
    return draw_context(tok, None)


def describe_context(tok: Tokenizer, patches: np.ndarray) -> list:
    """Everything up to and including <assistant>."""
    return [tok.bos, tok.user, tok.boi, Image(patches), tok.eoi, *tok.encode(DESCRIBE_PROMPT), tok.assistant]


def training_items(
    tok: Tokenizer, direction: str, caption: str, patches: np.ndarray, noise_level: float, drop_condition: bool
) -> list:
    """A whole conversation. For draw, `patches` are already noised to `noise_level`."""
    if direction == "draw":
        ctx = draw_context(tok, None if drop_condition else caption)
        return [*ctx, Image(patches, noise_level), tok.eoi, tok.eos]
    return [*describe_context(tok, patches), *tok.encode(caption), tok.eos]


def text_targets(tokens: list[int], is_image: list[float], assistant_id: int, ignore: int = -100) -> list[int]:
    """Next-token targets on the assistant's text only: position i is trained when it and
    i + 1 are text and i is at or after <assistant>. The user's text is not a target."""
    start = tokens.index(assistant_id)
    out = [ignore] * len(tokens)
    for i in range(start, len(tokens) - 1):
        if not is_image[i] and not is_image[i + 1]:
            out[i] = tokens[i + 1]
    return out
