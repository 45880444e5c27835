"""A warm start from a package reproduces the checkpoint it was exported from: the weights
read back from the fp32 graph (fp16-stored by compact.py, renamed by the exporter) are the
checkpoint's, and so are the logits and denoised patches; a graph that lacks a weight, or
holds one of another shape, is refused by name."""

import json
import os
import sys
from dataclasses import asdict

import numpy as np
import onnx
import pytest
import torch

from model.network.chat import draw_context, unconditional_context
from model.packaging import export
from model.packaging.compact import compact_package
from model.packaging.export import example_inputs, tiny
from model.packaging.manifest import PackageError, load_manifest, write_manifest
from model.packaging.slim import slim
from model.packaging.weights import load_checkpoint
from model.sample import load_runtime
from model.sampling.inference import seeded_noise
from model.train import TrainConfig

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# Exact in principle (the same fp16 values, both models compute in fp32); the slack is for
# summation order only.
TOL = 1e-5


@pytest.fixture(scope="module")
def shipped_like(tmp_path_factory):
    """What ship.sh does, on a tiny model: a training checkpoint, slimmed to fp16, exported
    (EMA weights) and compacted. Returns the slim checkpoint's path and the package's."""
    model, tok, dcfg = tiny(steps=0, pixel_width=8)
    raw = tiny(steps=0, pixel_width=8)[0]
    with torch.no_grad():  # every tensor distinct, so a weight read from the wrong place shows
        for p, r in zip(model.parameters(), raw.parameters()):
            p.add_(torch.randn_like(p) * 0.1)
            r.add_(torch.randn_like(r) * 0.1)
    tmp = tmp_path_factory.mktemp("ship")
    ck = {
        "model": raw.state_dict(),
        "ema": model.state_dict(),
        "optimizer": {},
        "step": 123,
        "history": [{"step": 100}],
        "model_config": model.cfg.to_dict(),
        "diffusion_config": asdict(dcfg),
        "train_config": asdict(TrainConfig()),
        "tokenizer": tok.to_json(),
    }
    torch.save(ck, tmp / "ckpt.pt")
    slim(str(tmp / "ckpt.pt"), str(tmp / "slim.pt"))
    pkg = str(tmp / "pkg")
    argv = sys.argv
    sys.argv = ["export.py", f"--ckpt={tmp / 'slim.pt'}", f"--out={pkg}"]
    try:
        export.main()
    finally:
        sys.argv = argv
    compact_package(pkg)
    return str(tmp / "slim.pt"), pkg


def outputs(rt, tok):
    """Logits and denoised patches of one forward pass over text, an image and a past, and a
    short guided sampling run (prefill logits, then denoising steps)."""
    torch.manual_seed(0)  # example_inputs draws its past keys and values
    with torch.no_grad():
        logits, denoised, _, _ = rt.model(*example_inputs(rt.model, tok, past=4))
    cond, last = rt.prefill([draw_context(tok, "a small red circle at the top")])
    uncond, _ = rt.prefill([unconditional_context(tok)])
    noise = seeded_noise(5, rt.cfg.num_patches, rt.cfg.patch_dim)[None]
    final = rt.sample_images(cond, uncond, noise, 3, 2.0)
    return [logits, denoised, last, final]


def test_the_package_holds_the_checkpoints_weights_exactly(shipped_like):
    ck_path, pkg = shipped_like
    graph = onnx.load(os.path.join(pkg, "model.onnx")).graph
    assert any(i.name.endswith(".fp16") for i in graph.initializer), "compact.py stored nothing as fp16"
    assert any(i.name.startswith("onnx::MatMul") for i in graph.initializer), "no weight was renamed"
    ck, got = torch.load(ck_path, weights_only=False), load_checkpoint(pkg)
    assert set(ck) <= set(got)  # a slim checkpoint's keys: what train.py --init_from reads
    for k, v in ck["ema"].items():
        assert torch.equal(got["ema"][k], v.float()), k
        assert torch.equal(got["model"][k], v.float()), k  # a package has one set of weights
    assert got["model_config"] == ck["model_config"] and got["tokenizer"] == ck["tokenizer"]
    assert got["step"] == ck["step"] and got["train_config"] == ck["train_config"]
    assert got["diffusion_config"] == {
        **ck["diffusion_config"],
        "guidance_interval": tuple(ck["diffusion_config"]["guidance_interval"]),
    }


def test_a_runtime_from_the_package_gives_the_checkpoints_outputs(shipped_like):
    ck_path, pkg = shipped_like
    (rt_ck, tok), (rt_pkg, _) = load_runtime(ck_path), load_runtime(pkg)
    for a, b in zip(outputs(rt_ck, tok), outputs(rt_pkg, tok)):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=TOL, rtol=TOL)


def broken(pkg, tmp_path, how):
    """A copy of the package whose graph or manifest is changed, its hashes rewritten."""
    out = tmp_path / "broken"
    out.mkdir()
    manifest = load_manifest(pkg)
    model = onnx.load(os.path.join(pkg, "model.onnx"))
    for name in manifest["files"]:
        if name != "model.onnx":
            (out / name).write_bytes(open(os.path.join(pkg, name), "rb").read())
    if how == "missing":
        kept = [i for i in model.graph.initializer if i.name != "blocks.1.out.bias"]
        del model.graph.initializer[:]
        model.graph.initializer.extend(kept)
    else:
        manifest["model"]["config"]["d_model"] = 40
    onnx.save(model, str(out / "model.onnx"))
    write_manifest(str(out), manifest, list(manifest["files"]))
    return str(out)


@pytest.mark.parametrize(
    "how, named", [("missing", "blocks.1.out.bias: no initializer"), ("shape", "tok_emb.weight: shape [")]
)
def test_a_package_without_a_weight_is_refused_by_name(shipped_like, tmp_path, how, named):
    with pytest.raises(PackageError, match=named.replace("[", r"\[")):
        load_checkpoint(broken(shipped_like[1], tmp_path, how))


SHIPPED_PT = os.path.join(ROOT, "model", "checkpoints", "shapes64.pt")


@pytest.mark.skipif(
    not os.path.exists(SHIPPED_PT), reason="model/checkpoints/shapes64.pt is not here (no longer in git)"
)
def test_the_shipped_package_is_the_shipped_checkpoint():
    """While the old slim checkpoint is still on disk: packages/shapes64 holds its EMA weights."""
    pkg = os.path.join(ROOT, "packages", "shapes64")
    ck, got = torch.load(SHIPPED_PT, weights_only=False, map_location="cpu"), load_checkpoint(pkg)
    for k, v in ck["ema"].items():
        assert torch.equal(got["ema"][k], v.float()), k
    assert (
        got["model_config"] == ck["model_config"] and got["tokenizer"] == ck["tokenizer"] and got["step"] == ck["step"]
    )
    (rt_ck, tok), (rt_pkg, _) = load_runtime(SHIPPED_PT), load_runtime(pkg)
    for a, b in zip(outputs(rt_ck, tok), outputs(rt_pkg, tok)):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=TOL, rtol=TOL)
    with open(os.path.join(pkg, "train_config.json")) as f:
        assert got["train_config"] == json.load(f)["train_config"] == ck["train_config"]
