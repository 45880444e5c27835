"""How well a model copies an edit's input, in one network evaluation: a cheap signal of
whether edit training is learning the copy, to run every few hundred steps.

    python -m model.evaluation.copy_probe --ckpt=model/runs/conv2/ckpt.pt

For validation edits, the answer image is noised to level t (pure noise at t = 1) and the
network's x0 prediction scored by PSNR against the target over the whole image. At t = 1 the
network sees nothing of the target but its context, so it must copy the input's pixels: a blank
white canvas scores about 16.6 dB, the input image itself (every pixel but the edit's) about
19.0 dB, an exact edit infinity. A sampled edit (eval_conversations) starts at t = 1 too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from model.cli import parse
from model.data.dialogue_batch import make_dialogue_batch
from model.data.shapes64 import VAL_SEEDS
from model.data.shapes64_dialogues import dialogue
from model.network.tokenizer import Tokenizer
from model.network.transformer import ModelConfig, UnifiedModel
from model.packaging.weights import load_checkpoint
from model.sampling.diffusion import DiffusionConfig
from model.train import parse_args, pixel_weights, training_loss


@dataclass
class CopyProbeArgs:
    ckpt: str
    """a training checkpoint (.pt) or a package folder"""
    n: int = 96  # validation edits
    levels: tuple[float, ...] = (1.0, 0.8, 0.5)  # noise levels of the answer image


def psnr_from_mse(mse: float) -> float:
    """PSNR of values in [-1, 1] (a range of 2)."""
    return 10 * math.log10(4 / mse)


def baselines(n: int) -> dict[str, float]:
    """PSNR of a white canvas and of the unedited input against the targets of n validation edits."""
    white, copy = [], []
    for seed in range(VAL_SEEDS[0], VAL_SEEDS[0] + n):
        d = dialogue("edit", seed, "val")
        before, after = (np.asarray(p, np.float32) / 127.5 - 1 for p in (d.turns[0].parts[0], d.turns[1].parts[0]))
        white.append(((1 - after) ** 2).mean())
        copy.append(((before - after) ** 2).mean())
    return {"white": psnr_from_mse(float(np.mean(white))), "input": psnr_from_mse(float(np.mean(copy)))}


@torch.no_grad()
def probe(model: UnifiedModel, tok: Tokenizer, dcfg: DiffusionConfig, n: int, levels) -> dict[float, float]:
    """PSNR of the one-step x0 prediction of n validation edits' answers at each noise level."""
    tcfg = parse_args(["--high_noise_from=1.0"])
    dialogues = [dialogue("edit", seed, "val") for seed in range(VAL_SEEDS[0], VAL_SEEDS[0] + n)]
    out = {}
    for t in levels:
        gen = torch.Generator().manual_seed(0)
        b, tgt, x0, weights = make_dialogue_batch(tok, model.cfg, dcfg, tcfg, dialogues, gen, pixel_weights)
        answer = weights.sum(-1) > 0  # [B,T]: the answer image's positions
        noise = torch.randn(x0.shape, generator=gen)
        b.patches = torch.where(answer[..., None], (1 - t) * x0 + t * noise, b.patches)
        b.noise_level = torch.where(answer, torch.full_like(b.noise_level, t), b.noise_level)
        uniform = answer[..., None].float().expand_as(x0).contiguous()  # every value alike, no edge weights
        _, _, mse = training_loss(model, model, b, tgt, x0, uniform, tcfg)
        out[t] = psnr_from_mse(float(mse))
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse(CopyProbeArgs, argv, description=__doc__)
    ck = load_checkpoint(args.ckpt)
    model = UnifiedModel(ModelConfig.from_dict(ck["model_config"]))
    model.load_state_dict(ck["ema"])
    model.eval()
    tok, dcfg = Tokenizer.from_json(ck["tokenizer"]), DiffusionConfig(**ck["diffusion_config"])
    scores = probe(model, tok, dcfg, args.n, args.levels)
    base = baselines(args.n)
    levels = "  ".join(f"t={t}: {p:.2f} dB" for t, p in scores.items())
    yardsticks = f"white canvas {base['white']:.1f} dB, the input {base['input']:.1f} dB"
    print(f"{args.ckpt} (step {ck.get('step')}): {levels}  ({yardsticks})")


if __name__ == "__main__":
    main()
