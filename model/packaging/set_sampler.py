"""Change a model package's default sampler (guidance, time shift, guidance interval), the
evaluation it ships, or whether its answers end at their image, without exporting the graphs
again: the weights and their files stay byte for byte, only manifest.json (and eval.json) change.

    python -m model.packaging.set_sampler packages/shapes64 --default_guidance=5 --time_shift=2 \\
        --guidance_interval=0.8,1 --eval_json=model/runs/ship/eval/results.json
    python -m model.evaluation.ends_at_image --ckpt=packages/shapes64 --out=/tmp/ends.json
    python -m model.packaging.set_sampler packages/shapes64 --ends_at_image=/tmp/ends.json
    python -m model.packaging.set_sampler packages/shapes64 --guidance_by_steps=1=2,2=3,4=3

The package is verified first (every file against its sha256). A precision variant's quality
record (model/evaluation/eval_onnx.py --record) was measured with the old sampler, so it is dropped:
measure it again, or the runtime serves fp32 until it is. Guidance for other step counts than
the default (`--guidance_by_steps`; empty: none) leaves it: that record is of the default steps.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import tyro

from model.cli import interval, parse
from model.packaging.manifest import PackageError, image_ends_answer, load_manifest, write_manifest
from model.packaging.sampling import check_sampling, parse_guidance_by_steps
from model.sampling.diffusion import check_interval


def set_sampler(
    package_dir: str,
    default_guidance: float | None = None,
    time_shift: float | None = None,
    guidance_interval: tuple[float, float] | None = None,
    eval_json: str | None = None,
    ends_at_image: str | None = None,
    guidance_by_steps: str | None = None,
) -> dict:
    manifest = load_manifest(package_dir)
    sampler_changed = any(v is not None for v in (default_guidance, time_shift, guidance_interval))
    diffusion = dict(manifest["diffusion"])
    if default_guidance is not None:
        if default_guidance < 1:
            raise PackageError(f"guidance must be at least 1 (1 is no guidance), got {default_guidance}")
        diffusion["default_guidance"] = default_guidance
    if time_shift is not None:
        if time_shift <= 0:
            raise PackageError(f"time shift must be positive, got {time_shift}")
        diffusion["time_shift"] = time_shift
    if guidance_interval is not None:
        try:
            check_interval(*guidance_interval)
        except ValueError as e:
            raise PackageError(str(e)) from None
        diffusion["guidance_interval"] = list(guidance_interval)
    if guidance_by_steps is not None:
        diffusion.pop("guidance_by_steps", None)
        try:
            chosen = parse_guidance_by_steps(guidance_by_steps)
            if chosen:
                diffusion["guidance_by_steps"] = chosen
            check_sampling(diffusion)
        except ValueError as e:
            raise PackageError(str(e)) from None
    files = list(manifest["files"])
    if eval_json:
        with open(eval_json) as f:
            results = json.load(f)
        with open(os.path.join(package_dir, "eval.json"), "w") as f:
            json.dump(results, f, indent=2)
        if "eval.json" not in files:
            files.append("eval.json")
    graph = dict(manifest["graph"])
    if sampler_changed and "variants" in graph:
        graph["variants"] = {
            name: {k: v for k, v in variant.items() if k != "quality"} for name, variant in graph["variants"].items()
        }
    updated = {k: v for k, v in manifest.items() if k != "files"}
    if ends_at_image:  # the same images either way: the variants' quality records stand
        conversation = {k: v for k, v in manifest.get("conversation", {}).items() if k != "image_ends_answer"}
        if image_ends_answer(ends_at_image, package_dir):
            conversation["image_ends_answer"] = True
        updated["conversation"] = conversation
    return write_manifest(package_dir, {**updated, "diffusion": diffusion, "graph": graph}, files)


@dataclass
class SetSamplerArgs:
    package: tyro.conf.Positional[str]
    """a model package folder"""
    default_guidance: float | None = None
    time_shift: float | None = None
    guidance_interval: str | None = None  # lo,hi
    eval_json: str | None = None  # evaluation results (python -m model.evaluation.eval) to ship as eval.json
    ends_at_image: str | None = None  # a model.evaluation.ends_at_image report of this package: declare what it found
    guidance_by_steps: str | None = None  # "1=2,4=3": a request's default guidance for those steps ("": none)


def main(argv: list[str] | None = None) -> None:
    args = parse(SetSamplerArgs, argv, description=__doc__.split("\n\n")[0])
    m = set_sampler(
        args.package,
        args.default_guidance,
        args.time_shift,
        interval(args.guidance_interval),
        args.eval_json,
        args.ends_at_image,
        args.guidance_by_steps,
    )
    print(json.dumps({"diffusion": m["diffusion"], "conversation": m.get("conversation")}, indent=1))


if __name__ == "__main__":
    main()
