"""Training batches of conversations (dialogues.py): text targets in every assistant turn, the
diffusion target on the answer's last image when it ends with one."""

from __future__ import annotations

import random

import numpy as np
import torch

from model.data.dialogues import Dialogue, assistant_text_targets, training_items
from model.network.sequence import build_row, collate, image_to_patches
from model.sampling.diffusion import DiffusionConfig, sample_t


class DialogueSource:
    """Hands out a step's dialogues; `make` is a task mix such as shapes64_dialogues.training_dialogues."""

    def __init__(self, make):
        self.make = make

    def examples(self, step: int, rank: int, world: int, n: int, gen: torch.Generator) -> list[Dialogue]:
        rng = random.Random(int(torch.randint(1 << 62, (1,), generator=gen)))
        return self.make(n, rng)


def decided_by_context(d: Dialogue) -> bool:
    """Whether the answer's image is more than a one-turn draw: an image earlier in the
    conversation (an edit, a restyle, a later turn), or words before it in the answer (an
    every-style image after its label, a restyle that names what it read). Such an image's
    layout is set at the top noise levels from a context the draws never trained: at t = 0.5
    the noisy target already shows the picture, so without more high levels the network learns
    to clean its input long before it learns to read the context (an edit copies the input's
    pixels; an emoji restyle at step 38,450 erred twice as much as a draw of the same image at
    t = 0.97, and as little at t = 0.3: docs/conversations.md)."""
    answer = d.turns[-1].parts
    return any(t.images() for t in d.turns[:-1]) or any(isinstance(p, str) for p in answer[:-1])


def make_dialogue_batch(
    tok, mcfg, dcfg: DiffusionConfig, tcfg, dialogues: list[Dialogue], gen: torch.Generator, pixel_weights
):
    """The same four tensors as train.make_batch: inputs, text targets, x0 target, its weights."""
    to_patches = lambda img: image_to_patches(img, mcfg.patch_size)  # noqa: E731
    t_all = sample_t(len(dialogues), dcfg, gen)
    # An answer whose image is more than a one-turn draw is decided at high noise (see
    # decided_by_context): high_noise_share of those rows get t from U(high_noise_from, 1),
    # which the logit-normal rarely draws; high_noise_draw_share of the plain draws too, so
    # that the draws keep the top levels the new formats share with them.
    u = torch.rand(len(dialogues), generator=gen)
    high, high_draw = u < tcfg.high_noise_share, u < tcfg.high_noise_draw_share
    t_high = tcfg.high_noise_from + (1 - tcfg.high_noise_from) * torch.rand(len(dialogues), generator=gen)
    drop = torch.rand(len(dialogues), generator=gen) < tcfg.cond_dropout
    clean_draw = torch.rand(len(dialogues), generator=gen) < tcfg.clean_draw_fraction
    rows, targets, clean = [], [], []
    for i, d in enumerate(dialogues):
        target = d.target_image
        if target is None:
            items, weights, x0 = training_items(tok, d, to_patches), None, None
        else:
            x0 = to_patches(target)
            noise = torch.randn(x0.shape, generator=gen).numpy()
            by_context = decided_by_context(d)
            copies = tcfg.high_noise_from < 1 and bool(high[i] if by_context else high_draw[i])
            t = 0.0 if clean_draw[i] else float(t_high[i] if copies else t_all[i])
            dropped = bool(drop[i])
            if d.noise is not None:  # a distillation pair: its own noise, one of its levels, the condition kept
                noise, dropped = d.noise, False
                t = d.levels[int(torch.randint(len(d.levels), (1,), generator=gen))]
            noisy = ((1 - t) * x0 + t * noise).astype(np.float32)
            items = training_items(tok, d, to_patches, noisy, t, dropped)
            weights = pixel_weights(target, tcfg.edge_weight, mcfg.patch_size, tcfg.ink_weight)
        row, _ = build_row(items, 0, mcfg.grid, tok.pad, mcfg.patch_dim, mcfg.image_gap)
        rows.append(row)
        targets.append(assistant_text_targets(row.tokens, row.is_image, tok))
        clean.append((x0, weights, row.noise_level))
    b = collate(rows, tok.pad, mcfg.patch_dim)
    T = b.tokens.shape[1]
    tgt = torch.full((len(dialogues), T), -100, dtype=torch.long)
    x0_target = torch.zeros_like(b.patches)
    diff_weight = torch.zeros_like(b.patches)
    for i, (tg, (x0, weights, _)) in enumerate(zip(targets, clean)):
        tgt[i, : len(tg)] = torch.tensor(tg)
        if weights is not None:
            # The target image is the row's last image: its patches are the last num_patches image positions.
            pos = (b.is_image[i] > 0).nonzero().squeeze(-1)[-mcfg.num_patches :]
            x0_target[i, pos] = torch.from_numpy(x0)
            diff_weight[i, pos] = torch.from_numpy(weights)
    return b, tgt, x0_target, diff_weight
