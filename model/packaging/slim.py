"""Shrink a training checkpoint to what a later run needs to continue: the raw and EMA
weights in fp16, the configs, the tokenizer, the step and the history; no optimizer state
(train.py --init_from=... starts fresh moments with a short warmup). ship.sh exports it as the
package; it stays local (model/checkpoints/ and model/runs/ are not in git): the package is
where shipped weights live, and train.py --init_from=packages/<name> trains on from it.

    python -m model.packaging.slim model/runs/main/ckpt.pt model/runs/main/slim.pt
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import tyro

from model.cli import parse


def slim(src: str, dst: str) -> None:
    ck = torch.load(src, weights_only=False, map_location="cpu")
    half = {k: {n: t.half() if t.is_floating_point() else t for n, t in ck[k].items()} for k in ("model", "ema")}
    out = {**{k: v for k, v in ck.items() if k not in ("model", "ema", "optimizer")}, **half}
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    torch.save(out, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
    print(f"{dst}: {os.path.getsize(dst) / 1e6:.1f} MB at step {ck['step']}")


@dataclass
class SlimArgs:
    src: tyro.conf.Positional[str]
    """a training checkpoint (ckpt.pt)"""
    dst: tyro.conf.Positional[str]
    """the slim checkpoint to write"""


def main(argv: list[str] | None = None) -> None:
    args = parse(SlimArgs, argv, description=__doc__)
    slim(args.src, args.dst)


if __name__ == "__main__":
    main()
