"""Load a model package back into PyTorch, so that a model's weights live in git once: in its
package's fp32 graph. Warm starts and evaluations read a package folder where they read a
slim checkpoint (model/packaging/slim.py) before.

    ck = load_checkpoint("packages/shapes64")   # a package folder, or a .pt file as before
    model = UnifiedModel(ModelConfig(**ck["model_config"])); model.load_state_dict(ck["ema"])

    python -m model.packaging.weights packages/emoji64 .gpu/emoji64.pt   # as a .pt, for a machine without onnx

The dict has a slim checkpoint's keys. A package holds one set of weights (what export.py
exported, the EMA unless --raw), so "model" and "ema" are the same weights; "history" is
empty; the sampler settings are the manifest's (the ones evaluation chose).

The exporter (torch.onnx, constant folding on) does not keep every parameter's name: a
Linear's weight is stored transposed as onnx::MatMul_N, each row of GAU.qk_scale/qk_bias
becomes its own constant, and equal tensors are stored once behind Identity nodes. The node
names keep the module scope (/blocks.0/proj/MatMul), and that is what maps a tensor back to
its parameter. compact.py's fp16 initializers (each Cast to fp32) are read back to fp32.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
import tyro

from model.cli import parse
from model.network.transformer import ModelConfig, UnifiedModel
from model.packaging.manifest import PackageError, load_manifest
from model.packaging.sampling import sampler_guidance
from model.sampling.diffusion import DiffusionConfig

# Parameters indexed by row in forward (GAU: z * qk_scale[i] + qk_bias[i]): the exporter folds
# each row into a constant consumed by this op, in the order the rows are used (q, then k).
ROW_FOLDED = {"qk_scale": "Mul", "qk_bias": "Add"}


def graph_values(graph) -> dict[str, np.ndarray]:
    """Every tensor of the graph that is a weight: initializers, and Identity copies of them."""
    from onnx import numpy_helper

    values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:  # topologically sorted, so one pass follows chains of Identities
        if node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def node_module(name: str) -> tuple[str, str]:
    """ "/blocks.0/proj/MatMul" -> ("blocks.0.proj", "MatMul"); "/time_mlp/time_mlp.0/Add" ->
    ("time_mlp.0", "Add"): a Sequential's children are scoped by their own dotted name."""
    parts = name.strip("/").split("/")
    path: list[str] = []
    for part in parts[:-1]:
        if path and part.startswith(path[-1] + "."):
            path[-1] = part
        else:
            path.append(part)
    return ".".join(path), parts[-1].split("_")[0]


def weights_by_module(graph, values: dict) -> dict[tuple[str, str], list[np.ndarray]]:
    """(module, op) -> the weight each such node of that module reads, in graph order."""
    found: dict[tuple[str, str], list[np.ndarray]] = {}
    for node in graph.node:
        if not node.name.startswith("/"):
            continue
        consts = [values[i] for i in node.input if i in values]
        if len(consts) == 1:
            found.setdefault(node_module(node.name), []).append(consts[0])
    return found


def state_dict_from_graph(
    graph, model: UnifiedModel, fill: dict[str, torch.Tensor] | None = None
) -> dict[str, torch.Tensor]:
    """The model's state dict read from an exported graph (onnx.GraphProto); raises
    PackageError naming every parameter it cannot find or finds with the wrong shape. With
    `fill`, a parameter the graph does not hold at all is taken from it instead (a denoise
    graph holds only the weights of the image path)."""
    from model.packaging.compact import expand

    graph = expand(graph_copy(graph)).graph
    values = graph_values(graph)
    by_module = weights_by_module(graph, values)
    modules = dict(model.named_modules())
    out, problems = {}, []
    for name, ref in model.state_dict().items():
        module, _, leaf = name.rpartition(".")
        shape = tuple(ref.shape)
        if name in values:
            value = values[name]
        elif leaf == "weight" and isinstance(modules.get(module), torch.nn.Linear):
            reads = by_module.get((module, "MatMul"), [])
            value = reads[0].T if len(reads) == 1 else None
            if value is None and not reads and fill is not None and name in fill:
                out[name] = fill[name].clone()
                continue
            if value is None:
                problems.append(f"{name}: want one MatMul in /{module}/ reading a weight, found {len(reads)}")
                continue
        elif leaf in ROW_FOLDED:
            rows = [r for r in by_module.get((module, ROW_FOLDED[leaf]), []) if r.shape == shape[1:]]
            if len(rows) != shape[0]:
                problems.append(
                    f"{name}: want {shape[0]} folded rows of shape {list(shape[1:])} read by "
                    f"{ROW_FOLDED[leaf]} in /{module}/, found {len(rows)}"
                )
                continue
            value = np.stack(rows)
        elif fill is not None and name in fill:
            out[name] = fill[name].clone()
            continue
        else:
            problems.append(f"{name}: no initializer of that name")
            continue
        if tuple(value.shape) != shape:
            problems.append(f"{name}: shape {list(value.shape)} in the graph, the model wants {list(shape)}")
            continue
        out[name] = torch.from_numpy(np.array(value, dtype=np.float32)).to(
            ref.dtype
        )  # a copy: graph arrays are read-only
    if problems:
        raise PackageError(
            f"{len(problems)} of the model's {len(out) + len(problems)} tensors not found in the graph:\n  "
            + "\n  ".join(problems)
        )
    return out


def graph_copy(graph):
    """A ModelProto around a copy of the graph (expand edits its argument in place)."""
    import onnx

    model = onnx.ModelProto()
    model.graph.CopyFrom(graph)
    return model


def diffusion_config(manifest: dict, train_config: dict) -> dict:
    """The sampler settings from the manifest; the noise-level distribution (training only)
    from the defaults as the run's --diffusion.* options changed them."""
    d = manifest["diffusion"]
    known = {f.name for f in fields(DiffusionConfig)}
    # The options given (a None is one that was not: the form of TrainConfig's own asdict).
    given = {k: v for k, v in train_config.get("diffusion", {}).items() if k in known and v is not None}
    cfg = {**asdict(DiffusionConfig()), **given}
    cfg.update(
        default_steps=d["default_steps"],
        default_guidance=sampler_guidance(d),
        time_shift=d["time_shift"],
        guidance_interval=tuple(d["guidance_interval"]),
    )
    return cfg


def load_package(package_dir: str) -> dict:
    """A package folder -> the dict a slim checkpoint holds (see the module's docstring)."""
    manifest = load_manifest(package_dir, verify=True)
    if "config" not in manifest.get("model", {}):
        raise PackageError(f"{package_dir}: manifest.json has no model.config (exported before it was written?)")
    model_config = manifest["model"]["config"]
    with open(os.path.join(package_dir, manifest["tokenizer"]["file"])) as f:
        tokenizer = json.load(f)
    trained = {}
    if "train_config.json" in manifest["files"]:
        with open(os.path.join(package_dir, "train_config.json")) as f:
            trained = json.load(f)
    import onnx  # here, not above: a machine with torch alone still loads .pt files through load_checkpoint

    graph = onnx.load(os.path.join(package_dir, manifest["graph"]["file"])).graph
    weights = state_dict_from_graph(graph, UnifiedModel(ModelConfig(**model_config)))
    split = {}
    if manifest["graph"].get("split_weights"):
        # A few-step student on its teacher's cache (model/distill/split.py): the serving graph
        # holds the teacher, which reads; the denoise graph the student, which denoises. Loaded
        # as a student checkpoint is: the student's weights, the teacher's as `reader` (and in
        # the text-only places the student never runs).
        denoise = onnx.load(os.path.join(package_dir, manifest["graph"]["denoise_file"])).graph
        split = {"reader": weights}
        weights = state_dict_from_graph(denoise, UnifiedModel(ModelConfig(**model_config)), fill=weights)
    train_config = trained.get("train_config", {})
    # "model" and "ema" share tensors (load_state_dict copies them; torch.save writes them once)
    return {
        **split,
        "model": weights,
        "ema": dict(weights),
        "step": trained.get("steps", manifest.get("training", {}).get("steps", 0)),
        "history": [],
        "model_config": model_config,
        "diffusion_config": diffusion_config(manifest, train_config),
        "train_config": train_config,
        "tokenizer": tokenizer,
    }


def load_checkpoint(path: str) -> dict:
    """A package folder or a checkpoint file (.pt), as the same dict."""
    if os.path.isdir(path):
        return load_package(path)
    return torch.load(path, weights_only=False, map_location="cpu")


@dataclass
class WeightsArgs:
    package: tyro.conf.Positional[str]
    """a model package folder"""
    out: tyro.conf.Positional[str]
    """the .pt file to write"""


def main(argv: list[str] | None = None) -> None:
    args = parse(WeightsArgs, argv, description="Write a package's weights as a slim checkpoint (.pt).")
    ck = load_package(args.package)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    torch.save(ck, args.out)
    print(f"{args.out}: {len(ck['ema'])} tensors at step {ck['step']}")


if __name__ == "__main__":
    main()
