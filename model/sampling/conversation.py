"""Answering a conversation's last turn as the serving path does: greedy text until <boi> or
<eos>; at each <boi> one image by the sampler, put back into the context as the finished
(8-bit) picture, and the text resumes after its <eoi>. Rows that draw at the same moment share
the sampler's steps, as the worker batches them."""

from __future__ import annotations

import numpy as np
import torch

from model.data.dialogues import Turn, context_items
from model.network.chat import unconditional_context
from model.network.sequence import Image, image_to_patches, patches_to_image
from model.network.tokenizer import Tokenizer
from model.sampling.inference import Runtime, seeded_noise

IMAGE_SEED_STRIDE = 7919  # image k of a row draws its noise from seed + k * stride


def answer_parts(
    runtime: Runtime,
    tok: Tokenizer,
    convs: list[list[Turn]],
    seeds: list[int],
    steps: int,
    guidance: float,
    max_tokens: int = 160,
    max_images: int = 4,
) -> list[list]:
    """Per conversation, the answer's parts in order: text (str) and images (uint8 [H, W, 3]).
    The answer ends at <eos>, at the text budget of one stretch, or after max_images images."""
    cfg = runtime.cfg
    to_patches = lambda img: image_to_patches(img, cfg.patch_size)  # noqa: E731
    contexts = [context_items(tok, turns, to_patches) for turns in convs]
    parts: list[list] = [[] for _ in convs]
    active = list(range(len(convs)))
    for k in range(max_images):
        outs = runtime.decode_greedy([contexts[i] for i in active], max_tokens, {tok.eos, tok.boi})
        drawing = []
        for i, ids in zip(active, outs):
            text = tok.decode([t for t in ids if t not in (tok.eos, tok.boi)])
            if text:
                parts[i].append(text)
            contexts[i] = contexts[i] + ids
            if ids and ids[-1] == tok.boi:
                drawing.append(i)
        if not drawing:
            break
        cond, _ = runtime.prefill([contexts[i] for i in drawing])
        uncond, _ = runtime.prefill([unconditional_context(tok) for _ in drawing])
        noise = torch.stack(
            [seeded_noise(seeds[i] + k * IMAGE_SEED_STRIDE, cfg.num_patches, cfg.patch_dim) for i in drawing]
        )
        x = runtime.sample_images(cond, uncond, noise, steps, guidance)
        for j, i in enumerate(drawing):
            image = patches_to_image(x[j].numpy(), cfg.patch_size, cfg.image_size)
            parts[i].append(image)
            contexts[i] = contexts[i] + [Image(to_patches(image)), tok.eoi]
        active = drawing
    return parts


def text_and_first_image(parts: list) -> tuple[str, np.ndarray | None]:
    """An answer of at most one image as (its text, its image or None)."""
    images = [p for p in parts if not isinstance(p, str)]
    return "".join(p for p in parts if isinstance(p, str)), images[0] if images else None
