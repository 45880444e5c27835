"""Deepen a trained model without changing what it computes: new GAU blocks are spread
between the old ones with their output projection at zero, so each starts as the identity
(the residual passes through) and training decides what they add. Writes a checkpoint in
slim.py's format, which train.py --init_from=... continues from.

    python model/grow.py model/checkpoints/shapes64.pt --layers=12 --out=model/runs/grown.pt
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import ModelConfig, UnifiedModel  # noqa: E402


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


def grow(states: dict[str, dict], cfg: ModelConfig, layers: int) -> tuple[dict[str, dict], ModelConfig]:
    """Grows each state dict (the raw weights and their EMA) to `layers` blocks. The new
    blocks get one initialisation, the same in every state, so the EMA starts equal to the
    weights it averages."""
    slots = placement(cfg.n_layers, layers)
    bigger = ModelConfig(**{**cfg.to_dict(), "n_layers": layers})
    fresh = UnifiedModel(bigger).state_dict()
    grown = {}
    for which, state in states.items():
        out = {k: v for k, v in state.items() if not k.startswith("blocks.")}
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0, help="initialises the new blocks")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    ck = torch.load(args.ckpt, weights_only=False, map_location="cpu")
    cfg = ModelConfig(**ck["model_config"])
    grown, bigger = grow({k: ck[k] for k in ("model", "ema")}, cfg, args.layers)
    out = {**{k: v for k, v in ck.items() if k not in ("model", "ema", "optimizer")}, **grown,
           "model_config": bigger.to_dict()}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    torch.save(out, args.out)
    print(f"{args.out}: {cfg.n_layers} -> {args.layers} layers at step {ck['step']}")


if __name__ == "__main__":
    main()
