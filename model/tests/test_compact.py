"""Storing a graph's weights as fp16 (model/packaging/compact.py) halves the file and changes no output;
a weight that fp16 would change stays fp32, and the int8 variant is quantized as before."""

import os

import numpy as np
import onnx
import onnxruntime as ort
import torch

from model.packaging.compact import compact, compact_package, expand
from model.packaging.export import INPUTS, example_inputs, export_package, tiny
from model.packaging.manifest import load_manifest
from model.packaging.quantize import add_int8_variant


def package(path, fp16_weights: bool):
    model, tok, dcfg = tiny(steps=0)
    if fp16_weights:  # as a slimmed checkpoint's weights are
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.half().float())
    export_package(str(path), "tiny", model, tok, dcfg)
    return model, tok


def run(path, inputs):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
        None, {n: t.numpy() for n, t in zip(INPUTS, inputs)}
    )


def test_fp16_weights_halve_the_graph_and_change_no_output(tmp_path):
    model, tok = package(tmp_path / "a", fp16_weights=True)
    graph = str(tmp_path / "a" / "model.onnx")
    inputs = example_inputs(model, tok, past=4)
    before, size = run(graph, inputs), os.path.getsize(graph)
    manifest = compact_package(str(tmp_path / "a"))
    assert os.path.getsize(graph) < 0.7 * size  # (the tiny model has many small tensors, left fp32)
    assert load_manifest(str(tmp_path / "a"))["files"]["model.onnx"] == manifest["files"]["model.onnx"]
    for b, a in zip(before, run(graph, inputs)):
        np.testing.assert_array_equal(a, b)
    # quantizing the compacted graph gives what quantizing the fp32 one does
    plain = str(tmp_path / "plain")
    package(plain, fp16_weights=True)
    q_plain = add_int8_variant(plain, fp32_denoise=False)["graph"]["variants"]["int8"]["quantization"]
    q_compact = add_int8_variant(str(tmp_path / "a"), fp32_denoise=False)["graph"]["variants"]["int8"]["quantization"]
    assert q_compact == q_plain and q_plain["quantized_matmuls"] > 0
    for b, a in zip(
        run(os.path.join(plain, "model.int8.onnx"), inputs), run(str(tmp_path / "a" / "model.int8.onnx"), inputs)
    ):
        np.testing.assert_array_equal(a, b)


def test_a_weight_fp16_would_change_stays_fp32_and_expand_undoes_compact(tmp_path):
    package(tmp_path, fp16_weights=False)
    original = onnx.load(str(tmp_path / "model.onnx"))
    model, stored = compact(onnx.load(str(tmp_path / "model.onnx")))
    assert stored == 0 and not any(n.op_type == "Cast" and n.name.endswith("/cast_fp32") for n in model.graph.node)
    package(tmp_path / "b", fp16_weights=True)
    halved, stored = compact(onnx.load(str(tmp_path / "b" / "model.onnx")))
    assert stored > 0
    restored = expand(halved)
    want = {
        i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(str(tmp_path / "b" / "model.onnx")).graph.initializer
    }
    got = {i.name: onnx.numpy_helper.to_array(i) for i in restored.graph.initializer}
    assert want.keys() == got.keys() and all(
        np.array_equal(want[k], got[k]) and got[k].dtype == want[k].dtype for k in want
    )
    assert len(restored.graph.node) == len(original.graph.node)
