"""The PyTorch reference sampler, from a checkpoint or an exported package's checkpoint.

    python model/sample.py --ckpt=model/runs/main/ckpt.pt --draw "a large red circle at the center" --out=red.png
    python model/sample.py --ckpt=model/runs/main/ckpt.pt --describe=red.png
    python model/sample.py --ckpt=packages/shapes64 --draw "a small blue 7 at the top"   # a package's weights
    python model/sample.py --ckpt=... --draw "..." --steps=50 --guidance=3 --seed=7
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from PIL import Image as PILImage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion import DiffusionConfig  # noqa: E402
from evaluate import describe, draw  # noqa: E402
from inference import Runtime  # noqa: E402
from model import ModelConfig, UnifiedModel  # noqa: E402
from package_weights import load_checkpoint  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def load_runtime(ckpt_path: str, raw: bool = False, device: str = "cpu") -> tuple[Runtime, Tokenizer]:
    ck = load_checkpoint(ckpt_path)  # a .pt file or a package folder
    tok = Tokenizer.from_json(ck["tokenizer"])
    model = UnifiedModel(ModelConfig(**ck["model_config"]))
    model.load_state_dict(ck["model" if raw else "ema"])
    model.to(device)
    return Runtime(model, tok.pad, DiffusionConfig(**ck["diffusion_config"])), tok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--draw", help="a caption to draw")
    ap.add_argument("--describe", help="an image file to describe")
    ap.add_argument("--out", default="sample.png")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--guidance", type=float)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=1, help="images to draw (seeds seed..seed+n-1), side by side")
    args = ap.parse_args()
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
