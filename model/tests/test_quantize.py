"""The int8 variant (model/packaging/quantize.py): a valid package entry whose graph keeps the contract
and gives outputs close to the float32 graph on the tiny fixture."""

import os
import shutil

import numpy as np
import onnxruntime as ort
import pytest
import torch

from model.network.tokenizer import Tokenizer
from model.network.transformer import ModelConfig, UnifiedModel
from model.packaging.export import example_inputs
from model.packaging.manifest import load_manifest
from model.packaging.quantize import DENOISE_FILE, INT8_DENOISE_FILE, INT8_FILE, add_fp32_denoise, add_int8_variant

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TINY = os.path.join(ROOT, "packages", "tiny")
NAMES = ["tokens", "patches", "is_image", "noise_level", "positions", "attention_mask", "past_keys", "past_values"]


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("pkg") / "tiny")
    shutil.copytree(TINY, out)
    manifest = add_int8_variant(out)
    return out, manifest


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def test_manifest_lists_the_variant_and_verifies(quantized):
    out, manifest = quantized
    assert manifest["graph"]["variants"]["int8"]["file"] == INT8_FILE
    assert INT8_FILE in manifest["files"]
    assert manifest["graph"]["variants"]["int8"]["quantization"]["quantized_matmuls"] > 0
    assert manifest["graph"]["denoise_file"] == DENOISE_FILE
    assert manifest["graph"]["variants"]["int8"]["denoise_file"] == INT8_DENOISE_FILE
    for name in (DENOISE_FILE, INT8_DENOISE_FILE):
        assert name in manifest["files"]
    again = load_manifest(out, verify=True)  # sha256 of every file, the new one included
    assert again["graph"]["file"] == "model.onnx"
    # Running it twice replaces the variant rather than listing the file twice.
    add_int8_variant(out)
    files = list(load_manifest(out)["files"])
    assert all(files.count(name) == 1 for name in (INT8_FILE, DENOISE_FILE, INT8_DENOISE_FILE))


def test_without_the_fp32_denoise_graph(quantized, tmp_path):
    out = str(tmp_path / "slim")
    shutil.copytree(quantized[0], out)  # it has model.denoise.onnx: the slim run removes it
    manifest = add_int8_variant(out, fp32_denoise=False)
    assert "denoise_file" not in manifest["graph"]
    assert DENOISE_FILE not in manifest["files"] and not os.path.exists(os.path.join(out, DENOISE_FILE))
    assert manifest["graph"]["variants"]["int8"]["denoise_file"] == INT8_DENOISE_FILE
    load_manifest(out, verify=True)
    # Adding the fp32 denoise graph back leaves the int8 variant byte for byte as it was.
    back = add_fp32_denoise(out)
    assert back["graph"]["denoise_file"] == DENOISE_FILE
    assert back["graph"]["variants"] == manifest["graph"]["variants"]
    assert back["files"][INT8_FILE] == manifest["files"][INT8_FILE]
    load_manifest(out, verify=True)


def test_int8_keeps_the_contract_and_is_close_to_fp32(quantized):
    out, manifest = quantized
    fp32, int8 = session(os.path.join(out, "model.onnx")), session(os.path.join(out, INT8_FILE))
    assert [i.name for i in int8.get_inputs()] == [i.name for i in fp32.get_inputs()]
    assert [o.name for o in int8.get_outputs()] == [o.name for o in fp32.get_outputs()]
    cfg = ModelConfig(**manifest["model"]["config"])
    tok = Tokenizer.load(os.path.join(out, "tokenizer.json"))
    torch.manual_seed(0)
    feeds = {n: t.numpy() for n, t in zip(NAMES, example_inputs(UnifiedModel(cfg), tok, past=4))}
    ref = fp32.run(None, feeds)
    got = int8.run(None, feeds)
    for name, r, g in zip(["logits", "denoised", "present_keys", "present_values"], ref, got):
        assert r.shape == g.shape, name
        scale = float(np.abs(r).max()) + 1e-6
        err = float(np.abs(r - g).max())
        # Loose: int8 weights and activations on a tiny random-ish model.
        assert err <= 0.1 * scale, f"{name}: max |int8 - fp32| = {err:.4g} (scale {scale:.4g})"
    # The denoised patches the sampler uses agree closely on average.
    d_ref, d_got = ref[1], got[1]
    assert float(np.abs(d_ref - d_got).mean()) <= 0.02 * float(np.abs(d_ref).mean()) + 1e-3


@pytest.mark.parametrize("full,cut", [("model.onnx", DENOISE_FILE), (INT8_FILE, INT8_DENOISE_FILE)])
def test_denoise_graph_gives_the_full_graphs_denoised(quantized, full, cut):
    out, manifest = quantized
    whole, part = session(os.path.join(out, full)), session(os.path.join(out, cut))
    assert [i.name for i in part.get_inputs()] == NAMES
    assert [o.name for o in part.get_outputs()] == ["denoised"]
    cfg = ModelConfig(**manifest["model"]["config"])
    tok = Tokenizer.load(os.path.join(out, "tokenizer.json"))
    torch.manual_seed(1)
    feeds = {n: t.numpy() for n, t in zip(NAMES, example_inputs(UnifiedModel(cfg), tok, past=6))}
    (want,) = whole.run(["denoised"], feeds)
    (got,) = part.run(["denoised"], feeds)
    assert float(np.abs(want - got).max()) <= 1e-5
