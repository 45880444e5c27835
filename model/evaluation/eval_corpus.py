"""Scoring a corpus model (docs/data/emoji.md): the four figures, each beside its baseline.

- describe, training styles: greedy answer == caption, on training images
- describe, held-out style: greedy exact, and top-1/top-5 when the candidate captions are
  ranked by the model's likelihood; baseline: the image's nearest training image in pixel
  space (16 x 16 after a 1-pixel Gaussian blur) names the concept
- draw, seen cells: the drawing's nearest real image of the asked style is the concept (top-1)
- draw, held-out cells: top-5 of the same retrieval; baseline: the concept's image in
  another training style, retrieved the same way

    python -m model.evaluation.eval_corpus --ckpt=model/runs/emoji/ckpt.pt \
        --corpus=.cache/emoji/corpus/emoji-core.jsonl --out=results/emoji64 [--split=val] [--n=0 (all)]
    python -m model.evaluation.eval_corpus --package=packages/emoji64 --precision=fp32,int8 --record \
        --corpus=... --n=200

With --package the network runs in onnxruntime (eval_onnx.OrtModel); --record writes the int8
verdict (no figure more than 2 points below fp32) into the package's manifest.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import torch
from PIL import Image as PILImage
from PIL import ImageFilter

from model.cli import interval, parse
from model.data.corpus import Corpus, load_corpus
from model.data.examples import draw_text
from model.evaluation.evaluate import describe, draw, percent
from model.network.chat import describe_context
from model.network.sequence import image_to_patches
from model.network.tokenizer import Tokenizer
from model.sampling.inference import Runtime

HELD_OUT_STYLE = "fluent"
SEEN_DRAW_SEED = 3  # samples the "draw, seen cells" rows (sweep_corpus_sampler.py tunes on others)


def retrieval_features(images: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 3] -> float32 [N, 16*16*3]: a 1-pixel Gaussian blur, then an area
    resize to 16 x 16, so that retrieval compares layout and colour, not pixel noise."""
    out = []
    for im in images:
        p = PILImage.fromarray(im).filter(ImageFilter.GaussianBlur(1)).resize((16, 16), PILImage.Resampling.BOX)
        out.append(np.asarray(p, dtype=np.float32).reshape(-1) / 255.0)
    return np.stack(out)


def nearest(query: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """Indices [Q, k] of the k nearest pool rows of each query row (squared L2)."""
    d = (query**2).sum(1)[:, None] - 2 * query @ pool.T + (pool**2).sum(1)[None, :]
    return np.argsort(d, axis=1)[:, :k]


def topk_concepts(order: np.ndarray, captions: list[str], k: int) -> list[list[str]]:
    """Pool indices in distance order -> the first k distinct captions of each row."""
    out = []
    for row in order:
        seen: list[str] = []
        for j in row:
            if captions[j] not in seen:
                seen.append(captions[j])
            if len(seen) == k:
                break
        out.append(seen)
    return out


class Pools:
    """Retrieval pools: all real images of each style, and the training images of the
    training styles (what a pixel-space baseline may look at)."""

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.features = retrieval_features(corpus.images)
        self.by_style = {
            s: np.array([i for i in range(len(corpus)) if corpus.styles[i] == s]) for s in corpus.style_names()
        }
        self.train = np.array(corpus.indices("train"))

    def retrieve(self, images: np.ndarray, style: str | None, k: int) -> list[list[str]]:
        pool = self.by_style[style] if style is not None else self.train
        order = nearest(retrieval_features(images), self.features[pool], min(len(pool), 8 * k))
        return topk_concepts(pool[order], self.corpus.captions, k)


@torch.no_grad()
def rank_captions(
    rt: Runtime, tok: Tokenizer, image: np.ndarray, candidates: list[list[int]], k: int, chunk: int = 512
) -> list[int]:
    """Indices of the k candidates (token ids, ending in <eos>) most likely as the answer to
    `describe the image` on this image: the sum of their tokens' log-probabilities."""
    cache, last = rt.prefill([describe_context(tok, image_to_patches(image, rt.cfg.patch_size))])
    first = torch.log_softmax(last[0], -1)
    scores = []
    for s in range(0, len(candidates), chunk):
        part = candidates[s : s + chunk]
        logits, _, _, _ = rt.step(cache.select([0] * len(part)), [ids[:-1] for ids in part])
        logp = torch.log_softmax(logits, -1)
        for r, ids in enumerate(part):
            rest = logp[r, torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum() if len(ids) > 1 else 0.0
            scores.append(float(first[ids[0]] + rest))
    return list(np.argsort(-np.array(scores))[:k])


def rate(hits: list[bool]) -> dict:
    return {"n": len(hits), "accuracy": float(np.mean(hits)) if hits else 0.0}


def sample(rows: list[int], n: int, seed: int = 0) -> list[int]:
    if not n or n >= len(rows):
        return rows
    return sorted(np.random.default_rng(seed).choice(rows, n, replace=False).tolist())


def training_rows(corpus: Corpus) -> tuple[list[str], list[int]]:
    """(the training styles, the rows of the training split in them)."""
    styles = [s for s in corpus.style_names() if s != HELD_OUT_STYLE]
    return styles, [i for i in corpus.indices("train") if corpus.styles[i] in styles]


def held_out_cells(corpus: Corpus, split: str) -> list[int]:
    """The split's rows in a training style: concept x style cells never trained on."""
    styles, _ = training_rows(corpus)
    return [i for i in corpus.indices(split) if corpus.styles[i] in styles]


def draw_rows(
    rt: Runtime, tok: Tokenizer, corpus: Corpus, rows: list[int], steps: int, guidance: float, batch: int = 32
) -> np.ndarray:
    out = []
    for s in range(0, len(rows), batch):
        part = rows[s : s + batch]
        texts = [draw_text(corpus.captions[i], corpus.styles[i]) for i in part]
        out += draw(rt, tok, texts, [1000 + i for i in part], steps, guidance)
    return np.stack(out)


def describe_rows(rt: Runtime, tok: Tokenizer, corpus: Corpus, rows: list[int], batch: int = 64) -> list[str]:
    out = []
    for s in range(0, len(rows), batch):
        out += describe(rt, tok, [corpus.images[i] for i in rows[s : s + batch]])
    return out


def evaluate_corpus(
    rt: Runtime,
    tok: Tokenizer,
    corpus: Corpus,
    split: str,
    n: int,
    steps: int,
    guidance: float,
    rank: bool = True,
    pools: Pools | None = None,
    log=print,
    rank_n: int = 0,
) -> tuple[dict, dict]:
    """Returns (results, pictures). `split` picks the held-out cells (eval or val); `n` caps
    each set (0: all); `rank_n` caps the held-out images whose captions are ranked (0: as n)."""
    pools = pools or Pools(corpus)
    training_styles, train_rows = training_rows(corpus)
    held_cells = held_out_cells(corpus, split)
    fluent = corpus.indices("eval", HELD_OUT_STYLE) if split == "eval" else []
    results: dict = {}
    t0 = time.time()

    # describe, training styles
    rows = sample(train_rows, n, 1)
    answers = describe_rows(rt, tok, corpus, rows)
    results["describe_seen"] = rate([a.strip() == corpus.captions[i] for a, i in zip(answers, rows)])
    log(f"  describe seen {results['describe_seen']['accuracy']:.3f} ({time.time() - t0:.0f}s)")

    # describe, held-out style
    if fluent:
        rows = sample(fluent, n, 2)
        answers = describe_rows(rt, tok, corpus, rows)
        truth = [corpus.captions[i] for i in rows]
        results["describe_heldout_greedy"] = rate([a.strip() == t for a, t in zip(answers, truth)])
        base = pools.retrieve(corpus.images[rows], None, 5)
        results["describe_heldout_baseline_top1"] = rate([b[0] == t for b, t in zip(base, truth)])
        results["describe_heldout_baseline_top5"] = rate([t in b for b, t in zip(base, truth)])
        if rank:  # every candidate caption scored per image: a few seconds an image on a CPU, so it may be capped
            concepts = sorted({corpus.captions[i] for i in train_rows})
            cand = [tok.encode(c) + [tok.eos] for c in concepts]
            some = sample(rows, rank_n, 5)
            ranked = [[concepts[j] for j in rank_captions(rt, tok, corpus.images[i], cand, 5)] for i in some]
            truth_some = [corpus.captions[i] for i in some]
            results["describe_heldout_top1"] = rate([r[0] == t for r, t in zip(ranked, truth_some)])
            results["describe_heldout_top5"] = rate([t in r for r, t in zip(ranked, truth_some)])
            base = pools.retrieve(corpus.images[some], None, 5)  # the baseline on the same images
            results["describe_heldout_baseline_top1_ranked_sample"] = rate(
                [b[0] == t for b, t in zip(base, truth_some)]
            )
            results["describe_heldout_baseline_top5_ranked_sample"] = rate([t in b for b, t in zip(base, truth_some)])
        log(f"  describe held-out done ({time.time() - t0:.0f}s)")

    # draw, seen cells
    rows = sample(train_rows, n, SEEN_DRAW_SEED)
    drawn = draw_rows(rt, tok, corpus, rows, steps, guidance)
    hits = [corpus.captions[i] in r[:1] for i, r in zip(rows, retrieve_each(pools, corpus, drawn, rows, 1))]
    results["draw_seen_top1"] = rate(hits)
    pictures = {"seen": list(zip(rows, drawn, hits))}
    log(f"  draw seen {results['draw_seen_top1']['accuracy']:.3f} ({time.time() - t0:.0f}s)")

    # draw, held-out cells, beside copying the concept from another training style
    rows = sample(held_cells, n, 4)
    if rows:
        drawn = draw_rows(rt, tok, corpus, rows, steps, guidance)
        top5 = retrieve_each(pools, corpus, drawn, rows, 5)
        results["draw_heldout_top5"] = rate([corpus.captions[i] in r for i, r in zip(rows, top5)])
        results["draw_heldout_top1"] = rate([corpus.captions[i] in r[:1] for i, r in zip(rows, top5)])
        results["draw_heldout_copy_top5"] = rate(copy_baseline(pools, corpus, rows, training_styles))
        pictures["heldout"] = list(zip(rows, drawn, [corpus.captions[i] in r for i, r in zip(rows, top5)]))
    results["seconds"] = round(time.time() - t0, 1)
    return results, pictures


def retrieve_each(pools: Pools, corpus: Corpus, drawn: np.ndarray, rows: list[int], k: int) -> list[list[str]]:
    """Each drawing retrieved among the real images of the style it was asked for."""
    out: list[list[str]] = [[] for _ in rows]
    for style in {corpus.styles[i] for i in rows}:
        idx = [j for j, i in enumerate(rows) if corpus.styles[i] == style]
        for j, r in zip(idx, pools.retrieve(drawn[idx], style, k)):
            out[j] = r
    return out


def copy_baseline(pools: Pools, corpus: Corpus, rows: list[int], training_styles: list[str]) -> list[bool]:
    """Per held-out cell: the concept's image from each other training style, retrieved among
    the asked style's images; a hit counts as the fraction of those copies in the top 5."""
    where = {(corpus.captions[i], corpus.styles[i]): i for i in range(len(corpus))}
    hits = []
    for i in rows:
        cap, style = corpus.captions[i], corpus.styles[i]
        others = [where[(cap, s)] for s in training_styles if s != style and (cap, s) in where]
        found = [cap in r for r in pools.retrieve(corpus.images[others], style, 5)] if others else []
        hits.append(float(np.mean(found)) if found else 0.0)
    return hits


def quick_corpus_eval(
    rt: Runtime, tok: Tokenizer, corpus: Corpus, n: int, grid_path: str, title: str
) -> tuple[dict, str]:
    """During training: every figure on small samples, no ranking; validation cells for the
    held-out draws (the evaluation cells only report, at the end). Writes a sample grid."""
    results, pictures = evaluate_corpus(
        rt,
        tok,
        corpus,
        "val",
        n,
        rt.diffusion.default_steps,
        rt.diffusion.default_guidance,
        rank=False,
        log=lambda *_: None,
    )
    fluent = corpus.indices("eval", HELD_OUT_STYLE)
    if fluent:
        rows = sample(fluent, n, 2)
        answers = describe_rows(rt, tok, corpus, rows)
        results["describe_heldout_greedy"] = rate([a.strip() == corpus.captions[i] for a, i in zip(answers, rows)])
    sample_grid(corpus, pictures, grid_path, title)
    return results, summary_line(results)


def summary_line(r: dict) -> str:
    pct = partial(percent, r)
    return (
        f"describe seen {pct('describe_seen')} held-out {pct('describe_heldout_greedy')} "
        f"(ranked top1 {pct('describe_heldout_top1')} top5 {pct('describe_heldout_top5')}; "
        f"pixel NN {pct('describe_heldout_baseline_top1')}"
        f"/{pct('describe_heldout_baseline_top5')}) | draw seen top1 {pct('draw_seen_top1')} held-out top5 "
        f"{pct('draw_heldout_top5')} (copy {pct('draw_heldout_copy_top5')})"
    )


def sample_grid(corpus: Corpus, pictures: dict, path: str, title: str, n: int = 12) -> None:
    """Rows of (prompt, drawn, real): a green frame where retrieval named the concept."""
    from model.evaluation.plots import plt

    def spread(xs: list, k: int) -> list:  # evenly over the list: rows are in corpus order, grouped by category
        return xs if len(xs) <= k else [xs[round(j * (len(xs) - 1) / (k - 1))] for j in range(k)]

    items = spread(pictures.get("seen", []), n // 2 + n % 2) + spread(pictures.get("heldout", []), n // 2)
    if not items:
        return
    cols = 6
    rows = (len(items) + cols // 2 - 1) // (cols // 2)
    fig = plt.figure(figsize=(cols * 1.5, rows * 1.8 + 0.4))
    for k, (i, img, ok) in enumerate(items):
        for j, (pic, label) in enumerate(
            ((img, draw_text(corpus.captions[i], corpus.styles[i])), (corpus.images[i], "real"))
        ):
            ax = fig.add_subplot(rows, cols, 2 * k + j + 1)
            ax.imshow(pic, interpolation="nearest")
            ax.set_title(label if len(label) < 34 else label[:32] + "...", fontsize=5)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                for s in ax.spines.values():
                    s.set_edgecolor("green" if ok else "red")
                    s.set_linewidth(2)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


FIGURES = ("describe_seen", "describe_heldout_greedy", "draw_seen_top1", "draw_heldout_top5")


def compare_precisions(args, corpus: Corpus) -> None:
    from model.evaluation.eval_onnx import load_ort_runtime, record_int8_quality

    configs = []
    pools = Pools(corpus)
    for precision in args.precision.split(","):
        rt, tok, manifest = load_ort_runtime(args.package, precision)
        steps = args.steps or rt.diffusion.default_steps
        guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
        results, _ = evaluate_corpus(rt, tok, corpus, args.split, args.n, steps, guidance, rank=False, pools=pools)
        print(f"{precision}: {summary_line(results)}", flush=True)
        configs.append(
            {
                "precision": precision,
                "guidance_interval": list(rt.diffusion.guidance_interval),
                "steps": steps,
                "guidance": guidance,
                "results": results,
            }
        )
    for row in configs:
        row["delta_points"] = {
            k: round(100 * (row["results"][k]["accuracy"] - configs[0]["results"][k]["accuracy"]), 2)
            for k in FIGURES
            if k in row["results"]
        }
    report = {
        "package": os.path.abspath(args.package),
        "corpus": args.corpus,
        "split": args.split,
        "n_per_direction": args.n,
        "configs": configs,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "quality.json"), "w") as f:
        json.dump(report, f, indent=2)
    if args.record:
        record_int8_quality(args.package, report, split=f"{os.path.basename(args.corpus)} {args.split} cells")


@dataclass
class EvalCorpusArgs:
    corpus: str
    """the corpus manifest (model/data/corpus.py)"""
    ckpt: str | None = None  # a checkpoint to score (or --package)
    package: str | None = None  # score an exported package in onnxruntime instead of a checkpoint
    precision: str = "fp32"  # with --package: comma-separated, fp32 first (fp32,int8)
    record: bool = False  # with --package: record int8's verdict in the manifest
    split: Literal["eval", "val"] = "eval"
    n: int = 0  # cap on each set (0: all)
    steps: int | None = None  # denoising steps (default: the sampler's)
    guidance: float | None = None  # guidance scale (default: the sampler's)
    time_shift: float | None = None  # override the sampler's time shift
    guidance_interval: str | None = None  # override, as lo,hi
    no_rank: bool = False  # skip likelihood ranking of captions
    rank_n: int = 0  # cap on the held-out images ranked (0: as --n)
    device: str = "cpu"  # with --ckpt: where the network runs (cuda on a GPU)
    out: str = "results/corpus-eval"


def main(argv: list[str] | None = None) -> None:
    from model.sample import load_runtime

    args = parse(EvalCorpusArgs, argv, description=__doc__)
    if args.package:
        from model.packaging.manifest import load_manifest

        corpus = load_corpus(args.corpus, load_manifest(args.package)["image"]["width"])
        return compare_precisions(args, corpus)
    if not args.ckpt:
        raise SystemExit("error: --ckpt or --package is required")
    rt, tok = load_runtime(args.ckpt, device=args.device)
    if args.time_shift is not None:
        rt.diffusion.time_shift = args.time_shift
    if args.guidance_interval:
        rt.diffusion.guidance_interval = interval(args.guidance_interval)
    corpus = load_corpus(args.corpus, rt.cfg.image_size)
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    results, pictures = evaluate_corpus(
        rt, tok, corpus, args.split, args.n, steps, guidance, rank=not args.no_rank, rank_n=args.rank_n
    )
    os.makedirs(args.out, exist_ok=True)
    report = {
        "checkpoint": os.path.abspath(args.ckpt),
        "corpus": args.corpus,
        "split": args.split,
        "n_cap": args.n,
        "steps": steps,
        "guidance": guidance,
        "time_shift": rt.diffusion.time_shift,
        "guidance_interval": list(rt.diffusion.guidance_interval),
        "results": results,
    }
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(report, f, indent=2)
    sample_grid(
        corpus,
        pictures,
        os.path.join(args.out, "samples.png"),
        f"{os.path.basename(args.ckpt)}: {steps} steps, g={guidance}",
    )
    print(summary_line(results))
    print(f"wrote {args.out}/results.json and {args.out}/samples.png")


if __name__ == "__main__":
    main()
