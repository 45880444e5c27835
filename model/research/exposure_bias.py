"""Exposure bias, measured: how a corpus model's own sampler steps spoil an image it could
have finished cleanly.

Training shows the network true noisy images; the sampler feeds it its own earlier steps.
A training cell's real image is re-noised to one of the sampler's levels below the guidance
interval (the layout is then given) and brought back to t = 0 by the model's unguided Euler
steps, as the sampler would. Two figures of the returned image against the real one:
- the mean absolute error, in 0-255 levels;
- speckle (model/evaluation/speckle.py): inside the real image's coloured fills, the returned
  image's mean absolute deviation from its own 3 x 3 mean. A real emoji scores 0; the mottled
  fills of a model that compounds its own errors score high.

    python -m model.research.exposure_bias --ckpt=model/runs/emoji10/ckpt.pt \
        --corpus=.cache/emoji/corpus/emoji-core.jsonl --grid=results/exposure.png

Train-side remedy: `train.py --rollout_fraction` (README, "Exposure bias").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from model.cli import parse
from model.evaluation.speckle import speckle
from model.sampling.diffusion import add_noise, euler_update, time_grid

# (x_t [B,N,pd], t) -> the network's x0 [B,N,pd]
Denoiser = Callable[[torch.Tensor, float], torch.Tensor]


def return_trip(
    denoise: Denoiser, x0: torch.Tensor, noise: torch.Tensor, grid: list[float], start: int
) -> torch.Tensor:
    """x0 re-noised to grid[start], then the sampler's Euler steps from there down to 0."""
    x = add_noise(x0, torch.full((x0.shape[0],), grid[start]), noise)
    for t, t_next in zip(grid[start:-1], grid[start + 1 :]):
        x = euler_update(x, denoise(x, t), t, t_next)
    return x


def mean_abs_levels(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@dataclass
class ExposureBiasArgs:
    ckpt: str
    """a checkpoint trained on the corpus"""
    corpus: str
    """the corpus manifest"""
    n: int = 96  # training cells
    seed: int = 11
    grid: str | None = None  # a PNG: real, then the return from each level, per cell (first 8)


def main(argv: list[str] | None = None) -> None:
    from model.data.corpus import load_corpus
    from model.data.examples import draw_text
    from model.evaluation.eval_corpus import sample, training_rows
    from model.network.chat import draw_context
    from model.network.sequence import Image, image_to_patches, patches_to_image
    from model.research.network import load_runtime
    from model.sampling.inference import seeded_noise

    args = parse(ExposureBiasArgs, argv, description=__doc__)
    rt, tok = load_runtime(args.ckpt)
    cfg, dcfg = rt.cfg, rt.diffusion
    corpus = load_corpus(args.corpus, cfg.image_size, log=lambda *_: None)
    rows = sample(training_rows(corpus)[1], args.n, args.seed)
    cond, _ = rt.prefill([draw_context(tok, draw_text(corpus.captions[i], corpus.styles[i])) for i in rows])

    def denoise(x: torch.Tensor, t: float) -> torch.Tensor:
        return rt.step(cond, [[Image(x[i].numpy(), t)] for i in range(x.shape[0])])[1]

    def to_images(p: torch.Tensor) -> np.ndarray:
        return np.stack([patches_to_image(q.numpy(), cfg.patch_size, cfg.image_size) for q in p])

    real = corpus.images[rows]
    x0 = torch.stack([torch.from_numpy(image_to_patches(im, cfg.patch_size)) for im in real])
    noise = torch.stack([seeded_noise(args.seed * 1000 + i, cfg.num_patches, cfg.patch_dim) for i in rows])
    grid = time_grid(dcfg.default_steps, dcfg.time_shift)
    starts = [k for k, t in enumerate(grid[:-1]) if t < dcfg.guidance_interval[0]][:3]  # the first unguided levels
    returned = []
    for k in starts:
        back = to_images(return_trip(denoise, x0, noise, grid, k))
        returned.append(back)
        print(
            f"{args.ckpt}: from t = {grid[k]:.3f} ({len(grid) - 1 - k} steps), {len(rows)} cells: "
            f"error {mean_abs_levels(back, real):.2f} levels, speckle {speckle(real, back):.2f} levels",
            flush=True,
        )
    if args.grid:
        from PIL import Image as PILImage

        cols, side = [real] + returned, 2 * cfg.image_size
        sheet = PILImage.new("RGB", (len(cols) * (side + 2), min(8, len(rows)) * (side + 2)), "white")
        for c, ims in enumerate(cols):
            for r, im in enumerate(ims[:8]):
                sheet.paste(
                    PILImage.fromarray(im).resize((side, side), PILImage.NEAREST), (c * (side + 2), r * (side + 2))
                )
        os.makedirs(os.path.dirname(os.path.abspath(args.grid)), exist_ok=True)
        sheet.save(args.grid)


if __name__ == "__main__":
    main()
