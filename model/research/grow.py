"""Grow a trained model without changing what it computes, so that training continues from
it instead of from scratch. Reads a slim checkpoint or a package folder; writes a checkpoint in
slim.py's format, which train.py --init_from=... continues from.

- Deeper (--layers): new GAU blocks are spread between the old ones with their output
  projection at zero, so each starts as the identity (the residual passes through).
- A pixel head (--pixel_width, model.PixelHead): its last convolution starts at zero, so it
  adds nothing until training teaches it what to add.

    python -m model.research.grow packages/shapes64 --layers=12 --out=model/runs/grown.pt
    python -m model.research.grow packages/shapes64 --pixel_width=24 --out=model/runs/pixel.pt
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import tyro

from model.cli import parse
from model.network.transformer import ModelConfig, UnifiedModel
from model.packaging.weights import load_checkpoint


def placement(old: int, new: int) -> list[int | None]:
    """For each of the new stack's blocks, the old block it copies, or None for a new one;
    the new ones spread evenly, old blocks keep their order."""
    if new < old:
        raise ValueError(f"--layers={new}: a model only grows (it has {old})")
    slots: list[int | None] = []
    for i in range(old):
        slots.append(i)
        # new blocks owed after old block i, so that they are spread over the stack
        slots += [None] * ((i + 1) * (new - old) // old - i * (new - old) // old)
    return slots


def grow(states: dict[str, dict], cfg: ModelConfig, layers: int, **pixel_head) -> tuple[dict[str, dict], ModelConfig]:
    """Grows each state dict (the raw weights and their EMA) to `layers` blocks, and adds a
    pixel head when `pixel_head` (ModelConfig's pixel_* fields) sets a pixel_width. New
    parts get one initialisation, the same in every state, so the EMA starts equal to the
    weights it averages."""
    slots = placement(cfg.n_layers, layers)
    if pixel_head and cfg.pixel_width:
        raise ValueError("the model has a pixel head already")
    bigger = ModelConfig(**{**cfg.to_dict(), "n_layers": layers, **pixel_head})
    fresh = UnifiedModel(bigger).state_dict()
    grown = {}
    for which, state in states.items():
        dtype = state["patch_out.weight"].dtype
        out = {k: v for k, v in state.items() if not k.startswith("blocks.")}
        out.update({k: v.to(dtype) for k, v in fresh.items() if k.startswith("pixel_head.") and k not in state})
        for new_i, old_i in enumerate(slots):
            for key in (k for k in fresh if k.startswith(f"blocks.{new_i}.")):
                name = key.split(".", 2)[2]
                like = state[f"blocks.0.{name}"]
                if old_i is not None:
                    out[key] = state[f"blocks.{old_i}.{name}"]
                elif name.startswith("out."):
                    out[key] = torch.zeros_like(like)
                else:
                    out[key] = fresh[key].to(like.dtype)
        grown[which] = out
    return grown, bigger


@dataclass
class GrowArgs:
    ckpt: tyro.conf.Positional[str]
    """the checkpoint (or package) to grow"""
    out: str
    """the grown checkpoint to write"""
    layers: int | None = None  # blocks of the grown model (default: as many as now)
    pixel_width: int = 0  # add a pixel head with convolutions this wide
    pixel_features: int = ModelConfig.pixel_features
    pixel_layers: int = ModelConfig.pixel_layers
    seed: int = 0  # initialises the new blocks


def main(argv: list[str] | None = None) -> None:
    args = parse(GrowArgs, argv, description=__doc__)
    torch.manual_seed(args.seed)
    ck = load_checkpoint(args.ckpt)
    cfg = ModelConfig.from_dict(ck["model_config"])
    layers = args.layers or cfg.n_layers
    pixel = (
        {"pixel_width": args.pixel_width, "pixel_features": args.pixel_features, "pixel_layers": args.pixel_layers}
        if args.pixel_width
        else {}
    )
    grown, bigger = grow({k: ck[k] for k in ("model", "ema")}, cfg, layers, **pixel)
    out = {
        **{k: v for k, v in ck.items() if k not in ("model", "ema", "optimizer")},
        **grown,
        "model_config": bigger.to_dict(),
    }
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    torch.save(out, args.out)
    print(
        f"{args.out}: {cfg.n_layers} -> {layers} layers, pixel head {bigger.pixel_width or 'none'}, "
        f"at step {ck['step']}"
    )


if __name__ == "__main__":
    main()
