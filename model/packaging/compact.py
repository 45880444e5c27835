"""Store the float32 weights of a package's graphs as float16, when that loses nothing.

    python -m model.packaging.compact packages/shapes64        # rewrites its graphs and manifest.json

Weights trained here are kept in fp16 (model/packaging/slim.py), so their fp32 copies in model.onnx are
fp16 values written in twice the bytes. Each such weight becomes an fp16 initializer and a
Cast to fp32 under the weight's old name: the graph computes exactly what it did, in fp32,
and onnxruntime's constant folding turns the Casts into fp32 constants when it loads the
session. The graph file halves, which is what lets a package with its int8 variants
stay under 30 MB. A weight that fp16 would change (a model trained in fp32 and never
slimmed) stays fp32, so compacting never changes an output.

quantize.py reads a compacted graph back to plain fp32 weights (`expand`) before it
quantizes, since onnxruntime's quantizer only quantizes a MatMul whose weight is an initializer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import onnx
import tyro
from onnx import helper, numpy_helper

from model.cli import parse
from model.packaging.manifest import load_manifest, write_manifest

SUFFIX = ".fp16"  # the stored initializer of weight W is W.fp16, cast to fp32 as W
MIN_ELEMENTS = 1024  # small tensors are not worth a node each


def compact(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """The model with every large fp32 initializer that fp16 holds exactly stored as fp16;
    returns it and how many were stored so."""
    graph = model.graph
    kept, casts, stored = [], [], 0
    for init in graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT and np.prod(init.dims) >= MIN_ELEMENTS:
            value = numpy_helper.to_array(init)
            half = value.astype(np.float16)
            if np.array_equal(half.astype(np.float32), value):
                kept.append(numpy_helper.from_array(half, init.name + SUFFIX))
                casts.append(
                    helper.make_node(
                        "Cast",
                        [init.name + SUFFIX],
                        [init.name],
                        to=onnx.TensorProto.FLOAT,
                        name=init.name + "/cast_fp32",
                    )
                )
                stored += 1
                continue
        kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)  # Casts first: the graph's nodes stay topologically sorted
    del graph.node[:]
    graph.node.extend(nodes)
    return model, stored


def expand(model: onnx.ModelProto) -> onnx.ModelProto:
    """Undo `compact`: fp32 initializers again, no Casts."""
    graph = model.graph
    halves = {i.name: i for i in graph.initializer if i.name.endswith(SUFFIX)}
    casts = [n for n in graph.node if n.op_type == "Cast" and len(n.input) == 1 and n.input[0] in halves]
    if not casts:
        return model
    restored = [
        numpy_helper.from_array(numpy_helper.to_array(halves[n.input[0]]).astype(np.float32), n.output[0])
        for n in casts
    ]
    others = [i for i in graph.initializer if i.name not in halves]
    del graph.initializer[:]
    graph.initializer.extend(others + restored)
    rest = [n for n in graph.node if n not in casts]
    del graph.node[:]
    graph.node.extend(rest)
    return model


def graph_files(manifest: dict) -> list[str]:
    """Every graph file a manifest names: the serving graph, its denoise cut, and each variant's."""
    graph = manifest["graph"]
    names = [graph["file"], graph.get("denoise_file")]
    for variant in (graph.get("variants") or {}).values():
        names += [variant["file"], variant.get("denoise_file")]
    return [n for n in dict.fromkeys(names) if n]


def compact_package(package_dir: str) -> dict:
    """Compacts each of the package's graphs in place (an int8 graph's float weights too: the
    output projections it keeps in fp32) and rewrites the manifest's hashes."""
    manifest = load_manifest(package_dir, verify=True)
    counts = {}
    for name in graph_files(manifest):
        path = os.path.join(package_dir, name)
        model, counts[name] = compact(onnx.load(path))
        onnx.checker.check_model(model)
        onnx.save(model, path + ".tmp")
        os.replace(path + ".tmp", path)
    written = write_manifest(package_dir, manifest, list(manifest["files"]))
    for name, stored in counts.items():
        print(f"{name}: {stored} weights stored as fp16, {written['files'][name]['bytes'] / 1e6:.2f} MB")
    return written


@dataclass
class CompactArgs:
    package: tyro.conf.Positional[str]
    """a model package folder (manifest.json + model.onnx)"""


def main(argv: list[str] | None = None) -> None:
    compact_package(parse(CompactArgs, argv, description=__doc__).package)


if __name__ == "__main__":
    main()
