"""The VQ input path of the thesis study (docs/thesis.md): the k-means tokenizer, its PSNR,
the model reading finished images as codes, and that the defaults leave the shipped model,
its checkpoints and its export as they were."""

import json
import os

import numpy as np
import pytest
import torch

from model.network.sequence import Image, attention_mask, build_row, collate, image_to_patches
from model.research import vq
from model.research.network import ResearchConfig as ModelConfig
from model.research.network import ResearchModel as UnifiedModel
from model.research.network import nearest_code

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
TINY = dict(vocab_size=40, d_model=32, n_layers=2, expansion=64, qk_dim=24, time_freq_dim=16)


def distinct_codebook(k=16, dim=12, seed=0):
    return np.random.default_rng(seed).normal(size=(k, dim)).astype(np.float32)


def test_nearest_code_is_the_brute_force_nearest_row():
    rng = np.random.default_rng(1)
    cb, x = distinct_codebook(50, 12), rng.normal(size=(300, 12)).astype(np.float32)
    want = ((x[:, None, :] - cb[None]) ** 2).sum(-1).argmin(1)
    assert np.array_equal(vq.encode(x, cb, chunk=64), want)
    # [B, T, D] keeps its leading shape
    got = nearest_code(torch.from_numpy(x.reshape(3, 100, 12)), torch.from_numpy(cb))
    assert got.shape == (3, 100) and np.array_equal(got.numpy().reshape(-1), want)


def test_codes_round_trip_through_decode():
    cb = distinct_codebook()
    codes = np.random.default_rng(2).integers(0, len(cb), 200)
    assert np.array_equal(vq.encode(vq.decode(codes, cb), cb), codes)


def test_kmeans_error_falls_over_iterations_on_shapes64_patches():
    patches = vq.image_patches(vq.shapes64_images(range(40)), 8)
    cb, history = vq.kmeans(patches, 32, iters=60, batch=512, eval_every=10, seed=0)
    assert cb.shape == (32, 192)
    mses = [h["mse"] for h in history]
    assert len(mses) == 7 and history[0]["iteration"] == 0
    assert mses[-1] < 0.8 * mses[0]
    assert mses[-1] <= 1.05 * min(mses)  # it ends near its best, not after a blow-up
    assert abs(vq.quantization_mse(patches, cb) - mses[-1]) < 0.5 * mses[-1]  # the probe speaks for all rows


def test_kmeans_finds_separated_clusters():
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=10, size=(6, 8))
    data = (centres[rng.integers(0, 6, 3000)] + rng.normal(scale=0.1, size=(3000, 8))).astype(np.float32)
    cb, history = vq.kmeans(data, 6, iters=80, batch=256, reseed_every=5, seed=0)
    assert history[-1]["mse"] < 0.03  # the noise's variance is 0.01 per value: every cluster has its own centre


def test_kmeans_with_fewer_distinct_rows_than_codes_is_lossless():
    data = np.repeat(distinct_codebook(5, 4), 20, axis=0)
    cb, history = vq.kmeans(data, 8)
    assert cb.shape == (8, 4) and history[-1]["mse"] == 0.0


def test_psnr():
    assert vq.psnr(0.0) == float("inf")
    assert vq.psnr(255.0**2) == pytest.approx(0.0)
    assert vq.psnr(6.5025) == pytest.approx(40.0)  # 255^2 / 6.5025 = 10^4
    assert vq.psnr(0.04, peak=2.0) == pytest.approx(20.0)


def test_reconstruction_report_measures_what_the_codes_lose():
    images = vq.shapes64_images(range(3))
    every_patch = np.unique(vq.image_patches(images, 8), axis=0)
    assert vq.reconstruction_report(images, every_patch, 8)["psnr_db"] == float("inf")
    white = np.ones((1, 192), np.float32)  # one code: the white patch; every object is lost
    rep = vq.reconstruction_report(images, white, 8, pixel_mask=vq.shapes64_digit_pixels(range(3)))
    mse = ((images.astype(np.float64) - 255.0) ** 2).mean()
    assert rep["psnr_db"] == pytest.approx(10 * np.log10(255**2 / mse))
    assert rep["codes_used"] == 1 and rep["codebook_size"] == 1
    if "psnr_masked_db" in rep:  # digit pixels, where the ink is, lose more than the mostly white image
        assert rep["psnr_masked_db"] < rep["psnr_db"]


def test_codebook_file_round_trips(tmp_path):
    cb = distinct_codebook()
    path = str(tmp_path / "t" / "k16.npz")
    vq.save_codebook(path, cb, {"k": 16})
    assert np.array_equal(vq.load_codebook(path), cb) and vq.load_meta(path) == {"k": 16}


# --- the model's VQ input path ---


def image_batch(cfg, noise_level, patches):
    row, _ = build_row([1, 2, Image(patches, noise_level), 3], 0, cfg.grid, 0, cfg.patch_dim)
    b = collate([row], 0, cfg.patch_dim)
    return b, attention_mask(b.valid, b.image_id)


def forward(model, b, mask):
    with torch.no_grad():
        return model(b.tokens, b.patches, b.is_image, b.noise_level, b.positions, mask, *model.empty_cache(1))


def vq_model(embed="table", k=32, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(**TINY, image_input="vq", codebook_size=k, vq_embed=embed)
    model = UnifiedModel(cfg).eval()
    images = vq.shapes64_images(range(20))
    cb, _ = vq.kmeans(vq.image_patches(images, 8), k, iters=20, batch=256)
    model.codebook.copy_(torch.from_numpy(cb))
    return model, cb


def test_vq_model_reads_a_finished_image_only_through_its_codes():
    model, cb = vq_model()
    x = image_to_patches(vq.shapes64_images(range(7, 8))[0], 8)
    quantized = vq.decode(vq.encode(x, cb), cb)
    b, mask = image_batch(model.cfg, 0.0, x)
    logits, denoised, keys, values = forward(model, b, mask)
    T = b.tokens.shape[1]
    assert logits.shape == (1, T, 40) and denoised.shape == (1, T, 192) and keys.shape == (2, 1, T, 24)
    # the same codes, other pixels: the model cannot tell
    b2, _ = image_batch(model.cfg, 0.0, quantized)
    assert torch.equal(forward(model, b2, mask)[0], logits)
    # a noisy image being denoised is read raw, as in the shipped model
    b3, _ = image_batch(model.cfg, 0.5, x)
    b4, _ = image_batch(model.cfg, 0.5, quantized)
    assert not torch.allclose(forward(model, b3, mask)[1], forward(model, b4, mask)[1])


def test_vq_project_reads_the_decoded_patch_through_the_raw_projection():
    model, cb = vq_model("project")
    raw = UnifiedModel(ModelConfig(**TINY)).eval()
    raw.load_state_dict({k: v for k, v in model.state_dict().items() if k != "codebook"})
    x = image_to_patches(vq.shapes64_images(range(3, 4))[0], 8)
    b, mask = image_batch(model.cfg, 0.0, x)
    bq, _ = image_batch(model.cfg, 0.0, vq.decode(vq.encode(x, cb), cb))
    for got, want in zip(forward(model, b, mask), forward(raw, bq, mask)):
        torch.testing.assert_close(got, want)


def test_a_table_vq_model_has_one_vector_per_code_and_trains_it():
    model, _ = vq_model("table", k=32)
    assert model.code_emb.weight.shape == (32, 32) and "codebook" in model.state_dict()
    assert not any(n == "codebook" for n, _ in model.named_parameters())  # the tokenizer is fixed


def test_config_defaults_are_the_shipped_models_and_stay_out_of_their_manifests():
    packages = os.path.join(ROOT, "packages")
    manifests = [
        os.path.join(packages, p, "manifest.json")
        for p in sorted(os.listdir(packages))
        if os.path.exists(os.path.join(packages, p, "manifest.json"))
    ]
    assert len(manifests) >= 2  # shapes64 and tiny at least
    for path in manifests:
        shipped = json.load(open(path))["model"]["config"]
        cfg = ModelConfig(**shipped)
        assert not cfg.research_only
        assert cfg.to_dict() == shipped, path  # the same keys, the same values: exports and checkpoints unchanged
    research = ModelConfig(**TINY, image_input="vq", codebook_size=64, image_attention="causal")
    assert research.research_only and ModelConfig(**research.to_dict()) == research


@pytest.mark.parametrize(
    "bad",
    [
        dict(image_input="pixels"),
        dict(image_input="vq"),
        dict(image_input="vq", codebook_size=8, vq_embed="x"),
        dict(image_attention="sideways"),
    ],
)
def test_bad_research_settings_are_refused(bad):
    with pytest.raises(ValueError):
        ModelConfig(**TINY, **bad)


def test_research_models_are_not_exported(tmp_path):
    from model.network.tokenizer import train_default
    from model.packaging.export import export_package

    model, _ = vq_model()
    with pytest.raises(ValueError, match="not exported"):
        export_package(str(tmp_path / "pkg"), "x", model, train_default(), None)
    assert not os.path.exists(tmp_path / "pkg")


def test_train_installs_the_codebook_and_refuses_a_mismatch(tmp_path):
    from model.research import train

    cb = vq.kmeans(vq.image_patches(vq.shapes64_images(range(10)), 8), 16, iters=5, batch=128)[0]
    path = str(tmp_path / "k16.npz")
    vq.save_codebook(path, cb, {})
    out = str(tmp_path / "run")
    common = [
        f"--out_dir={out}",
        "--max_steps=2",
        "--batch_size=4",
        "--eval_n=1",
        "--bf16=false",
        "--threads=1",
        "--model.d_model=32",
        "--model.n_layers=1",
        "--model.expansion=64",
        "--model.qk_dim=16",
        "--model.time_freq_dim=16",
        "--model.pixel_width=0",
        '--model.image_input="vq"',
    ]
    with pytest.raises(SystemExit, match="codebook"):
        train.main([*common, "--model.codebook_size=8", f"--vq_codebook={path}"])
    with pytest.raises(SystemExit, match="vq_codebook"):
        train.main([*common, "--model.codebook_size=16"])
    train.main([*common, "--model.codebook_size=16", f"--vq_codebook={path}"])
    ck = torch.load(os.path.join(out, "ckpt.pt"), weights_only=False)
    assert ck["step"] == 2 and ck["model_config"]["image_input"] == "vq"
    assert torch.equal(ck["ema"]["codebook"], torch.from_numpy(cb)) and torch.equal(
        ck["model"]["codebook"], torch.from_numpy(cb)
    )


def test_mean_colour_reference():
    flat = np.full((2, 64, 64, 3), 77, np.uint8)
    assert vq.mean_colour_report(flat, 8)["psnr_db"] == float("inf")
    half = flat.copy()
    half[:, :, ::2] = 255  # every patch: columns alternate 255 and 77, mean 166
    mse = 89.0**2
    assert vq.mean_colour_report(half, 8)["mse"] == pytest.approx(mse)
