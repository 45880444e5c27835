"""Score a model on the Shapes64 evaluation split, as the card defines it.

    python -m model.evaluation.eval --ckpt=model/runs/main/ckpt.pt --n=1000 --out=model/runs/main/eval
    python -m model.evaluation.eval --ckpt=... --n=200 --steps=50          # the solver at 50 evaluations
    python -m model.evaluation.eval --ckpt=... --n=400 --split=val --time_shift=2   # choose settings on validation

Writes results.json (per direction and by number of objects) and examples.png.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Literal

from tqdm import tqdm

from model.cli import interval, parse
from model.data.shapes64 import eval_split, val_split
from model.evaluation.evaluate import evaluate, summary_line
from model.evaluation.plots import sample_grid
from model.sample import load_runtime


@dataclass
class EvalArgs:
    ckpt: str
    """a training checkpoint, a slim one, or a package folder"""
    n: int = 1000  # conversations per direction
    steps: int | None = None  # denoising steps (default: the checkpoint's sampler)
    guidance: float | None = None  # guidance scale (default: the checkpoint's sampler)
    out: str = "eval"
    raw: bool = False  # the raw weights instead of the EMA
    time_shift: float | None = None  # override the sampler's time shift
    guidance_interval: str | None = None  # override, as lo,hi
    draw_only: bool = False
    split: Literal["eval", "val"] = "eval"  # val: the validation split, for choosing settings; eval only reports


def main(argv: list[str] | None = None) -> None:
    args = parse(EvalArgs, argv, description=__doc__)
    rt, tok = load_runtime(args.ckpt, raw=args.raw)
    if args.time_shift is not None:
        rt.diffusion.time_shift = args.time_shift
    if args.guidance_interval:
        rt.diffusion.guidance_interval = interval(args.guidance_interval)
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    split = val_split if args.split == "val" else eval_split
    convs = [c for c in split(args.n) if not (args.draw_only and c.direction != "draw")]
    t0 = time.time()
    with tqdm(total=len(convs), desc="evaluating") as bar:
        results, examples = evaluate(rt, tok, convs, steps, guidance, progress=bar)
    os.makedirs(args.out, exist_ok=True)
    report = {
        "checkpoint": os.path.abspath(args.ckpt),
        "split": args.split,
        "n_per_direction": args.n,
        "steps": steps,
        "guidance": guidance,
        "time_shift": rt.diffusion.time_shift,
        "guidance_interval": list(rt.diffusion.guidance_interval),
        "seconds": round(time.time() - t0, 1),
        "results": results,
    }
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(report, f, indent=2)
    sample_grid(
        examples, os.path.join(args.out, "examples.png"), title=f"{args.ckpt}: {steps} steps, guidance {guidance}"
    )
    print(summary_line(results))
    print(f"wrote {args.out}/results.json and {args.out}/examples.png")


if __name__ == "__main__":
    main()
