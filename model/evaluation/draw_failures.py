"""Why Shapes64 drawings fail: the card's checks that each wrong drawing misses, by number of objects.

    python -m model.evaluation.draw_failures --ckpt=packages/shapes64 --split=val --n=1000
    python -m model.evaluation.draw_failures --ckpt=RUN/slim.pt --split=val --n=1000 --steps=1 --guidance=1

The drawings are the evaluation's own (drawn by `evaluate`, with its captions and noise seeds), so
the right rate is the draw figure of eval_few_step and eval_conversations. A wrong drawing
counts once under each cause it has (model/evaluation/score.py `failure_causes`): an object
"missing", "too small", "too large" or of the "wrong shape" (a square whose soft corners fill
less than 90 % of its box reads as a circle), or "stray" paint outside the named cells.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from model.cli import parse
from model.data.shapes64 import eval_split, val_split
from model.evaluation.eval_onnx import load_scored_runtime
from model.evaluation.evaluate import evaluate
from model.evaluation.score import failure_causes


@dataclass
class DrawFailuresArgs:
    ckpt: str
    """a checkpoint or package folder"""
    split: Literal["eval", "val"] = "val"
    n: int = 1000  # drawings (the split's first n draw conversations)
    steps: int | None = None  # default: the model's sampler
    guidance: float | None = None  # default: the model's sampler
    precision: str | None = None  # a package's ONNX graph (fp32, int8) instead of its weights
    batch_size: int = 32
    out: str = ""  # a JSON file for the tally (empty: none)


def tally_failures(scenes: list, images: list) -> dict:
    """{objects: {"n", "right", "causes": {cause: drawings}}} over (scene, drawing) pairs."""
    out: dict[int, dict] = {}
    for scene, img in zip(scenes, images, strict=True):
        row = out.setdefault(len(scene.objects), {"n": 0, "right": 0, "causes": Counter()})
        causes = failure_causes(img, scene)
        row["n"] += 1
        row["right"] += not causes
        row["causes"].update(set(causes))
    return {k: {**v, "causes": dict(sorted(v["causes"].items()))} for k, v in sorted(out.items())}


def table(tally: dict) -> str:
    causes = sorted({c for row in tally.values() for c in row["causes"]})
    lines = ["| objects | drawings | right | " + " | ".join(causes) + " |", "|---" * (3 + len(causes)) + "|"]
    for k, row in tally.items():
        cells = [str(row["causes"].get(c, 0)) for c in causes]
        lines.append(f"| {k} | {row['n']} | {100 * row['right'] / row['n']:.1f} % | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse(DrawFailuresArgs, argv, description=__doc__)
    rt, tok = load_scored_runtime(args.ckpt, args.precision)
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    split = eval_split if args.split == "eval" else val_split
    draws = [c for c in split(args.n) if c.direction == "draw"]
    _, examples = evaluate(rt, tok, draws, steps, guidance, args.batch_size)  # its drawings, its seeds
    tally = tally_failures([c.scene for _, c, _, _ in examples], [img for _, _, img, _ in examples])
    print(f"{args.ckpt}, {steps} steps, guidance {guidance}, {args.split} split:")
    print(table(tally))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"ckpt": args.ckpt, "split": args.split, "steps": steps, "guidance": guidance, "tally": tally}, f)


if __name__ == "__main__":
    main()
