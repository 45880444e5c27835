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


def make_dialogue_batch(
    tok, mcfg, dcfg: DiffusionConfig, tcfg, dialogues: list[Dialogue], gen: torch.Generator, pixel_weights
):
    """The same four tensors as train.make_batch: inputs, text targets, x0 target, its weights."""
    to_patches = lambda img: image_to_patches(img, mcfg.patch_size)  # noqa: E731
    t_all = sample_t(len(dialogues), dcfg, gen)
    # An answer drawn with an image in its context (an edit, a later turn) is decided at high
    # noise, where the network must copy the context's pixels rather than clean its own input:
    # half of those rows get t from U(high_noise_from, 1), which the logit-normal rarely draws.
    high = torch.rand(len(dialogues), generator=gen) < 0.5
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
            copies = high[i] and tcfg.high_noise_from < 1 and any(t.images() for t in d.turns[:-1])
            t = 0.0 if clean_draw[i] else float(t_high[i] if copies else t_all[i])
            dropped = bool(drop[i])
            if d.noise is not None:  # a distillation pair: its own noise, one of its levels, the condition kept
                noise, dropped = d.noise, False
                t = d.levels[int(torch.randint(len(d.levels), (1,), generator=gen))]
            noisy = ((1 - t) * x0 + t * noise).astype(np.float32)
            items = training_items(tok, d, to_patches, noisy, t, dropped)
            weights = pixel_weights(target, tcfg.edge_weight, mcfg.patch_size)
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
