"""The exported graph does what the PyTorch model does, for all three jobs, and the package
refuses to load when a file does not match its manifest."""

import json
import os
import shutil

import numpy as np
import onnxruntime as ort
import pytest
import torch

from model.network.chat import draw_context, unconditional_context
from model.network.sequence import Image, attention_mask, build_row, collate
from model.packaging.export import drawn_styles, example_inputs, export_package, tiny
from model.packaging.manifest import PackageError, load_manifest
from model.sampling.inference import Runtime, seeded_noise

TOL = 1e-4


@pytest.fixture(scope="module", params=[0, 8], ids=["linear-head", "pixel-head"])
def exported(request, tmp_path_factory):
    model, tok, dcfg = tiny(steps=0, pixel_width=request.param)  # parity needs no training
    if model.pixel_head is not None:  # its last convolution starts at zero: make it count
        torch.nn.init.normal_(model.pixel_head.convs[-1].weight, std=0.3)
    out = str(tmp_path_factory.mktemp("pkg"))
    export_package(out, "tiny", model, tok, dcfg)
    sess = ort.InferenceSession(os.path.join(out, "model.onnx"), providers=["CPUExecutionProvider"])
    return model, tok, dcfg, out, sess


def run_both(model, sess, inputs):
    names = ["tokens", "patches", "is_image", "noise_level", "positions", "attention_mask", "past_keys", "past_values"]
    with torch.no_grad():
        ref = [t.numpy() for t in model(*inputs)]
    got = sess.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
    return ref, got


def test_parity_on_the_tracing_inputs(exported):
    model, tok, _, _, sess = exported
    ref, got = run_both(model, sess, example_inputs(model, tok, past=5))
    for r, g in zip(ref, got):
        assert r.shape == g.shape
        np.testing.assert_allclose(g, r, atol=TOL, rtol=1e-4)


def test_parity_prefill_with_empty_past_then_decode_then_denoise(exported):
    model, tok, dcfg, _, sess = exported
    cfg = model.cfg
    # prefill: zero-length past
    ctx = draw_context(tok, "a small red circle at the top")
    row, nxt = build_row(ctx, 0, cfg.grid, tok.pad, cfg.patch_dim)
    b = collate([row], tok.pad, cfg.patch_dim)
    pk, pv = model.empty_cache(1)
    inputs = (b.tokens, b.patches, b.is_image, b.noise_level, b.positions, attention_mask(b.valid, b.image_id), pk, pv)
    ref, got = run_both(model, sess, inputs)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, atol=TOL, rtol=1e-4)
    keys, values = torch.from_numpy(got[2]), torch.from_numpy(got[3])
    past_valid = torch.ones(1, keys.shape[2], dtype=torch.bool)
    # denoise step: a noisy image on top of the cache
    noise = seeded_noise(3, cfg.num_patches, cfg.patch_dim).numpy()
    row, _ = build_row([Image(noise, 0.7)], nxt, cfg.grid, tok.pad, cfg.patch_dim)
    b = collate([row], tok.pad, cfg.patch_dim)
    inputs = (
        b.tokens,
        b.patches,
        b.is_image,
        b.noise_level,
        b.positions,
        attention_mask(b.valid, b.image_id, past_valid),
        keys,
        values,
    )
    ref, got = run_both(model, sess, inputs)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, atol=TOL, rtol=1e-4)


def test_batched_rows_with_different_pasts_match_single_rows(exported):
    model, tok, dcfg, _, _ = exported
    rt = Runtime(model, tok.pad, dcfg)
    ctxs = [draw_context(tok, "a large blue 7 at the center"), unconditional_context(tok)]
    noise = torch.stack([seeded_noise(i, model.cfg.num_patches, model.cfg.patch_dim) for i in range(2)])
    cache, _ = rt.prefill(ctxs)
    _, batched, _, _ = rt.step(cache, [[Image(noise[i].numpy(), 0.6)] for i in range(2)])
    for i in range(2):
        c, _ = rt.prefill([ctxs[i]])
        _, single, _, _ = rt.step(c, [[Image(noise[i].numpy(), 0.6)]])
        np.testing.assert_allclose(batched[i].numpy(), single[0].numpy(), atol=1e-5)


def test_manifest_lists_every_file_with_its_hash(exported):
    _, _, _, out, _ = exported
    m = load_manifest(out)
    assert set(m["files"]) == {"model.onnx", "tokenizer.json"}
    assert m["image"]["num_patches"] == 64 and m["image"]["patch_dim"] == 192
    assert [i["name"] for i in m["graph"]["inputs"]][:2] == ["tokens", "patches"]


def test_a_tampered_file_is_refused(exported, tmp_path):
    _, _, _, out, _ = exported
    bad = tmp_path / "pkg"
    shutil.copytree(out, bad)
    with open(bad / "tokenizer.json", "a") as f:
        f.write(" ")
    with pytest.raises(PackageError, match="tokenizer.json.*sha256"):
        load_manifest(str(bad))


def test_a_missing_field_or_file_is_refused(exported, tmp_path):
    _, _, _, out, _ = exported
    bad = tmp_path / "pkg"
    shutil.copytree(out, bad)
    m = json.loads((bad / "manifest.json").read_text())
    del m["diffusion"]
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(PackageError, match="diffusion"):
        load_manifest(str(bad))
    shutil.rmtree(bad)
    shutil.copytree(out, bad)
    os.remove(bad / "model.onnx")
    with pytest.raises(PackageError, match="model.onnx.*missing"):
        load_manifest(str(bad))


def test_shipped_fixture_matches_its_manifest():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "tiny")
    load_manifest(root)


def test_a_conversation_corpus_model_draws_in_its_training_styles_not_its_restyle_sources():
    styles = ["google", "openmoji", "outline", "twitter"]
    assert drawn_styles(styles, "corpus") == ["google", "openmoji", "twitter"]
    assert drawn_styles(styles, "") == styles  # a one-turn corpus model trained to draw in each
