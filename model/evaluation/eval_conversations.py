"""Score a Shapes64 model on conversations: edits (and the two-step pipeline), second-turn
edits, refusals, beside draw and describe.

    python -m model.evaluation.eval_conversations --ckpt=model/runs/conv/ckpt.pt --split=val --n_per_kind=40
        (choose settings on the validation split)
    python -m model.evaluation.eval_conversations --ckpt=... --split=eval --n_per_kind=200 --out=...
        (report once, on the evaluation split)
    python -m model.evaluation.eval_conversations --ckpt=packages/shapes64 --precision=int8 --split=val ...
        (the package's int8 graph in onnxruntime, as the CPU workers run it)

Writes results.json under --out and prints one line per figure.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Literal

from tqdm import tqdm

from model.cli import parse
from model.data.shapes64 import EVAL_SEEDS, VAL_SEEDS, eval_split, val_split
from model.data.shapes64_dialogues import eval_edit_split, val_edit_split
from model.evaluation.eval_onnx import load_scored_runtime
from model.evaluation.evaluate import evaluate, summary_line
from model.evaluation.evaluate_conversations import edit_grid, evaluate_edits, evaluate_refusals, evaluate_second_turn


@dataclass
class EvalConversationsArgs:
    ckpt: str
    """a training checkpoint or slim checkpoint"""
    split: Literal["eval", "val"] = "val"  # val chooses settings; eval only reports
    n_per_kind: int = 200  # edits of each kind (the figure: 200)
    n_turns: int = 200  # second-turn edits
    n_refusals: int = 200  # out-of-scope prompts
    n_draw: int = 1000  # draw and describe conversations each (0: skip)
    steps: int | None = None  # denoising steps (default: the checkpoint's sampler)
    guidance: float | None = None  # guidance scale (default: the checkpoint's sampler)
    no_pipeline: bool = False  # skip the two-step pipeline baseline
    out: str = ""  # a folder for results.json and edit-examples.png (empty: none)
    # Score a package's ONNX graph (fp32, or a variant such as int8) in onnxruntime instead of
    # its weights in PyTorch: whether a cheaper graph keeps the copy an edit needs.
    precision: str | None = None


def main(argv: list[str] | None = None) -> None:
    args = parse(EvalConversationsArgs, argv, description=__doc__)
    rt, tok = load_scored_runtime(args.ckpt, args.precision)
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    edits = (eval_edit_split if args.split == "eval" else val_edit_split)(args.n_per_kind)
    seeds = EVAL_SEEDS if args.split == "eval" else VAL_SEEDS
    t0 = time.time()
    report = {"checkpoint": os.path.abspath(args.ckpt), "split": args.split, "steps": steps, "guidance": guidance}
    if args.precision:
        report["precision"] = args.precision
    examples: list = []
    with tqdm(total=len(edits), desc="edits") as bar:
        report["edits"] = evaluate_edits(
            rt, tok, edits, steps, guidance, pipeline=not args.no_pipeline, progress=bar, examples=examples
        )
    line(report["edits"])
    if args.n_turns:
        turns = edits[:: max(1, len(edits) // args.n_turns)][: args.n_turns]
        with tqdm(total=len(turns), desc="second turns") as bar:
            report["second_turn"] = evaluate_second_turn(rt, tok, turns, steps, guidance, progress=bar)
        print("second turn", {k: round(100 * v["accuracy"], 1) for k, v in report["second_turn"].items()})
    if args.n_refusals:
        # The out-of-scope phrasings have two sets, training and held-out: both splits ask in the
        # held-out words (no setting is chosen on refusals), about the split's own scenes.
        report["refusals"] = evaluate_refusals(rt, tok, args.n_refusals, "eval", range(seeds[0] + 50_000, seeds[1]))
        print("refusals", json.dumps(report["refusals"]))
    if args.n_draw:
        convs = (eval_split if args.split == "eval" else val_split)(args.n_draw)
        with tqdm(total=len(convs), desc="draw and describe") as bar:
            report["draw_describe"], _ = evaluate(rt, tok, convs, steps, guidance, progress=bar)
        print(summary_line(report["draw_describe"]))
    report["seconds"] = round(time.time() - t0, 1)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        edit_grid(examples, os.path.join(args.out, "edit-examples.png"))
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(report, f, indent=2)


def line(edits: dict) -> None:
    kinds = " ".join(
        f"{k.split('/')[1]} {100 * v['accuracy']:.0f}%"
        for k, v in edits.items()
        if k.startswith("edit/") and k != "edit/all"
    )
    pipe = edits.get("pipeline/all", {}).get("accuracy")
    print(
        f"edit {100 * edits['edit/all']['accuracy']:.1f}% ({kinds}); psnr {edits['faithfulness_psnr_db']}; "
        f"pipeline {'-' if pipe is None else f'{100 * pipe:.1f}%'}"
    )


if __name__ == "__main__":
    main()
