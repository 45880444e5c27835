"""Give a denoise-only student's package its teacher's serving graphs (docs/few-step.md, "The
teacher reads").

    python -m model.packaging.join_reader STUDENT_PACKAGE --reader=TEACHER_PACKAGE

A student trained with train.py --distill_reader denoises on the cache its teacher builds: its
own weights run only the image being denoised (model/distill/split.py). Its package keeps the
student's denoise graphs (model.denoise.onnx and model.int8.denoise.onnx, which
model/packaging/quantize.py cut from its export) and takes the teacher's serving graphs
(model.onnx, model.int8.onnx) for every other call: prefill, text decode, reading an image. So
what it says is the teacher's, to the bit, and so is what the package declares of it: its
`conversation` (templates and tasks: a student distilled on draws alone must not declare its
pairs' mix) and its `data_card`. Only `conversation.image_ends_answer` stays the student's, as
its export checked it on the pair (model/evaluation/ends_at_image.py). `graph.split_weights` tells the runtimes that a
denoising step must run on a denoise graph. Refused unless the two are one shape, one tokenizer
and one image layout, and the student has a denoise graph for each of the reader's precisions.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import tyro

from model.cli import parse
from model.packaging.manifest import PackageError, load_manifest, write_manifest

MUST_MATCH = (("model", "config"), ("image",), ("rope",), ("tokenizer",))
# What a manifest written before a field existed means by leaving it out
DEFAULTS = {("rope",): {"image_gap": 0}}


def field(manifest: dict, path: tuple[str, ...]):
    for key in path:
        manifest = manifest.get(key, {})
    return {**DEFAULTS[path], **manifest} if path in DEFAULTS else manifest


def join_reader(package_dir: str, reader_dir: str) -> dict:
    """Replaces the package's serving graphs by the reader's; returns the rewritten manifest."""
    student = load_manifest(package_dir, verify=True)
    reader = load_manifest(reader_dir, verify=True)
    for path in MUST_MATCH:
        if field(student, path) != field(reader, path):
            raise PackageError(f"{reader_dir} and {package_dir} differ in {'.'.join(path)}: not one model's shape")
    tokenizer = student["tokenizer"]["file"]
    if student["files"][tokenizer]["sha256"] != reader["files"][reader["tokenizer"]["file"]]["sha256"]:
        raise PackageError(f"{reader_dir} and {package_dir} have different tokenizers")
    graph = dict(student["graph"])
    variants = graph.get("variants") or {}
    if "denoise_file" not in graph:
        raise PackageError(f"{package_dir} has no fp32 denoise graph (model.packaging.quantize with --fp32-denoise)")
    serving = {graph["file"]: reader["graph"]["file"]}  # ours -> the reader's
    for name, variant in (reader["graph"].get("variants") or {}).items():
        if name not in variants or "denoise_file" not in variants[name]:
            raise PackageError(f"{package_dir} has no {name} denoise graph for the reader's {name} serving graph")
        serving[variants[name]["file"]] = variant["file"]
    for name in variants:
        if name not in (reader["graph"].get("variants") or {}):
            raise PackageError(f"{reader_dir} has no {name} serving graph for the student's {name} denoise graph")
    for ours, theirs in serving.items():
        shutil.copyfile(os.path.join(reader_dir, theirs), os.path.join(package_dir, ours + ".tmp"))
        os.replace(os.path.join(package_dir, ours + ".tmp"), os.path.join(package_dir, ours))
    manifest = {k: v for k, v in student.items() if k != "files"}
    manifest["graph"] = {**graph, "split_weights": True}
    if "data_card" in reader:
        manifest["data_card"] = reader["data_card"]
    if "conversation" in reader:
        conversation = {k: v for k, v in reader["conversation"].items() if k != "image_ends_answer"}
        if student.get("conversation", {}).get("image_ends_answer"):
            conversation["image_ends_answer"] = True
        manifest["conversation"] = conversation
    return write_manifest(package_dir, manifest, list(student["files"]))


@dataclass
class JoinReaderArgs:
    package: tyro.conf.Positional[str]
    """the student's package (its export, quantized with its fp32 denoise graph)"""
    reader: str
    """the teacher's package, whose serving graphs it takes"""


def main(argv: list[str] | None = None) -> None:
    args = parse(JoinReaderArgs, argv, description=__doc__)
    m = join_reader(args.package, args.reader)
    sizes = ", ".join(f"{n} {f['bytes'] / 1e6:.2f} MB" for n, f in m["files"].items())
    print(f"{args.package}: serving graphs from {args.reader}; {sizes}")


if __name__ == "__main__":
    main()
