"""Whether a model's image answers end at their image (Shapes64's, or a corpus model's draws).

A package may declare `conversation.image_ends_answer` (docs/model-package.md): the worker then
ends an answer at its image instead of reading the image back into the context to decode what
follows (a network evaluation of the whole image, as costly as a denoising call). That is a
claim about the model, so it is checked on it: draws, edits and second-turn edits of the
split are answered with room for a second image and the text budget, and every answer that
says anything after its image (text, or another image) is counted.

    python -m model.evaluation.ends_at_image --ckpt=model/runs/conv5/slim.pt --split=val --n=100
    python -m model.evaluation.ends_at_image --ckpt=packages/emoji64 --corpus=.cache/emoji/corpus/emoji-core.jsonl
        (a corpus model: draws of n training cells and of the split's held-out cells)

Exits 1 when any answer went on: model/ship.sh then leaves the declaration out.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Literal

from model.cli import parse
from model.data.dialogues import Turn
from model.data.shapes64 import DRAW_PREFIX, EVAL_SEEDS, VAL_SEEDS, scene_from_seed
from model.data.shapes64_dialogues import eval_edit_split, val_edit_split
from model.data.shapes64_edits import EDIT_KINDS
from model.evaluation.eval_onnx import load_scored_runtime
from model.evaluation.evaluate_conversations import random_edits
from model.sampling.conversation import answer_parts


@dataclass
class EndsAtImageArgs:
    ckpt: str
    """a training checkpoint, slim checkpoint or package"""
    split: Literal["eval", "val"] = "val"  # a declaration is a setting: chosen on validation
    n: int = 100  # conversations of each kind: draws, edits (spread over the kinds), second turns
    steps: int | None = None  # denoising steps (default: the checkpoint's sampler)
    guidance: float | None = None  # guidance scale (default: the checkpoint's sampler)
    corpus: str = ""  # a corpus model's manifest (model/data/corpus.py): its draws instead of Shapes64's
    out: str = ""  # a JSON file for the counts (empty: none)


def conversations(split: str, n: int) -> dict[str, list[list[Turn]]]:
    """n draws, n edits and n second-turn edits of the split's scenes."""
    first = (EVAL_SEEDS if split == "eval" else VAL_SEEDS)[0]
    per_kind = -(-n // len(EDIT_KINDS))
    edits = random_edits((eval_edit_split if split == "eval" else val_edit_split)(per_kind), 2024)[:n]
    draws = [scene_from_seed(first + 500_000 + i) for i in range(n)]
    return {
        "draw": [[Turn("user", [DRAW_PREFIX + s.caption()])] for s in draws],
        "edit": [[Turn("user", [e.before.render(), e.instruction])] for e in edits],
        "second_turn": [
            [
                Turn("user", [DRAW_PREFIX + e.before.caption()]),
                Turn("assistant", [e.before.render()]),
                Turn("user", [e.instruction]),
            ]
            for e in edits
        ],
    }


def corpus_conversations(path: str, image_size: int, split: str, n: int) -> dict[str, list[list[Turn]]]:
    """n draws of training cells and up to n of the split's held-out cells, in the training styles."""
    from model.data.corpus import load_corpus
    from model.data.examples import draw_text
    from model.evaluation.eval_corpus import held_out_cells, sample, training_rows

    corpus = load_corpus(path, image_size)
    _, seen = training_rows(corpus)
    held = held_out_cells(corpus, split)
    ask = lambda rows: [[Turn("user", [DRAW_PREFIX + draw_text(corpus.captions[i], corpus.styles[i])])] for i in rows]  # noqa: E731
    return {"draw": ask(sample(seen, n, 7)), "draw_heldout": ask(sample(held, n, 8))}


def went_on(parts: list) -> bool:
    """Anything after the answer's first image: text or another image."""
    images = [i for i, p in enumerate(parts) if not isinstance(p, str)]
    return bool(images) and images[0] < len(parts) - 1


def main(argv: list[str] | None = None) -> None:
    args = parse(EndsAtImageArgs, argv, description=__doc__)
    rt, tok = load_scored_runtime(args.ckpt, None)
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    report: dict = {"checkpoint": os.path.abspath(args.ckpt), "split": args.split, "steps": steps, "kinds": {}}
    if args.corpus:
        asked = corpus_conversations(args.corpus, rt.cfg.image_size, args.split, args.n)
    else:
        asked = conversations(args.split, args.n)
    for kind, convs in asked.items():
        answers = answer_parts(rt, tok, convs, list(range(len(convs))), steps, guidance, max_images=2)
        with_image = [p for p in answers if any(not isinstance(x, str) for x in p)]
        report["kinds"][kind] = {
            "n": len(convs),
            "with_image": len(with_image),
            "went_on": sum(map(went_on, with_image)),
        }
        print(kind, report["kinds"][kind], flush=True)
    total = sum(k["went_on"] for k in report["kinds"].values())
    report["went_on"] = total
    report["image_ends_answer"] = total == 0 and all(k["with_image"] > 0 for k in report["kinds"].values())
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)
    print(f"answers that went on after their image: {total}; image_ends_answer: {report['image_ends_answer']}")
    sys.exit(0 if report["image_ends_answer"] else 1)


if __name__ == "__main__":
    main()
