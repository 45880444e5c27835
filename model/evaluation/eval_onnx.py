"""Score an exported package's ONNX graph (fp32 or a variant such as int8) on the evaluation
split, with the same scoring as model/evaluation/eval.py, to check that a cheaper step keeps quality.

    python -m model.evaluation.eval_onnx --package=packages/shapes64 --n=100 --precision=fp32,int8
    python -m model.evaluation.eval_onnx --package=packages/shapes64 --n=100 --precision=int8 \
        --guidance_interval=0,1 --guidance_interval=0.5,1
    python -m model.evaluation.eval_onnx --package=packages/shapes64 --n=250 --precision=fp32,int8 --record

Every combination of --precision, --guidance_interval and --steps is scored on the same
conversations; the first is the baseline, and the others are reported as a difference in
points from it. The network runs in onnxruntime (as the TypeScript runtime does); the
sampler, the cache and the decoding are model/sampling/inference.py's Runtime, unchanged: only the
forward call is swapped for the session.

With --record, the int8 variant's result against fp32 (same interval and steps as the
baseline) is written into the package's manifest as `graph.variants.int8.quality`; the
TypeScript runtime runs int8 by default on the CPU only when it says `accepted` (no accuracy
more than 2 points below fp32).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import onnxruntime as ort
import torch
import tyro

from model import cli
from model.cli import parse
from model.data.shapes64 import eval_split
from model.distill.split import SplitModel
from model.evaluation.evaluate import evaluate, summary_line
from model.network.tokenizer import Tokenizer
from model.network.transformer import ModelConfig
from model.packaging.manifest import load_manifest, write_manifest
from model.packaging.sampling import sampler_guidance
from model.sample import load_runtime
from model.sampling.diffusion import DiffusionConfig
from model.sampling.inference import Runtime

INPUTS = ["tokens", "patches", "is_image", "noise_level", "positions", "attention_mask", "past_keys", "past_values"]


class OrtModel:
    """Stands in for UnifiedModel inside inference.Runtime: same call, same outputs, ONNX inside."""

    def __init__(self, session: ort.InferenceSession, cfg: ModelConfig):
        self.session = session
        self.cfg = cfg
        self.outputs = [o.name for o in session.get_outputs()]  # a denoise graph has `denoised` alone

    def eval(self) -> OrtModel:
        return self

    def empty_cache(self, batch: int, device=None, dtype=torch.float32):
        cfg = self.cfg
        return (
            torch.zeros(cfg.n_layers, batch, 0, cfg.qk_dim, dtype=dtype),
            torch.zeros(cfg.n_layers, batch, 0, cfg.expansion, dtype=dtype),
        )

    def __call__(self, tokens, patches, is_image, noise_level, positions, attention_mask, past_keys, past_values):
        feeds = {
            "tokens": tokens.numpy().astype(np.int64),
            "patches": patches.numpy().astype(np.float32),
            "is_image": is_image.numpy().astype(np.float32),
            "noise_level": noise_level.numpy().astype(np.float32),
            "positions": positions.numpy().astype(np.int64),
            "attention_mask": attention_mask.numpy().astype(np.float32),
            "past_keys": np.ascontiguousarray(past_keys.numpy(), dtype=np.float32),
            "past_values": np.ascontiguousarray(past_values.numpy(), dtype=np.float32),
        }
        out = {n: torch.from_numpy(v) for n, v in zip(self.outputs, self.session.run(None, feeds))}
        if self.outputs == ["denoised"]:  # a denoise graph: a step's logits and cache are never read after it
            return tokens.new_zeros((*tokens.shape, 0), dtype=torch.float32), out["denoised"], past_keys, past_values
        return out["logits"], out["denoised"], out["present_keys"], out["present_values"]


def graph_file(manifest: dict, precision: str, key: str = "file") -> str:
    """The precision's serving graph (`key` "denoise_file": its denoise cut)."""
    if precision == "fp32":
        return manifest["graph"][key]
    variants = manifest["graph"].get("variants") or {}
    if precision not in variants:
        raise SystemExit(
            f"the package has no {precision} graph: run python -m model.packaging.quantize <package> first"
        )
    return variants[precision][key]


def diffusion_config(manifest: dict, interval: tuple[float, float] | None) -> DiffusionConfig:
    d = manifest["diffusion"]
    return DiffusionConfig(
        default_steps=d["default_steps"],
        default_guidance=sampler_guidance(d),
        time_shift=d["time_shift"],
        guidance_interval=tuple(interval if interval is not None else d["guidance_interval"]),
    )


def load_ort_runtime(
    package_dir: str, precision: str = "fp32", interval: tuple[float, float] | None = None, threads: int = 0
) -> tuple[Runtime, Tokenizer, dict]:
    manifest = load_manifest(package_dir, verify=True)
    cfg = ModelConfig(**manifest["model"]["config"])
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads

    def model(key: str) -> OrtModel:
        path = os.path.join(package_dir, graph_file(manifest, precision, key))
        return OrtModel(ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"]), cfg)

    # A student's denoise graph holds its own weights, run on the serving graph's cache (distill/split.py).
    net = SplitModel(model("file"), model("denoise_file")) if manifest["graph"].get("split_weights") else model("file")
    tok = Tokenizer.load(os.path.join(package_dir, manifest["tokenizer"]["file"]))
    runtime = Runtime(net, manifest["tokenizer"]["special_tokens"]["pad"], diffusion_config(manifest, interval))
    return runtime, tok, manifest


def load_scored_runtime(path: str, precision: str | None = None) -> tuple[Runtime, Tokenizer]:
    """A model to score: a checkpoint or package folder in PyTorch, or with `precision` (fp32,
    int8) a package's ONNX graph in onnxruntime, as the workers run it."""
    if not precision:
        return load_runtime(path)
    if not os.path.isdir(path):
        raise SystemExit(f"--precision scores a package folder's ONNX graph; {path} is not one")
    rt, tok, _ = load_ort_runtime(path, precision)
    return rt, tok


def guided_steps(grid_steps: int, shift: float, interval: tuple[float, float], guidance: float) -> int:
    """Steps (of grid_steps) that carry the unconditional row: the cost of guidance."""
    from model.sampling.diffusion import guidance_applies, time_grid

    cfg = DiffusionConfig(guidance_interval=interval)
    return sum(guidance_applies(t, guidance, cfg) for t in time_grid(grid_steps, shift)[:-1])


@dataclass
class EvalOnnxArgs:
    package: str
    """a model package folder"""
    n: int = 100  # conversations per direction
    precision: str = "fp32"  # comma-separated: fp32,int8
    # lo,hi (repeat the option for several); default: the manifest's
    guidance_interval: Annotated[list[str], tyro.conf.UseAppendAction] = field(default_factory=list)
    steps: str | None = None  # comma-separated step counts; default: the manifest's
    guidance: float | None = None
    threads: int = 0
    batch_size: int = 32
    out: str = "results/quality.json"
    record: bool = False  # write the int8-vs-fp32 verdict into the package manifest (graph.variants.int8.quality)


def main(argv: list[str] | None = None) -> None:
    args = parse(EvalOnnxArgs, argv, description=__doc__)

    manifest = load_manifest(args.package, verify=True)
    d = manifest["diffusion"]
    guidance = sampler_guidance(d) if args.guidance is None else args.guidance
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    intervals = [cli.interval(v) for v in args.guidance_interval] or [tuple(d["guidance_interval"])]
    steps_list = [int(s) for s in args.steps.split(",")] if args.steps else [d["default_steps"]]
    convs = eval_split(args.n)
    rows = []
    for precision, interval, steps in itertools.product(precisions, intervals, steps_list):
        rt, tok, _ = load_ort_runtime(args.package, precision, interval, args.threads)
        t0 = time.time()
        results, _ = evaluate(rt, tok, convs, steps, guidance, batch_size=args.batch_size)
        seconds = time.time() - t0
        row = {
            "precision": precision,
            "guidance_interval": list(interval),
            "steps": steps,
            "guidance": guidance,
            "guided_steps": guided_steps(steps, d["time_shift"], interval, guidance),
            "network_rows_per_image": steps + guided_steps(steps, d["time_shift"], interval, guidance),
            "seconds": round(seconds, 1),
            "results": results,
        }
        rows.append(row)
        print(
            f"{precision} interval={list(interval)} steps={steps}: {summary_line(results)} ({seconds:.0f} s)",
            flush=True,
        )
    base = rows[0]["results"]
    for row in rows:
        row["delta_points"] = {
            k: round(100 * (row["results"][k]["accuracy"] - base[k]["accuracy"]), 2)
            for k in ("draw/all", "describe/all")
            if k in row["results"] and k in base
        }
    report = {
        "package": os.path.abspath(args.package),
        "package_name": manifest.get("name"),
        "n_per_direction": args.n,
        "baseline": {k: rows[0][k] for k in ("precision", "guidance_interval", "steps")},
        "rule": "a variant is acceptable when no accuracy drops more than 2 points below the baseline",
        "configs": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"{'config':<34} {'draw':>7} {'describe':>9} {'d draw':>7} {'d desc':>7} {'rows/img':>8}")
    for row in rows:
        name = f"{row['precision']} g{row['guidance_interval']} s{row['steps']}"
        dd = row["delta_points"]
        print(
            f"{name:<34} {accuracy(row, 'draw/all'):>7} {accuracy(row, 'describe/all'):>9} "
            f"{dd.get('draw/all', 0):>+7.1f} "
            f"{dd.get('describe/all', 0):>+7.1f} {row['network_rows_per_image']:>8}"
        )
    print(f"wrote {args.out}")
    if args.record:
        record_int8_quality(args.package, report)


def accuracy(row: dict, key: str) -> str:
    """A configuration's accuracy on key in percent for the table; "-" when it has none."""
    return f"{100 * row['results'][key]['accuracy']:.1f}" if key in row["results"] else "-"


MAX_DROP_POINTS = 2.0


def record_int8_quality(package_dir: str, report: dict, split: str = "Shapes64 evaluation split") -> None:
    """graph.variants.int8.quality := int8 against the fp32 baseline at the same settings.
    `report`: {n_per_direction, configs: [{precision, guidance_interval, steps, results, delta_points}]}."""
    rows = report["configs"]
    base = rows[0]
    same = [
        r
        for r in rows
        if r["precision"] == "int8"
        and r["guidance_interval"] == base["guidance_interval"]
        and r["steps"] == base["steps"]
    ]
    if base["precision"] != "fp32" or not same:
        raise SystemExit("--record needs fp32 first and an int8 config at the same interval and steps")
    int8 = same[0]
    drops = {k: -v for k, v in int8["delta_points"].items()}
    worst = max([0.0, *drops.values()])
    quality = {
        "split": split,
        "n_per_direction": report["n_per_direction"],
        "guidance_interval": base["guidance_interval"],
        "steps": base["steps"],
        "fp32": {k: round(100 * base["results"][k]["accuracy"], 2) for k in int8["delta_points"]},
        "int8": {k: round(100 * int8["results"][k]["accuracy"], 2) for k in int8["delta_points"]},
        "worst_drop_points": round(worst, 2),
        "max_drop_points": MAX_DROP_POINTS,
        "accepted": worst <= MAX_DROP_POINTS,
    }
    manifest = load_manifest(package_dir, verify=True)
    variants = dict(manifest["graph"].get("variants") or {})
    if "int8" not in variants:
        raise SystemExit("the package has no int8 variant to record")
    variants["int8"] = {**variants["int8"], "quality": quality}
    manifest = {**manifest, "graph": {**manifest["graph"], "variants": variants}}
    files = list(manifest.pop("files"))
    write_manifest(package_dir, manifest, files)
    print(
        f"recorded in {package_dir}/manifest.json: int8 {'accepted' if quality['accepted'] else 'NOT accepted'} "
        f"(worst drop {quality['worst_drop_points']} points)"
    )


if __name__ == "__main__":
    main()
