"""Score a few-step student of a corpus model (Emoji64) beside its teacher, on the same cells in
one run (issue 30; the Shapes64 counterpart is eval_few_step.py).

    python -m model.evaluation.eval_few_step_corpus --teacher=packages/emoji64 \
        --student=model/runs/distill-emoji64/student/slim.pt --corpus=.cache/emoji/corpus/emoji-core.jsonl \
        --split=val --n=400
        (choose on the validation split)

The teacher samples as it ships (its manifest's steps and guidance, unconditional rows
included); the student at each of --student_steps with no unconditional row (its guidance is in
the network). For each, eval_corpus's figures on the same rows and noise seeds: draws of seen
cells retrieved top-1 among their style's real images, draws of the split's held-out cells
top-5 (beside copying the concept from another style), describe; and the speckle of every
drawing against the cell's real image (model/evaluation/speckle.py). The must: every draw
figure within 3 points of the teacher, speckle no worse.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Literal

from model.cli import parse
from model.data.corpus import load_corpus
from model.evaluation.eval_corpus import Pools, evaluate_corpus
from model.evaluation.eval_few_step import MUST_POINTS, Sampler, speckle_of, table
from model.evaluation.eval_onnx import guided_steps, load_scored_runtime


@dataclass
class EvalFewStepCorpusArgs:
    teacher: str
    """the shipped many-step model: a package folder or checkpoint"""
    student: str
    """the few-step student: a package folder or checkpoint"""
    corpus: str
    """the corpus manifest the teacher was trained on"""
    student_steps: str = "1,2"  # comma-separated step counts to score the student at
    split: Literal["eval", "val"] = "val"  # val chooses settings; eval only reports
    n: int = 0  # cap on each set (0: all)
    precision: str | None = None  # score packages' ONNX graphs (fp32, int8) instead of PyTorch
    out: str = ""  # a folder for results.json and table.md (empty: none)


# The must's figures (points): every draw figure the issue names for Emoji64.
MUST_FIGURES = ("draw seen top-1", "draw held-out top-5")
SPECKLE_FIGURES = ("speckle, seen draws", "speckle, held-out draws")


def figures(results: dict, rows_per_image: int) -> dict[str, float | None]:
    def pct(key: str) -> float | None:
        return round(100 * results[key]["accuracy"], 1) if key in results else None

    return {
        "network rows an image": rows_per_image,
        "draw seen top-1": pct("draw_seen_top1"),
        "draw held-out top-5": pct("draw_heldout_top5"),
        "draw held-out top-1": pct("draw_heldout_top1"),
        "copy held-out top-5 (baseline)": pct("draw_heldout_copy_top5"),
        "describe seen": pct("describe_seen"),
        "speckle, seen draws": results.get("speckle_seen"),
        "speckle, held-out draws": results.get("speckle_heldout"),
    }


def with_speckle(results: dict, pictures: dict, corpus) -> dict:
    """The drawings' speckle against their cells' real images, by set."""
    out = dict(results)
    for part in ("seen", "heldout"):
        drawn = [(corpus.images[row], image) for row, image, _ in pictures.get(part, [])]
        out[f"speckle_{part}"] = speckle_of(drawn)
    return out


def verdict(teacher: dict, student: dict) -> dict:
    gaps = {
        k: round(student[k] - teacher[k], 1) for k in MUST_FIGURES if teacher[k] is not None and student[k] is not None
    }
    speckle_worse = {
        k: round(student[k] - teacher[k], 3)
        for k in SPECKLE_FIGURES
        if teacher[k] is not None and student[k] is not None and student[k] > teacher[k]
    }
    worst = min(gaps.values()) if gaps else 0.0
    return {
        "gaps_points": gaps,
        "worst_gap_points": worst,
        "speckle_worse_by": speckle_worse,
        "within_must": worst >= -MUST_POINTS and not speckle_worse,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse(EvalFewStepCorpusArgs, argv, description=__doc__)
    rt, tok = load_scored_runtime(args.teacher, args.precision)
    corpus = load_corpus(args.corpus, rt.cfg.image_size)
    d = rt.diffusion
    guided = guided_steps(d.default_steps, d.time_shift, d.guidance_interval, d.default_guidance)
    samplers = [
        Sampler(
            f"teacher, {d.default_steps} steps", rt, tok, d.default_steps, d.default_guidance, d.default_steps + guided
        )
    ]
    srt, stok = load_scored_runtime(args.student, args.precision)
    for n in (int(x) for x in args.student_steps.split(",")):
        samplers.append(Sampler(f"student, {n} step{'s' if n > 1 else ''}", srt, stok, n, 1.0, n))
    pools = Pools(corpus)
    reports, columns = {}, {}
    for s in samplers:
        results, pictures = evaluate_corpus(
            s.runtime, s.tok, corpus, args.split, args.n, s.steps, s.guidance, rank=False, pools=pools
        )
        reports[s.name] = {"steps": s.steps, "guidance": s.guidance, "rows_per_image": s.rows_per_image}
        reports[s.name]["results"] = with_speckle(results, pictures, corpus)
        columns[s.name] = figures(reports[s.name]["results"], s.rows_per_image)
        print(f"{s.name}: {json.dumps(columns[s.name])}", flush=True)
    teacher = columns[samplers[0].name]
    verdicts = {s.name: verdict(teacher, columns[s.name]) for s in samplers[1:]}
    text = table(columns)
    print(text)
    for name, v in verdicts.items():
        extra = f"; speckle worse by {v['speckle_worse_by']}" if v["speckle_worse_by"] else ""
        within = "within" if v["within_must"] else "outside"
        print(f"{name}: worst gap {v['worst_gap_points']:+.1f} points{extra}: {within} the must")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        meta = {k: getattr(args, k) for k in ("teacher", "student", "corpus", "split", "n", "precision")}
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(
                {**meta, "samplers": reports, "figures": columns, "verdicts": verdicts}, f, indent=2, default=float
            )
        with open(os.path.join(args.out, "table.md"), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
