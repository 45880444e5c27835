"""Choosing a corpus model's sampler settings (guidance, its interval, the time shift) on
drawings that the reported figures never use.

The tuning set is training cells (concept x style pairs the model trained on) sampled with
their own seed, minus every row `eval_corpus.py --n=<n>` draws for its "draw, seen cells"
figure, plus the validation split's held-out cells. Each setting draws the same prompts from
the same noise; the score is the retrieval of eval_corpus.py (the drawing's nearest real image
of the asked style names the concept).

    python -m model.research.sweep_corpus_sampler --ckpt=model/runs/emoji2/ckpt.pt \
        --corpus=.cache/emoji/corpus/emoji-core.jsonl --n=150 \
        --guidance=3,6,9 --interval=0,1:0.5,1:0.8,1 --shift=1,2,3 --out=results/emoji64-sampler.json

Settings are tried as a grid; results are appended to --out as they come, so an interrupted
sweep keeps what it measured (and skips it when run again).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass

from model.cli import parse
from model.data.corpus import load_corpus
from model.evaluation.eval_corpus import SEEN_DRAW_SEED, Pools, draw_rows, retrieve_each, sample, training_rows
from model.sampling.diffusion import parse_interval


def tuning_rows(corpus, n: int, eval_n: int, seed: int) -> tuple[list[int], list[int]]:
    """(seen cells, held-out validation cells): seen cells exclude the rows eval_corpus.py reports on."""
    styles, train_rows = training_rows(corpus)
    reported = set(sample(train_rows, eval_n, SEEN_DRAW_SEED))
    seen = sample([i for i in train_rows if i not in reported], n, seed)
    held = [i for i in corpus.indices("val") if corpus.styles[i] in styles]
    return seen, held


def setting_key(guidance: float, interval: tuple[float, float], shift: float) -> str:
    return f"g={guidance:g} [{interval[0]:g},{interval[1]}] shift={shift:g}"


@dataclass
class SweepCorpusSamplerArgs:
    ckpt: str
    """the checkpoint to sweep"""
    corpus: str
    """the corpus manifest"""
    out: str
    """a JSON file the results are appended to"""
    n: int = 150  # seen cells drawn per setting
    eval_n: int = 200  # the --n of the reported evaluation (its rows are excluded)
    seed: int = 11
    steps: int | None = None  # network evaluations (default: the checkpoint's sampler)
    guidance: str = "6"  # comma-separated scales
    interval: str = "0.8,1"  # colon-separated lo,hi pairs
    shift: str = "2"  # comma-separated time shifts
    threads: int = 0  # torch threads (0: torch's default)


def main(argv: list[str] | None = None) -> None:
    from model.sample import load_runtime

    args = parse(SweepCorpusSamplerArgs, argv, description=__doc__)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    rt, tok = load_runtime(args.ckpt)
    corpus = load_corpus(args.corpus, rt.cfg.image_size)
    pools = Pools(corpus)
    seen, held = tuning_rows(corpus, args.n, args.eval_n, args.seed)
    steps = args.steps or rt.diffusion.default_steps
    done = (
        json.load(open(args.out))
        if os.path.exists(args.out)
        else {
            "checkpoint": args.ckpt,
            "steps": steps,
            "seen_cells": len(seen),
            "heldout_val_cells": len(held),
            "settings": {},
        }
    )
    grid = itertools.product(
        [float(g) for g in args.guidance.split(",")],
        [parse_interval(s) for s in args.interval.split(":")],
        [float(s) for s in args.shift.split(",")],
    )
    for guidance, interval, shift in grid:
        key = setting_key(guidance, interval, shift)
        if key in done["settings"]:
            continue
        rt.diffusion.guidance_interval, rt.diffusion.time_shift = interval, shift
        t0 = time.time()
        drawn = draw_rows(rt, tok, corpus, seen, steps, guidance)
        seen_hits = [corpus.captions[i] in r[:1] for i, r in zip(seen, retrieve_each(pools, corpus, drawn, seen, 1))]
        drawn = draw_rows(rt, tok, corpus, held, steps, guidance)
        held_hits = [corpus.captions[i] in r for i, r in zip(held, retrieve_each(pools, corpus, drawn, held, 5))]
        done["settings"][key] = {
            "guidance": guidance,
            "guidance_interval": list(interval),
            "time_shift": shift,
            "draw_seen_top1": round(100 * sum(seen_hits) / len(seen), 1),
            "draw_heldout_val_top5": round(100 * sum(held_hits) / max(1, len(held)), 1),
        }
        print(
            f"{key}: seen top-1 {done['settings'][key]['draw_seen_top1']} % of {len(seen)}, "
            f"held-out (val) top-5 {done['settings'][key]['draw_heldout_val_top5']} % of {len(held)} "
            f"({time.time() - t0:.0f} s)",
            flush=True,
        )
        with open(args.out, "w") as f:
            json.dump(done, f, indent=2)


if __name__ == "__main__":
    main()
