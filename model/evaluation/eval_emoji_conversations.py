"""Score an Emoji64 model on conversations: restyles (held-out cells, and from the unseen
`fluent` style), every style, second turns and refusals, each beside its baseline in the
same run (model/evaluation/evaluate_emoji_conversations.py says how each is measured).

    python -m model.evaluation.eval_emoji_conversations --ckpt=model/runs/econv/ckpt.pt \\
        --corpus=.cache/emoji/corpus/emoji-core.jsonl --split=val      (choose settings here)
    python -m model.evaluation.eval_emoji_conversations --ckpt=... --split=eval --out=...
        (report once; only this split scores fluent)
    python -m model.evaluation.eval_emoji_conversations --ckpt=packages/emoji64 --precision=int8 ...
        (the package's graph in onnxruntime, as the CPU workers run it)

Writes results.json (and restyles.png, a picture of fluent images restyled into each training
style) under --out; prints one line per figure.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from tqdm import tqdm

from model.cli import parse
from model.data.corpus import Corpus, load_corpus
from model.data.dialogues import Turn
from model.data.emoji_dialogues import RESTYLE
from model.evaluation.eval_corpus import HELD_OUT_STYLE, Pools, sample
from model.evaluation.eval_onnx import load_scored_runtime
from model.evaluation.evaluate_emoji_conversations import (
    Answers,
    drawn_rows,
    evaluate_every_style,
    evaluate_refusals,
    evaluate_restyle_fluent,
    evaluate_restyle_heldout,
    evaluate_second_turn,
    heldout_restyles,
)


@dataclass
class EvalEmojiConversationsArgs:
    ckpt: str
    """a training checkpoint, a slim checkpoint, or (with --precision) a package folder"""
    corpus: str = ".cache/emoji/corpus/emoji-core.jsonl"
    split: Literal["eval", "val"] = "val"  # val chooses settings; eval reports, fluent included
    n_restyle: int = 0  # held-out restyle pairs (0: every pair of the split)
    n_fluent: int = 150  # fluent images restyled (eval split only)
    n_every: int = 40  # concepts asked in every style
    n_turns: int = 0  # second-turn restyles (0: as many as the held-out pairs)
    n_refusals: int = 200  # out-of-scope prompts, and as many valid requests
    steps: int | None = None  # denoising steps (default: the sampler's)
    guidance: float | None = None  # guidance scale (default: the sampler's)
    out: str = ""  # a folder for results.json and restyles.png (empty: none)
    # Score a package's ONNX graph (fp32 or int8) in onnxruntime instead of weights in PyTorch.
    precision: str | None = None


def main(argv: list[str] | None = None) -> None:
    args = parse(EvalEmojiConversationsArgs, argv, description=__doc__)
    rt, tok = load_scored_runtime(args.ckpt, args.precision)
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    corpus = load_corpus(args.corpus, rt.cfg.image_size)
    pools = Pools(corpus)
    report: dict = {"checkpoint": os.path.abspath(args.ckpt), "corpus": args.corpus, "split": args.split}
    report |= {"steps": steps, "guidance": guidance, "precision": args.precision or "torch"}
    t0 = time.time()
    pairs = heldout_restyles(corpus, args.split, args.n_restyle)
    with tqdm(desc="answers", unit="conv") as bar:
        answers = Answers(rt, tok, steps, guidance, progress=bar)
        report["restyle_heldout"] = evaluate_restyle_heldout(answers, corpus, pools, pairs)
        show("restyle, held-out cells", report["restyle_heldout"])
        turns = pairs[: args.n_turns] if args.n_turns else pairs
        report["second_turn"] = evaluate_second_turn(answers, corpus, pools, turns)
        show("second turn", report["second_turn"])
        if args.split == "eval" and args.n_fluent:
            report["restyle_fluent"] = evaluate_restyle_fluent(answers, corpus, pools, args.n_fluent)
            show("restyle from fluent", report["restyle_fluent"])
        if args.n_every:
            report["every_style"] = evaluate_every_style(answers, corpus, pools, args.n_every)
            show("every style", report["every_style"])
        if args.n_refusals:
            report["refusals"] = evaluate_refusals(rt, tok, corpus, args.n_refusals)
            show("refusals", report["refusals"])
        if args.out and args.split == "eval":
            os.makedirs(args.out, exist_ok=True)
            restyle_picture(answers, corpus, os.path.join(args.out, "restyles.png"))
    report["seconds"] = round(time.time() - t0, 1)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(report, f, indent=2)


def show(name: str, figures: dict) -> None:
    parts = [f"{k} {100 * v['accuracy']:.1f}%" for k, v in figures.items() if isinstance(v, dict) and "accuracy" in v]
    print(f"{name}: " + ", ".join(parts), flush=True)


def restyle_picture(answers: Answers, corpus: Corpus, path: str, n: int = 6) -> None:
    """Rows of a fluent image (never trained on) and the model's restyle into each training style."""
    from PIL import Image, ImageDraw

    styles, _ = drawn_rows(corpus)
    rows = sample(corpus.indices("eval", HELD_OUT_STYLE), n, 41)
    convs = [[Turn("user", [corpus.images[i], RESTYLE.format(style=s)])] for i in rows for s in styles]
    _, images, _ = answers.one(convs, [100 + j for j in range(len(convs))])
    scale, label, pad = 2, 14, 6
    tile = 64 * scale
    canvas = Image.new("RGB", ((1 + len(styles)) * (tile + pad) + pad, len(rows) * (tile + label + pad) + 20), "white")
    draw = ImageDraw.Draw(canvas)
    for c, name in enumerate(["fluent (input)", *[f"draw this in {s} style" for s in styles]]):
        draw.text((pad + c * (tile + pad), 4), name, fill=(0, 0, 0))
    for r, i in enumerate(rows):
        y = 20 + r * (tile + label + pad)
        draw.text((pad, y), corpus.captions[i][:40], fill=(0, 0, 0))
        pics = [corpus.images[i], *images[r * len(styles) : (r + 1) * len(styles)]]
        for c, pic in enumerate(pics):
            big = Image.fromarray(np.asarray(pic)).resize((tile, tile), Image.NEAREST)
            canvas.paste(big, (pad + c * (tile + pad), y + label))
    canvas.save(path)


if __name__ == "__main__":
    main()
