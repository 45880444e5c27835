"""The thesis study (issue 15, docs/thesis.md), at equal compute on the same data:

1. input: images read as raw 8 x 8 patches projected linearly (arm `raw`, as shipped) against
   the codes of a k-means tokenizer of the same patches (`vq256`, `vq1024`, `vq4096`: a learned
   vector per code; `vqp<K>`, optional: the code's patch through the same linear projection),
   scored on understanding (describe), with each tokenizer's reconstruction PSNR;
2. attention: an image's patches attending to each other both ways (`raw`) against causally
   in raster order (`causal`), scored on drawing at the same 10 network evaluations.

Every arm trains with the same steps, batch and Transformer (model/research/train.py, in this process), on
Shapes64 and on the emoji corpus, for each seed; every run is scored on everything, and the
summary reports each figure's mean and spread over seeds.

    python -m model.research.ablate --smoke         # everything, tiny, minutes: proves the pipeline, measures nothing
    python -m model.research.ablate                         # the full study (CPU hours: docs/thesis.md)
    python -m model.research.ablate --data=shapes64         # one data set (run the other beside it on a second core)
    python -m model.research.ablate --arms=raw,causal --seeds=1,2,3,4 --steps=6000

Resumable: a finished tokenizer, run or evaluation is kept and skipped; an interrupted run
continues from its checkpoint. Writes results/thesis/ (tokenizers.json, runs/*.json,
summary-<budget>.json, tables-<budget>.md, grids/*.png); checkpoints under model/runs/thesis/.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import torch

from model.cli import parse
from model.research import vq

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EMOJI_CORPUS = ".cache/emoji/corpus/emoji-core.jsonl"
DATA = ("shapes64", "emoji")
ARMS = ("raw", "vq256", "vq1024", "vq4096", "causal")
# What each study compares, and the figures (results keys) it reads, per data set.
STUDIES = {
    "input": {
        "arms": lambda arms: [a for a in arms if a == "raw" or a.startswith("vq")],
        "figures": {
            "shapes64": ["describe/all", "describe/digit_scenes", "digit_identity", "shape_identity"],
            "emoji": [
                "describe_seen",
                "describe_heldout_greedy",
                "describe_heldout_top1",
                "describe_heldout_top5",
                # the pixel-space baseline on the same images (no model: the same in every arm)
                "describe_heldout_baseline_top1",
                "describe_heldout_baseline_top5",
            ],
        },
    },
    "attention": {
        "arms": lambda arms: [a for a in arms if a in ("raw", "causal")],
        "figures": {
            "shapes64": ["draw/all", "draw/objects"],
            "emoji": ["draw_seen_top1", "draw_heldout_top1", "draw_heldout_top5", "draw_heldout_copy_top5"],
        },
    },
}


@dataclass
class Budget:
    """What every arm gets alike. The full study's defaults: the shipped width and depth
    without the pixel head (whose convolutions see neighbouring patches both ways, which
    would leak past a causal mask), a few thousand steps of batch 32."""

    steps: int = 3000
    batch: int = 32
    lr: float = 1.5e-3
    warmup: int = 200
    threads: int = 1
    model: dict = field(
        default_factory=lambda: {
            "d_model": 256,
            "n_layers": 8,
            "expansion": 512,
            "qk_dim": 128,
            "time_freq_dim": 128,
            "pixel_width": 0,
        }
    )
    augment_fraction: float = 0.5  # emoji describes that read a shifted/scaled/blurred image (as emoji64)
    # tokenizers
    kmeans_iters: int = 300
    kmeans_batch: int = 4096
    kmeans_images: int = 20000  # Shapes64 training scenes (emoji: all its training rows)
    recon_images: int = 1000  # held-out Shapes64 scenes for PSNR (emoji: all eval rows and fluent)
    # evaluation (per set; 0: all)
    eval_shapes: int = 1000  # Shapes64 evaluation scenes per direction
    eval_emoji: int = 300  # cap on each emoji set
    rank: bool = True  # rank the emoji captions by likelihood on the held-out style
    grid_prompts: int = 8


# Model sizes a study can run at (--size). `small` is for a machine that cannot give the study
# its full budget: a quarter of the width-depth product, about a quarter of the CPU a step.
SIZES = {
    "full": Budget().model,
    "small": {"d_model": 128, "n_layers": 4, "expansion": 256, "qk_dim": 64, "time_freq_dim": 64, "pixel_width": 0},
}


def size_name(model: dict) -> str:
    """The size a model config is (a run's name and the summary read it); "custom" for others."""
    return next((name for name, m in SIZES.items() if m == model), "custom")


SMOKE = Budget(
    steps=4,
    batch=4,
    warmup=2,
    model={"d_model": 32, "n_layers": 2, "expansion": 64, "qk_dim": 16, "time_freq_dim": 16, "pixel_width": 0},
    kmeans_iters=6,
    kmeans_batch=512,
    kmeans_images=150,
    recon_images=24,
    eval_shapes=6,
    eval_emoji=6,
    grid_prompts=3,
)


def arm_overrides(arm: str) -> dict:
    """ModelConfig fields of an arm: raw | causal | vq<K> (a table per code) | vqp<K> (projected)."""
    if arm == "raw":
        return {}
    if arm == "causal":
        return {"image_attention": "causal"}
    m = re.fullmatch(r"vq(p?)(\d+)", arm)
    if not m:
        raise SystemExit(f"unknown arm {arm!r}: raw, causal, vq<K> or vqp<K>")
    return {"image_input": "vq", "codebook_size": int(m.group(2)), "vq_embed": "project" if m.group(1) else "table"}


def data_name(data: str) -> str:
    return "shapes64" if data == "shapes64" else "emoji"


class Study:
    def __init__(self, args, budget: Budget):
        self.args, self.budget = args, budget
        self.out, self.runs = args.out, args.runs
        self.emoji_corpus = args.emoji_corpus
        self._corpus = None
        self._pools = None
        for d in ("runs", "grids"):
            os.makedirs(os.path.join(self.out, d), exist_ok=True)

    def log(self, msg: str) -> None:
        print(f"[ablate {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    # --- data ---
    def corpus(self):
        if self._corpus is None:
            from model.data.corpus import load_corpus

            self._corpus = load_corpus(self.emoji_corpus, 64, log=lambda *_: None)
        return self._corpus

    def pools(self):
        if self._pools is None:
            from model.evaluation.eval_corpus import Pools

            self._pools = Pools(self.corpus())
        return self._pools

    def tokenizer_data(self, data: str) -> str:
        return "shapes64" if data == "shapes64" else self.emoji_corpus

    # --- tokenizers ---
    def tokenizer_path(self, data: str, k: int) -> str:
        return os.path.join(self.runs, "tokenizers", f"{data}-k{k}.npz")

    def tokenizers(self, data: str, ks: list[int]) -> dict:
        """Fits (or reuses) each codebook and measures its reconstruction on held-out images."""
        b = self.budget
        held = self.held_out_images(data)
        report, images = {}, None
        n = b.kmeans_images if data == "shapes64" else (b.kmeans_images if self.args.smoke else 0)
        for k in ks:
            path = self.tokenizer_path(data, k)
            if not os.path.exists(path):
                if images is None:  # rendered once for every K
                    images = vq.training_images(self.tokenizer_data(data), n)
                self.log(f"{data}: fitting the k-means tokenizer, K = {k}, on {len(images)} training images")
                vq.fit(
                    self.tokenizer_data(data), k, path, n, b.kmeans_iters, b.kmeans_batch, log=self.log, images=images
                )
            meta = vq.load_meta(path)
            cb = vq.load_codebook(path)
            recon = {name: vq.reconstruction_report(images, cb, 8, mask) for name, (images, mask) in held.items()}
            report[str(k)] = {
                "file": os.path.relpath(path, ROOT),
                **{m: meta[m] for m in ("train_images", "train_patches", "iterations", "batch", "seconds")},
                "mse_first": meta["history"][0]["mse"],
                "mse_last": meta["history"][-1]["mse"],
                "reconstruction": recon,
            }
            self.log(f"{data} K={k}: " + ", ".join(f"{n} {r['psnr_db']:.1f} dB" for n, r in recon.items()))
        report["reference: each patch's mean colour"] = {
            "reconstruction": {name: vq.mean_colour_report(images, 8, mask) for name, (images, mask) in held.items()}
        }
        self.reconstruction_grid(data, ks, held)
        return report

    def held_out_images(self, data: str) -> dict:
        """name -> (uint8 images, optional pixel mask) never used to fit a tokenizer."""
        n = self.budget.recon_images
        if data == "shapes64":
            from model.data.shapes64 import EVAL_SEEDS

            seeds = range(EVAL_SEEDS[0], EVAL_SEEDS[0] + n)
            return {
                "shapes64 eval scenes (masked: digit pixels)": (
                    vq.shapes64_images(seeds),
                    vq.shapes64_digit_pixels(seeds),
                )
            }
        from model.evaluation.eval_corpus import HELD_OUT_STYLE

        c = self.corpus()
        cells = [i for i in c.indices("eval") if c.styles[i] != HELD_OUT_STYLE]
        fluent = c.indices("eval", HELD_OUT_STYLE)
        if self.args.smoke:
            cells, fluent = cells[:n], fluent[:n]
        return {
            "emoji held-out cells (training styles)": (c.images[cells], None),
            f"emoji held-out style ({HELD_OUT_STYLE})": (c.images[fluent], None),
        }

    def reconstruction_grid(self, data: str, ks: list[int], held: dict) -> None:
        from model.evaluation.plots import plt

        images = np.concatenate([im[:4] for im, _ in held.values()])[:8]
        cols = [("original", images)] + [
            (f"K = {k}", vq.reconstruct(images, vq.load_codebook(self.tokenizer_path(data, k)), 8)) for k in ks
        ]
        fig, axes = plt.subplots(
            len(images), len(cols), figsize=(1.3 * len(cols), 1.3 * len(images) + 0.3), squeeze=False
        )
        for j, (title, ims) in enumerate(cols):
            for i, im in enumerate(ims):
                ax = axes[i][j]
                ax.imshow(im, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(title, fontsize=7)
        fig.suptitle(f"{data}: held-out images through the k-means tokenizer", fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(self.out, "grids", f"{data}-tokenizers.png"), dpi=110)
        plt.close(fig)

    # --- training ---
    def run_dir(self, data: str, arm: str, seed: int) -> str:
        return os.path.join(self.runs, self.run_name(data, arm, seed))

    def budget_tag(self) -> str:
        """`<steps>x<batch>`, and the model size unless full: in every run's and grid's name."""
        size = size_name(self.budget.model)
        return f"{self.budget.steps}x{self.budget.batch}" + ("" if size == "full" or self.args.smoke else f"-{size}")

    def run_name(self, data: str, arm: str, seed: int) -> str:
        """Names carry the budget, so a run at another budget is never taken for this one's."""
        return f"{data}-{arm}-s{seed}-{self.budget_tag()}"

    def train(self, data: str, arm: str, seed: int) -> dict:
        """Trains one arm (resumes an interrupted run); returns its CPU and wall seconds."""
        from model.research import train

        b, run = self.budget, self.run_dir(data, arm, seed)
        ckpt = os.path.join(run, "ckpt.pt")
        if os.path.exists(ckpt) and torch.load(ckpt, weights_only=False, map_location="cpu")["step"] >= b.steps:
            return self.read_timing(run)
        over = {**b.model, **arm_overrides(arm)}
        argv = [
            f"--out_dir={run}",
            f"--max_steps={b.steps}",
            "--minutes=1e9",
            f"--batch_size={b.batch}",
            f"--lr={b.lr}",
            f"--warmup={b.warmup}",
            f"--lr_decay_steps={b.steps}",
            f"--eval_every={10**9}",
            "--eval_n=2",
            f"--ckpt_every={max(1, min(200, b.steps))}",
            f"--threads={b.threads}",
            f"--seed={seed}",
            "--bf16=false",
            *[f"--model.{k}={json.dumps(v)}" for k, v in over.items()],
        ]
        if over.get("image_input") == "vq":
            argv.append(f"--vq_codebook={self.tokenizer_path(data, over['codebook_size'])}")
        if data == "emoji":
            argv += [f"--corpus={self.emoji_corpus}", f"--augment_fraction={b.augment_fraction}"]
        self.log(f"train {data} {arm} seed {seed}: {b.steps} steps of batch {b.batch}")
        cpu0, wall0 = time.process_time(), time.time()
        train.main(argv)
        timing = {
            "train_cpu_seconds": round(time.process_time() - cpu0, 1),
            "train_wall_seconds": round(time.time() - wall0, 1),
        }
        with open(os.path.join(run, "timing.json"), "w") as f:
            json.dump(timing, f)
        return timing

    @staticmethod
    def read_timing(run: str) -> dict:
        p = os.path.join(run, "timing.json")
        return json.load(open(p)) if os.path.exists(p) else {}

    # --- evaluation ---
    def evaluate(self, data: str, arm: str, seed: int, timing: dict) -> dict:
        from model.research.network import load_runtime

        path = os.path.join(self.out, "runs", self.run_name(data, arm, seed) + ".json")
        if os.path.exists(path):
            return json.load(open(path))
        ckpt = os.path.join(self.run_dir(data, arm, seed), "ckpt.pt")
        rt, tok = load_runtime(ckpt)
        ck = torch.load(ckpt, weights_only=False, map_location="cpu")
        steps, guidance = rt.diffusion.default_steps, rt.diffusion.default_guidance
        self.log(f"evaluate {data} {arm} seed {seed} ({steps} network evaluations a drawing, guidance {guidance})")
        t0, cpu0 = time.time(), time.process_time()
        grid = os.path.join(self.run_dir(data, arm, seed), "eval-samples.png")
        if data == "shapes64":
            results = self.score_shapes64(rt, tok, steps, guidance, grid)
        else:  # ranking the captions (the costliest figure) serves the input study only
            results = self.score_emoji(
                rt, tok, steps, guidance, grid, rank=self.budget.rank and arm in STUDIES["input"]["arms"]([arm])
            )
        record = {
            "data": data,
            "arm": arm,
            "seed": seed,
            "smoke": self.args.smoke,
            "steps": ck["step"],
            "batch": ck["train_config"]["batch_size"],
            "model_config": ck["model_config"],
            "parameters": sum(p.numel() for p in rt.model.parameters()),
            "sampler": {
                "steps": steps,
                "guidance": guidance,
                "guidance_interval": list(rt.diffusion.guidance_interval),
                "time_shift": rt.diffusion.time_shift,
            },
            **timing,
            "eval_wall_seconds": round(time.time() - t0, 1),
            "eval_cpu_seconds": round(time.process_time() - cpu0, 1),
            "results": results,
        }
        write_json(path, record)
        return record

    def score_shapes64(self, rt, tok, steps: int, guidance: float, grid: str) -> dict:
        from model.data.shapes64 import CELLS, eval_split
        from model.evaluation.evaluate import evaluate
        from model.evaluation.plots import sample_grid
        from model.evaluation.score import GEOMETRIC, kinds_by_cell, score_digits

        results, examples = evaluate(rt, tok, eval_split(self.budget.eval_shapes), steps, guidance)
        out = {
            k: v
            for k, v in results.items()
            if k in ("draw/all", "describe/all", "draw/1", "draw/2", "draw/3", "describe/1", "describe/2", "describe/3")
        }
        if "draw/all" in results:
            d = results["draw/all"]
            out["draw/objects"] = {"n": d["n"], "accuracy": d["object_accuracy"]}
        described = [(c, a, ok) for kind, c, a, ok in examples if kind == "describe"]
        digit_scenes = [(c, a, ok) for c, a, ok in described if any(o.kind not in GEOMETRIC for o in c.scene.objects)]
        out["describe/digit_scenes"] = {
            "n": len(digit_scenes),
            "accuracy": float(np.mean([ok for *_, ok in digit_scenes])) if digit_scenes else 0.0,
        }
        digits = [score_digits(a, c.scene) for c, a, _ in described]
        n_digits = sum(d["digits"] for d in digits)
        out["digit_identity"] = {"n": n_digits, "accuracy": sum(d["digits_right"] for d in digits) / max(1, n_digits)}
        shapes = [
            (kinds_by_cell(a).get(CELLS[o.cell]) == o.kind)
            for c, a, _ in described
            for o in c.scene.objects
            if o.kind in GEOMETRIC
        ]
        out["shape_identity"] = {"n": len(shapes), "accuracy": float(np.mean(shapes)) if shapes else 0.0}
        sample_grid(examples, grid, title=os.path.basename(os.path.dirname(grid)))
        return out

    def score_emoji(self, rt, tok, steps: int, guidance: float, grid: str, rank: bool) -> dict:
        from model.evaluation.eval_corpus import evaluate_corpus, sample_grid

        b = self.budget
        results, pictures = evaluate_corpus(
            rt, tok, self.corpus(), "eval", b.eval_emoji, steps, guidance, rank=rank, pools=self.pools(), log=self.log
        )
        sample_grid(self.corpus(), pictures, grid, os.path.basename(os.path.dirname(grid)))
        return results

    # --- pictures across arms ---
    def draw_comparison(self, data: str, arms: list[str], seed: int) -> None:
        """The same prompts and starting noise drawn by each arm's model (first seed's runs)."""
        from model.evaluation.evaluate import draw
        from model.evaluation.plots import plt
        from model.research.network import load_runtime

        n = self.budget.grid_prompts
        if data == "shapes64":
            from model.data.shapes64 import eval_split

            prompts = [
                (c.scene.caption(), c.scene.caption(), c.scene.render()) for c in eval_split(n) if c.direction == "draw"
            ][:n]
        else:
            from model.data.examples import draw_text
            from model.evaluation.eval_corpus import sample

            c = self.corpus()
            rows = sample([i for i in c.indices("eval") if c.styles[i] != "fluent"], n, 4)
            prompts = [
                (f"{c.captions[i]} ({c.styles[i]})", draw_text(c.captions[i], c.styles[i]), c.images[i]) for i in rows
            ]
        columns = []
        for arm in arms:
            rt, tok = load_runtime(os.path.join(self.run_dir(data, arm, seed), "ckpt.pt"))
            columns.append(
                (
                    arm,
                    draw(
                        rt,
                        tok,
                        [p[1] for p in prompts],
                        list(range(len(prompts))),
                        rt.diffusion.default_steps,
                        rt.diffusion.default_guidance,
                    ),
                )
            )
        columns.append(("real", [p[2] for p in prompts]))
        fig, axes = plt.subplots(
            len(prompts), len(columns), figsize=(1.4 * len(columns) + 2.2, 1.4 * len(prompts) + 0.3), squeeze=False
        )
        for i, (label, _, _) in enumerate(prompts):
            for j, (name, ims) in enumerate(columns):
                ax = axes[i][j]
                ax.imshow(ims[i], interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(name, fontsize=7)
            axes[i][0].set_ylabel(label.replace(" and ", "\n")[:100], fontsize=5, rotation=0, ha="right", va="center")
        fig.suptitle(
            f"{data}: the same prompts and noise, seed {seed}, {self.budget.steps} steps"
            f"{' (SMOKE)' if self.args.smoke else ''}",
            fontsize=8,
        )
        fig.tight_layout()
        fig.savefig(os.path.join(self.out, "grids", f"{data}-draw-{'-'.join(arms)}-{self.budget_tag()}.png"), dpi=110)
        plt.close(fig)


def arm_order(arm: str) -> tuple:
    """raw first, then the tokenizers by codebook size (table before projected), then causal."""
    if arm == "raw":
        return (0, 0, "")
    if arm == "causal":
        return (2, 0, "")
    o = arm_overrides(arm)
    return (1, o["codebook_size"], o["vq_embed"] != "table")


ARM_LABELS = {
    "raw": "raw (as shipped: raw patches, bidirectional)",
    "causal": "causal (raw patches, causal in-image attention)",
}


def arm_label(arm: str) -> str:
    if arm in ARM_LABELS:
        return ARM_LABELS[arm]
    o = arm_overrides(arm)
    embed = "a learned vector per code" if o["vq_embed"] == "table" else "code patch through patch_in"
    return f"{arm} (k-means K = {o['codebook_size']}, {embed})"


def same_size(model_config: dict, model: dict) -> bool:
    """Whether a run's saved config has the budget's Transformer (its width, depth and heads)."""
    return all(model_config.get(k, v) == v for k, v in model.items())


def write_json(path: str, obj) -> None:
    """Atomic: a process reading the results beside a running one never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def spread(values: list[float]) -> dict:
    a = np.array(values, dtype=float)
    return {
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
        "min": float(a.min()),
        "max": float(a.max()),
        "values": [float(v) for v in a],
    }


def summarize(records: list[dict], tokenizers: dict, budget: Budget, smoke: bool) -> dict:
    summary = {"smoke": smoke, "budget": asdict(budget), "tokenizers": tokenizers, "studies": {}}
    for study, spec in STUDIES.items():
        table = {}
        for data in DATA:
            rows = [r for r in records if r["data"] == data]
            arms = sorted(spec["arms"](list(dict.fromkeys(r["arm"] for r in rows))), key=arm_order)
            if len(arms) < 2:
                continue
            table[data] = {}
            for arm in arms:
                mine = [r for r in rows if r["arm"] == arm]
                table[data][arm] = {
                    "seeds": [r["seed"] for r in mine],
                    "parameters": mine[0]["parameters"],
                    **{
                        f: spread([r["results"][f]["accuracy"] for r in mine])
                        for f in spec["figures"][data]
                        if all(f in r["results"] for r in mine)
                    },
                    "n": {f: mine[0]["results"][f]["n"] for f in spec["figures"][data] if f in mine[0]["results"]},
                }
        summary["studies"][study] = table
    return summary


def cell(figure: dict) -> str:
    """A figure as a table cell, in %: mean ± sample std over seeds; one seed has no spread to show."""
    if len(figure["values"]) < 2:
        return f"{100 * figure['mean']:.1f}"
    return f"{100 * figure['mean']:.1f} ± {100 * figure['std']:.1f}"


def tables_md(summary: dict) -> str:
    """The summary as Markdown tables (docs/thesis.md quotes them)."""
    lines = []
    if summary["smoke"]:
        lines += [
            (
                "**SMOKE RUN: a tiny model trained a few steps. "
                "These numbers prove the pipeline runs; they measure nothing.**"
            ),
            "",
        ]
    b = summary["budget"]
    lines += [f"Budget: {b['steps']} steps of batch {b['batch']}, model {b['model']}, seeds per arm as listed.", ""]
    for data, ks in summary["tokenizers"].items():
        sets = list(next(iter(ks.values()))["reconstruction"])
        lines += [
            f"### Tokenizers, {data}: reconstruction PSNR (dB) on held-out images",
            "",
            "| K | " + " | ".join(sets) + " | codes used |",
            "|---|" + "---|" * (len(sets) + 1),
        ]
        for k, rep in ks.items():
            cells = []
            for s in sets:
                r = rep["reconstruction"][s]
                cells.append(
                    f"{r['psnr_db']:.1f}" + (f" (masked {r['psnr_masked_db']:.1f})" if "psnr_masked_db" in r else "")
                )
            used = rep["reconstruction"][sets[0]].get("codes_used")
            lines.append(f"| {k} | " + " | ".join(cells) + f" | {f'{used} of {k}' if used is not None else '-'} |")
        lines.append("")
    for study, table in summary["studies"].items():
        for data, arms in table.items():
            figures = [f for f in STUDIES[study]["figures"][data] if any(f in a for a in arms.values())]
            lines += [
                f"### Study: {study}, {data} (accuracy %, mean ± sample std over seeds; one seed: its value)",
                "",
                "| arm | seeds | parameters | "
                + " | ".join(f"{f} (n={next(iter(arms.values()))['n'].get(f, '?')})" for f in figures)
                + " |",
                "|---|---|---|" + "---|" * len(figures),
            ]
            for arm, row in arms.items():
                cells = [cell(row[f]) if f in row else "-" for f in figures]
                lines.append(
                    f"| {arm_label(arm)} | {','.join(map(str, row['seeds']))} | {row['parameters'] / 1e6:.2f}M | "
                    + " | ".join(cells)
                    + " |"
                )
            lines.append("")
    return "\n".join(lines)


@dataclass
class AblateArgs:
    smoke: bool = False  # a tiny model, a few steps, small evaluations: minutes
    data: str = ",".join(DATA)  # shapes64,emoji
    arms: str = ",".join(ARMS)  # raw, causal, vq<K>, vqp<K> (comma-separated)
    seeds: str = "1,2,3"
    steps: int | None = None
    batch: int | None = None
    threads: int | None = None
    size: Literal["full", "small"] | None = (
        None  # the Transformer every arm gets (default full: the shipped width and depth)
    )
    eval_shapes: int | None = None
    eval_emoji: int | None = None
    no_rank: bool = False  # skip ranking the emoji captions by likelihood
    # tokenizers: fit and measure them only (do this first when several processes share the runs);
    # runs: train and evaluate; summary: tables from the results on disk
    stage: Literal["all", "tokenizers", "runs", "summary"] = "all"
    emoji_corpus: str = EMOJI_CORPUS
    out: str | None = None  # results folder (default results/thesis, smoke: results/thesis-smoke)
    runs: str | None = None  # checkpoints and tokenizers (default model/runs/thesis[-smoke])


def main(argv: list[str] | None = None) -> None:
    args = parse(AblateArgs, argv, description=__doc__)
    os.chdir(ROOT)
    budget = Budget() if not args.smoke else SMOKE
    for key in ("steps", "batch", "threads", "eval_shapes", "eval_emoji"):
        if getattr(args, key) is not None:
            setattr(budget, key, getattr(args, key))
    if args.size:
        budget.model = dict(SIZES[args.size])
    if args.no_rank:
        budget.rank = False
    args.out = args.out or ("results/thesis-smoke" if args.smoke else "results/thesis")
    args.runs = args.runs or ("model/runs/thesis-smoke" if args.smoke else "model/runs/thesis")
    datas = [d for d in args.data.split(",") if d]
    arms = [a for a in args.arms.split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    for d in datas:
        if d not in DATA:
            raise SystemExit(f"unknown data set {d!r}: {', '.join(DATA)}")
    for a in arms:
        arm_overrides(a)
    if "emoji" in datas and not os.path.exists(args.emoji_corpus):
        raise SystemExit(f"{args.emoji_corpus} is missing: build it with .venv/bin/python -m model.data.corpus_emoji")
    torch.set_flush_denormal(True)
    torch.set_num_threads(budget.threads)
    study = Study(args, budget)
    t0 = time.time()
    ks = sorted({arm_overrides(a)["codebook_size"] for a in arms if a.startswith("vq")})
    tok_path = os.path.join(args.out, "tokenizers.json")
    tokenizers = json.load(open(tok_path)) if os.path.exists(tok_path) else {}
    if args.stage in ("all", "tokenizers"):
        for d in datas:
            if ks:
                tokenizers[d] = study.tokenizers(d, ks)
                write_json(tok_path, tokenizers)
    if args.stage in ("all", "runs"):
        missing = [
            study.tokenizer_path(d, k) for d in datas for k in ks if not os.path.exists(study.tokenizer_path(d, k))
        ]
        if missing:
            raise SystemExit(f"no tokenizer at {', '.join(missing)}: fit them first (--stage=tokenizers)")
        for d in datas:
            for seed in seeds:
                for arm in arms:
                    timing = study.train(d, arm, seed)
                    study.evaluate(d, arm, seed, timing)
            draw_arms = [a for a in ("raw", "causal") if a in arms]
            if draw_arms:
                study.draw_comparison(d, draw_arms, seeds[0])
    if args.stage == "tokenizers":
        return
    # Every result file on disk counts (a data set run earlier or beside this one), this budget's only.
    records = []
    for name in sorted(n for n in os.listdir(os.path.join(args.out, "runs")) if n.endswith(".json")):
        r = json.load(open(os.path.join(args.out, "runs", name)))
        if r["steps"] == budget.steps and r["batch"] == budget.batch and same_size(r["model_config"], budget.model):
            records.append(r)
    summary = summarize(records, tokenizers, budget, args.smoke)
    summary["seconds_this_invocation"] = round(time.time() - t0, 1)
    # one summary per budget, so tabulating one budget never overwrites another's
    tag = study.budget_tag()
    write_json(os.path.join(args.out, f"summary-{tag}.json"), summary)
    with open(os.path.join(args.out, f"tables-{tag}.md"), "w") as f:
        f.write(tables_md(summary) + "\n")
    print(tables_md(summary))
    study.log(f"done in {time.time() - t0:.0f}s: {args.out}/summary-{tag}.json, tables-{tag}.md, runs/, grids/")


if __name__ == "__main__":
    main()
