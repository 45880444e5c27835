"""The PyTorch reference sampler, from a checkpoint or an exported package's checkpoint.

python -m model.sample --ckpt=model/runs/main/ckpt.pt --draw "a large red circle at the center" --out=red.png
python -m model.sample --ckpt=model/runs/main/ckpt.pt --describe=red.png
python -m model.sample --ckpt=packages/shapes64 --draw "a small blue 7 at the top"   # a package's weights
python -m model.sample --ckpt=... --draw "..." --steps=50 --guidance=3 --seed=7
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image as PILImage

from model.cli import parse
from model.distill.split import load_split
from model.evaluation.evaluate import describe, draw
from model.network.tokenizer import Tokenizer
from model.packaging.weights import load_checkpoint
from model.sampling.diffusion import DiffusionConfig
from model.sampling.inference import Runtime


def load_runtime(ckpt_path: str, raw: bool = False, device: str = "cpu") -> tuple[Runtime, Tokenizer]:
    ck = load_checkpoint(ckpt_path)  # a .pt file or a package folder
    tok = Tokenizer.from_json(ck["tokenizer"])
    model = load_split(ck, "model" if raw else "ema")  # a student trained with a reader: both (distill/split.py)
    model.to(device)
    return Runtime(model, tok.pad, DiffusionConfig(**ck["diffusion_config"])), tok


@dataclass
class SampleArgs:
    ckpt: str
    """a training checkpoint, a slim one, or a package folder"""
    draw: str | None = None  # a caption to draw
    describe: str | None = None  # an image file to describe
    out: str = "sample.png"
    steps: int | None = None  # denoising steps (default: the checkpoint's sampler)
    guidance: float | None = None  # guidance scale (default: the checkpoint's sampler)
    seed: int = 0
    n: int = 1  # images to draw (seeds seed..seed+n-1), side by side


def main(argv: list[str] | None = None) -> None:
    args = parse(SampleArgs, argv, description=__doc__)
    rt, tok = load_runtime(args.ckpt)
    if args.draw:
        steps = args.steps or rt.diffusion.default_steps
        guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
        imgs = draw(rt, tok, [args.draw] * args.n, list(range(args.seed, args.seed + args.n)), steps, guidance)
        PILImage.fromarray(np.concatenate(imgs, axis=1)).save(args.out)
        print(f"wrote {args.out}")
    if args.describe:
        img = PILImage.open(args.describe).convert("RGB").resize((rt.cfg.image_size, rt.cfg.image_size))
        print(describe(rt, tok, [np.asarray(img)])[0])


if __name__ == "__main__":
    main()
