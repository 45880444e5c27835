"""Add cheaper serving graphs to a model package (cheaper denoising steps on CPU).

    python -m model.packaging.quantize packages/shapes64          # writes the files below, updates manifest.json
    python -m model.packaging.quantize packages/tiny --no-per-channel

Writes:
- model.int8.onnx: the serving graph with int8 weights (below);
- model.denoise.onnx and model.int8.denoise.onnx: the same graphs cut down to the one output
  a denoising step reads (`denoised`). The full graph also computes the logits and stacks
  the present keys and values of every layer, which a step throws away: on the CPU that
  is 10-15 % of a step. Same inputs, same `denoised`.

Dynamic quantization (onnxruntime.quantization.quantize_dynamic): the weights of every
MatMul whose second input is a constant (the Linear layers) become int8, per output channel
by default; activations are quantized to uint8 on the fly at each call. The attention
products (activation x activation) and everything else stay float32, so the graph keeps the
contract's inputs and outputs unchanged. The manifest gains

    "graph": {..., "variants": {"int8": {"file": "model.int8.onnx", "quantization": {...}}}}

plus `graph.denoise_file` and `graph.variants.int8.denoise_file`, and every file joins `files`
with its sha256. The TypeScript runtime picks the precision with MODEL_PRECISION=int8 and
runs denoising steps on the denoise graph when the manifest lists one (shared/runtime).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass

import onnx
import tyro
from onnx.utils import Extractor
from onnxruntime.quantization import QuantType, quantize_dynamic

from model.cli import parse
from model.packaging.compact import expand
from model.packaging.manifest import load_manifest, write_manifest

INT8_FILE = "model.int8.onnx"
DENOISE_FILE = "model.denoise.onnx"
INT8_DENOISE_FILE = "model.int8.denoise.onnx"


def denoise_graph(src: str, dst: str) -> None:
    """The graph cut down to what `denoised` needs; the inputs stay the contract's (all of them)."""
    model = onnx.load(src)
    inputs = [i.name for i in model.graph.input]
    cut = Extractor(model).extract_model(inputs, ["denoised"])
    kept = [i.name for i in cut.graph.input]
    if kept != inputs:  # the runtime feeds all eight: they must all stay, in order
        raise ValueError(f"the denoise graph lost inputs: {sorted(set(inputs) - set(kept))}")
    onnx.save(cut, dst)


def quantize_graph(src: str, dst: str, per_channel: bool = True, keep_fp32: str | None = None) -> dict:
    """Writes the int8 graph; returns what was done, for the manifest. `keep_fp32`: a regular
    expression; MatMul nodes whose name matches stay float32 (e.g. the patch layers)."""
    with tempfile.TemporaryDirectory() as tmp:
        # Shape inference first (ORT's recommended pre-processing); it also gives stable node names.
        inferred = os.path.join(tmp, "inferred.onnx")
        model = expand(onnx.load(src))  # a compacted graph's fp16 weights back to fp32 initializers
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception:  # noqa: BLE001 - inference is an optimisation, not a requirement
            pass
        onnx.save(model, inferred)
        exclude = [
            n.name for n in model.graph.node if n.op_type == "MatMul" and keep_fp32 and re.search(keep_fp32, n.name)
        ]
        quantize_dynamic(
            inferred,
            dst,
            op_types_to_quantize=["MatMul"],
            per_channel=per_channel,
            # 7-bit weights: CPUs with AVX2 but no VNNI multiply uint8 x int8 pairs into int16
            # sums that saturate at full range (onnxruntime's quantization guide); on such a
            # machine (an AVX2-only EPYC) full-range int8 cost emoji64 4-5 points of drawing.
            reduce_range=True,
            weight_type=QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True},
            nodes_to_exclude=exclude,
        )
    q = onnx.load(dst)
    ops: dict[str, int] = {}
    for node in q.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    quantized = sum(
        n for op, n in ops.items() if op in ("MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat")
    )
    return {
        "method": "onnxruntime.quantization.quantize_dynamic",
        "weights": "int8 symmetric, 7-bit range" + (", per output channel" if per_channel else ", per tensor"),
        "activations": "uint8, quantized at run time",
        "op_types": ["MatMul (constant weights only)"],
        "quantized_matmuls": quantized,
        "float_matmuls_left": ops.get("MatMul", 0),
        **({"kept_fp32": exclude} if exclude else {}),
    }


def add_int8_variant(
    package_dir: str, per_channel: bool = True, keep_fp32: str | None = None, fp32_denoise: bool = True
) -> dict:
    """Quantizes the package's graph into model.int8.onnx, cuts the denoise graphs of both
    precisions (the fp32 one unless `fp32_denoise` is false: it is as large as the model and
    only saves fp32 serving 6-8 % a step), and rewrites manifest.json."""
    manifest = load_manifest(package_dir, verify=True)
    graph = {k: v for k, v in manifest["graph"].items() if k != "denoise_file"}
    src = os.path.join(package_dir, graph["file"])
    int8 = os.path.join(package_dir, INT8_FILE)
    info = quantize_graph(src, int8, per_channel=per_channel, keep_fp32=keep_fp32)
    denoise_graph(int8, os.path.join(package_dir, INT8_DENOISE_FILE))
    if os.path.exists(os.path.join(package_dir, DENOISE_FILE)):
        os.remove(os.path.join(package_dir, DENOISE_FILE))  # add_fp32_denoise cuts it again from this graph
    graph["variants"] = {
        **(graph.get("variants") or {}),
        "int8": {"file": INT8_FILE, "denoise_file": INT8_DENOISE_FILE, "quantization": info},
    }
    ours = (INT8_FILE, DENOISE_FILE, INT8_DENOISE_FILE)
    files = [name for name in manifest["files"] if name not in ours] + [INT8_FILE, INT8_DENOISE_FILE]
    manifest = {k: v for k, v in manifest.items() if k != "files"}
    written = write_manifest(package_dir, {**manifest, "graph": graph}, files)
    return add_fp32_denoise(package_dir) if fp32_denoise else written


def add_fp32_denoise(package_dir: str) -> dict:
    """Adds only model.denoise.onnx (the fp32 denoise-only graph), leaving any int8 variant as
    it is: what `npm run bench` does to a copy of a package shipped without it."""
    manifest = load_manifest(package_dir, verify=True)
    graph = {**manifest["graph"], "denoise_file": DENOISE_FILE}
    denoise_graph(os.path.join(package_dir, graph["file"]), os.path.join(package_dir, DENOISE_FILE))
    files = [name for name in manifest["files"] if name != DENOISE_FILE] + [DENOISE_FILE]
    manifest = {k: v for k, v in manifest.items() if k != "files"}
    return write_manifest(package_dir, {**manifest, "graph": graph}, files)


@dataclass
class QuantizeArgs:
    package: tyro.conf.Positional[str]
    """a model package folder (manifest.json + model.onnx)"""
    per_channel: bool = True  # a scale per output channel (--no-per-channel: one per weight tensor)
    keep_fp32: str | None = None  # MatMul nodes whose name matches stay float32, e.g. 'patch_in|patch_out|time_mlp'
    # add model.denoise.onnx (as large as the model; --no-fp32-denoise leaves it out, as a shipped package in git does)
    fp32_denoise: bool = True
    fp32_denoise_only: bool = False  # only add model.denoise.onnx; an int8 variant already there stays as it is


def main(argv: list[str] | None = None) -> None:
    args = parse(QuantizeArgs, argv, description=__doc__)
    if args.fp32_denoise_only:
        m = add_fp32_denoise(args.package)
        print(f"{args.package}: added {DENOISE_FILE} ({m['files'][DENOISE_FILE]['bytes'] / 1e6:.2f} MB)")
        return
    m = add_int8_variant(
        args.package, per_channel=args.per_channel, keep_fp32=args.keep_fp32, fp32_denoise=args.fp32_denoise
    )
    fp32 = m["files"][m["graph"]["file"]]["bytes"]
    int8 = m["files"][INT8_FILE]["bytes"]
    print(json.dumps(m["graph"]["variants"]["int8"], indent=1))
    print(
        f"{args.package}: {m['graph']['file']} {fp32 / 1e6:.2f} MB -> {INT8_FILE} {int8 / 1e6:.2f} MB; "
        f"denoise graphs {DENOISE_FILE + ', ' if args.fp32_denoise else ''}{INT8_DENOISE_FILE}"
    )


if __name__ == "__main__":
    main()
