"""Choose a corpus model's sampler on validation: each setting draws the validation cells
(top-5 retrieval) and a sample of training cells (top-1) with noise seeds the evaluation
does not use.

    python model/sweep_corpus.py --ckpt=model/runs/emoji/ckpt.pt --corpus=.cache/emoji/corpus/emoji-core.jsonl \
        --setting=6,2,0.8,1 --setting=3,2,0,1 ...      # guidance,time_shift,lo,hi
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import load_corpus  # noqa: E402
from eval_corpus import HELD_OUT_STYLE, Pools, draw_text, rate, retrieve_each, sample  # noqa: E402
from evaluate import draw  # noqa: E402
from sample import load_runtime  # noqa: E402

SEED_BASE = 900_000  # the evaluation draws with seeds 1000 + row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--setting", action="append", required=True, help="guidance,time_shift,lo,hi")
    ap.add_argument("--n", type=int, default=64, help="training cells drawn per setting")
    ap.add_argument("--out", default="results/sweep.json")
    args = ap.parse_args()
    rt, tok = load_runtime(args.ckpt)
    corpus = load_corpus(args.corpus, rt.cfg.image_size)
    pools = Pools(corpus)
    styles = [s for s in corpus.style_names() if s != HELD_OUT_STYLE]
    val = [i for i in corpus.indices("val") if corpus.styles[i] in styles]
    seen = sample([i for i in corpus.indices("train") if corpus.styles[i] in styles], args.n, 7)
    rows = []
    for setting in args.setting:
        g, shift, lo, hi = (float(x) for x in setting.split(","))
        rt.diffusion.time_shift, rt.diffusion.guidance_interval = shift, (lo, hi)
        result = {"guidance": g, "time_shift": shift, "guidance_interval": [lo, hi]}
        for name, part, k in (("val_top5", val, 5), ("seen_top1", seen, 1)):
            texts = [draw_text(corpus.captions[i], corpus.styles[i]) for i in part]
            images = []
            for s in range(0, len(part), 32):
                images += draw(rt, tok, texts[s:s + 32], [SEED_BASE + i for i in part[s:s + 32]], rt.diffusion.default_steps, g)
            found = retrieve_each(pools, corpus, np.stack(images), part, k)
            result[name] = rate([corpus.captions[i] in r for i, r in zip(part, found)])["accuracy"]
        rows.append(result)
        print(json.dumps(result), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"checkpoint": args.ckpt, "n_seen": len(seen), "n_val": len(val), "settings": rows}, f, indent=2)


if __name__ == "__main__":
    main()
