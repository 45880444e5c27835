"""Score a model on the Shapes64 evaluation split, as the card defines it.

    python model/eval.py --ckpt=model/runs/main/ckpt.pt --n=1000 --out=model/runs/main/eval
    python model/eval.py --ckpt=... --n=200 --steps=50          # the solver at 50 evaluations
    python model/eval.py --ckpt=... --n=400 --split=val --time_shift=2   # choose settings on validation

Writes results.json (per direction and by number of objects) and examples.png.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion import parse_interval  # noqa: E402
from evaluate import evaluate, summary_line  # noqa: E402
from plots import sample_grid  # noqa: E402
from sample import load_runtime  # noqa: E402
from shapes64 import eval_split, val_split  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--n", type=int, default=1000, help="conversations per direction")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--guidance", type=float)
    ap.add_argument("--out", default="eval")
    ap.add_argument("--raw", action="store_true", help="the raw weights instead of the EMA")
    ap.add_argument("--time_shift", type=float, help="override the sampler's time shift")
    ap.add_argument("--guidance_interval", type=parse_interval, help="override, as lo,hi")
    ap.add_argument("--draw_only", action="store_true")
    ap.add_argument("--split", choices=("eval", "val"), default="eval",
                    help="val: the validation split, for choosing settings; eval only reports")
    args = ap.parse_args()
    rt, tok = load_runtime(args.ckpt, raw=args.raw)
    if args.time_shift is not None:
        rt.diffusion.time_shift = args.time_shift
    if args.guidance_interval:
        rt.diffusion.guidance_interval = args.guidance_interval
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    split = val_split if args.split == "val" else eval_split
    convs = [c for c in split(args.n) if not (args.draw_only and c.direction != "draw")]
    t0 = time.time()
    with tqdm(total=len(convs), desc="evaluating") as bar:
        results, examples = evaluate(rt, tok, convs, steps, guidance, progress=bar)
    os.makedirs(args.out, exist_ok=True)
    report = {"checkpoint": os.path.abspath(args.ckpt), "split": args.split, "n_per_direction": args.n, "steps": steps,
              "guidance": guidance, "time_shift": rt.diffusion.time_shift,
              "guidance_interval": list(rt.diffusion.guidance_interval), "seconds": round(time.time() - t0, 1), "results": results}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(report, f, indent=2)
    sample_grid(examples, os.path.join(args.out, "examples.png"), title=f"{args.ckpt}: {steps} steps, guidance {guidance}")
    print(summary_line(results))
    print(f"wrote {args.out}/results.json and {args.out}/examples.png")


if __name__ == "__main__":
    main()
