"""A tiny model overfits a handful of conversations (both losses fall), and the trainer
resumes from its checkpoint."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from model.data.shapes64 import Scene, SceneObject
from model.network.sequence import attention_mask, image_to_patches
from model.network.tokenizer import train_default
from model.network.transformer import ModelConfig, UnifiedModel
from model.sampling.diffusion import DiffusionConfig
from model.train import TrainConfig, edge_map, ink_map, lr_at, make_batch, parse_args, pixel_weights, training_loss

HERE = os.path.dirname(os.path.abspath(__file__))


def test_tiny_model_overfits_a_fixed_batch():
    torch.manual_seed(0)
    tok = train_default()
    model = UnifiedModel(ModelConfig(vocab_size=tok.vocab_size, d_model=64, n_layers=2, expansion=128, qk_dim=32))
    tcfg, dcfg = TrainConfig(batch_size=8, bf16=False, cond_dropout=0.0), DiffusionConfig()
    batch = make_batch(tok, model.cfg, dcfg, tcfg, list(range(8)), torch.Generator().manual_seed(0))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        loss, text, diff = training_loss(model, model, *batch, tcfg)
        first = first or (text.item(), diff.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert text.item() < 0.3 * first[0]
    assert diff.item() < 0.5 * first[1]


def run_train(out_dir, *args, nproc=None):
    script = ["-m", "model.train"]
    base = [
        "--out_dir=" + out_dir,
        "--batch_size=4",
        "--eval_every=1000",
        "--eval_n=2",
        "--log_every=1",
        "--ckpt_every=2",
        "--bf16=false",
        "--model.d_model=32",
        "--model.n_layers=1",
        "--model.expansion=64",
        "--model.qk_dim=16",
        "--model.time_freq_dim=16",
        *args,
    ]
    cmd = (
        [sys.executable, *script, *base]
        if nproc is None
        else [
            sys.executable,
            "-m",
            "torch.distributed.run",
            f"--nproc_per_node={nproc}",
            "--master_port=29517",
            *script,
            *base,
        ]
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def test_training_resumes_from_its_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    r = run_train(out, "--max_steps=2")
    assert r.returncode == 0, r.stderr[-2000:]
    assert torch.load(os.path.join(out, "ckpt.pt"), weights_only=False)["step"] == 2
    # A continued run may draw its noise levels differently; the rest of the config carries over.
    r = run_train(out, "--max_steps=4", "--diffusion.t_mean=0.3")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resuming at step 2" in r.stdout
    ck = torch.load(os.path.join(out, "ckpt.pt"), weights_only=False)
    assert ck["step"] == 4
    assert ck["diffusion_config"]["t_mean"] == 0.3
    assert ck["diffusion_config"]["t_std"] == DiffusionConfig().t_std
    assert os.path.exists(os.path.join(out, "loss.png")) and os.path.exists(os.path.join(out, "samples.png"))


def test_training_runs_data_parallel_with_gloo(tmp_path):
    out = str(tmp_path / "ddp")
    r = run_train(out, "--max_steps=2", nproc=2)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "world 2" in r.stdout
    assert torch.load(os.path.join(out, "ckpt.pt"), weights_only=False)["step"] == 2


def test_batches_built_by_loader_workers_train_exactly_as_batches_built_in_the_loop(tmp_path):
    # Rollout draws from the step's generator after the batch is built: the state a worker
    # hands over must continue that stream, or the two runs would part at the first rollout.
    losses = {}
    for workers in (0, 2):
        out = str(tmp_path / f"w{workers}")
        r = run_train(out, "--max_steps=5", f"--loader_workers={workers}", "--rollout_fraction=1.0")
        assert r.returncode == 0, r.stderr[-2000:]
        with open(os.path.join(out, "log.jsonl")) as f:
            losses[workers] = [rec["loss"] for rec in map(json.loads, f) if "loss" in rec]
    assert len(losses[0]) == 5
    assert losses[2] == losses[0]


def test_a_slim_checkpoint_starts_a_new_run_where_the_old_one_stopped(tmp_path):
    from model.packaging.slim import slim

    out = str(tmp_path / "run")
    assert run_train(out, "--max_steps=2").returncode == 0
    slim(os.path.join(out, "ckpt.pt"), str(tmp_path / "slim.pt"))
    assert "optimizer" not in torch.load(str(tmp_path / "slim.pt"), weights_only=False)
    r = run_train(str(tmp_path / "next"), "--max_steps=3", "--init_from=" + str(tmp_path / "slim.pt"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resuming at step 2" in r.stdout
    assert torch.load(str(tmp_path / "next" / "ckpt.pt"), weights_only=False)["step"] == 3


def test_clean_draws_put_a_noise_free_image_before_eoi_eos():
    """A finished image goes back into the context at noise level 0 before the text resumes;
    clean draws teach the model that <eoi> then ends the answer there too."""
    tok = train_default()
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=64, n_layers=2, expansion=128, qk_dim=32)
    tcfg = TrainConfig(batch_size=4, bf16=False, cond_dropout=0.0, draw_fraction=1.0, clean_draw_fraction=1.0)
    b, tgt, x0_target, _ = make_batch(
        tok, cfg, DiffusionConfig(), tcfg, list(range(4)), torch.Generator().manual_seed(0)
    )
    for i in range(4):
        image = b.is_image[i] > 0
        assert torch.all(b.noise_level[i][image] == 0)
        assert torch.equal(b.patches[i][image], x0_target[i][image])  # the image is the clean target itself
        eoi = (b.tokens[i] == tok.eoi).nonzero().item()
        assert tgt[i, eoi].item() == tok.eos  # after <eoi>, the answer ends
    noisy = make_batch(
        tok,
        cfg,
        DiffusionConfig(),
        TrainConfig(batch_size=4, bf16=False, draw_fraction=1.0, clean_draw_fraction=0.0),
        list(range(4)),
        torch.Generator().manual_seed(0),
    )[0]
    assert torch.all(noisy.noise_level[noisy.is_image > 0] > 0)


def test_learning_rate_warms_up_decays_and_a_continued_run_starts_its_own_cosine():
    c = parse_args(["--lr=1e-3", "--warmup=10", "--lr_decay_steps=110", "--min_lr_frac=0.1"])
    assert lr_at(0, c) == 1e-4 and lr_at(9, c) == 1e-3
    assert (
        abs(lr_at(60, c) - 0.55e-3) < 1e-9 and abs(lr_at(110, c) - 1e-4) < 1e-12 and abs(lr_at(500, c) - 1e-4) < 1e-12
    )
    # --lr_decay_start: flat at lr until the continued run's start, then a cosine to its end.
    c = parse_args(["--lr=1e-3", "--warmup=10", "--lr_decay_start=1000", "--lr_decay_steps=1100", "--min_lr_frac=0.1"])
    assert lr_at(500, c) == 1e-3 and lr_at(1000, c) == 1e-3
    assert abs(lr_at(1050, c) - 0.55e-3) < 1e-9 and abs(lr_at(1100, c) - 1e-4) < 1e-12


def test_edge_weights_mark_both_sides_of_an_objects_outline_and_nothing_else():
    square = SceneObject(cell=4, size="large", colour="red", kind="square", dx=0, dy=0)
    img = Scene((square,)).render()
    edge = edge_map(img)
    red = (img == (220, 30, 30)).all(-1)
    ys, xs = np.nonzero(red)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    assert edge[top, left] and edge[top - 1, left] and edge[top, left - 1]  # a corner, inside and out
    assert edge[bottom, (left + right) // 2] and edge[bottom + 1, (left + right) // 2]
    assert not edge[(top + bottom) // 2, (left + right) // 2]  # the inside
    assert not edge[0, 0] and not edge[top - 2, left]  # the background
    assert edge.sum() == 4 * 17 + 4 * 18  # an 18-pixel square: its outer ring, and the ring around it less the corners
    w = pixel_weights(img, 4.0, 8)
    assert w.shape == image_to_patches(img, 8).shape
    assert sorted(np.unique(w)) == [1.0, 5.0] and (w == 5.0).sum() == 3 * edge.sum()


def test_ink_weights_mark_an_objects_pixels_on_a_mottled_background_and_nothing_else():
    small = SceneObject(cell=8, size="small", colour="blue", kind="circle", dx=0, dy=0)
    img = Scene((small,)).render()
    # A generated image's background is not flat: mottle it by a few levels, as a teacher's sample is.
    rng = np.random.default_rng(0)
    mottled = np.clip(img.astype(np.int16) - rng.integers(0, 12, img.shape), 0, 255).astype(np.uint8)
    ink = ink_map(mottled)
    object_pixels = (np.abs(img.astype(np.int16) - 255) > 48).any(-1)
    assert ink.sum() == object_pixels.sum() > 50 and (ink == object_pixels).all()
    w = pixel_weights(mottled, 0.0, 8, ink_weight=3.0)
    assert sorted(np.unique(w)) == [1.0, 4.0] and (w == 4.0).sum() == 3 * ink.sum()
    assert (pixel_weights(mottled, 0.0, 8) == 1.0).all()  # the default leaves the plain mean


def test_edge_weight_zero_is_the_plain_mean_and_a_weight_counts_edge_errors_more():
    tok = train_default()
    torch.manual_seed(0)
    model = UnifiedModel(ModelConfig(vocab_size=tok.vocab_size, d_model=64, n_layers=2, expansion=128, qk_dim=32))
    losses = {}
    for weight in (0.0, 4.0):
        tcfg = TrainConfig(batch_size=4, bf16=False, draw_fraction=1.0, edge_weight=weight)
        b, tgt, x0, dw = make_batch(
            tok, model.cfg, DiffusionConfig(), tcfg, list(range(4)), torch.Generator().manual_seed(0)
        )
        with torch.no_grad():
            _, _, diff = training_loss(model, model, b, tgt, x0, dw, tcfg)
            _, denoised, _, _ = model(
                b.tokens,
                b.patches,
                b.is_image,
                b.noise_level,
                b.positions,
                attention_mask(b.valid, b.image_id),
                *model.empty_cache(4),
            )
        image = b.is_image > 0
        plain = ((denoised - x0) ** 2)[image].mean()
        losses[weight] = (diff.item(), plain.item())
    assert abs(losses[0.0][0] - losses[0.0][1]) < 1e-6
    assert losses[4.0][0] != losses[4.0][1]


def test_step_up_is_the_previous_level_of_the_samplers_grid():
    from model.sampling.diffusion import step_up, time_grid

    grid = time_grid(10, 2.0)
    got = step_up(torch.tensor(grid[1:]), 10, 2.0)
    torch.testing.assert_close(got, torch.tensor(grid[:-1]))


class Predicts:
    """A stand-in network that predicts a fixed clean image: the true one, or zeros."""

    def __init__(self, x0):
        self.x0 = x0

    def __call__(self, tokens, patches, is_image, noise_level, positions, mask, past_k, past_v):
        self.seen = (patches.clone(), noise_level.clone())
        return None, self.x0, None, None

    def empty_cache(self, batch, device=None):
        return None, None


def test_roll_in_replaces_a_true_noisy_image_by_one_sampler_step_from_above():
    from model.sampling.diffusion import step_up
    from model.train import roll_in

    tok = train_default()
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=32, n_layers=1, expansion=64, qk_dim=16)
    dcfg = DiffusionConfig(time_shift=2.0, guidance_interval=(0.8, 1.0))
    tcfg = TrainConfig(batch_size=8, bf16=False, draw_fraction=0.5, clean_draw_fraction=0.0, rollout_fraction=1.0)
    b, _, x0, weight = make_batch(tok, cfg, dcfg, tcfg, list(range(8)), torch.Generator().manual_seed(3))
    t = b.noise_level.max(dim=1).values
    t_hi = step_up(t, dcfg.default_steps, dcfg.time_shift)
    rolled = (weight.flatten(1).sum(1) > 0) & (t_hi < 0.8)
    assert 0 < rolled.sum() < 4, t  # some of the four draws, none of the describes
    # A network that predicts the true image puts the step exactly on the true noisy image.
    oracle = Predicts(x0)
    torch.testing.assert_close(
        roll_in(oracle, b, x0, weight, dcfg, tcfg, torch.Generator()).patches, b.patches, atol=1e-5, rtol=1e-5
    )
    seen_patches, seen_levels = oracle.seen
    for i in range(8):  # the network was asked at the level above, with that level's noisy image
        image = b.is_image[i] > 0
        want = t_hi[i] if rolled[i] else t[i]
        assert torch.allclose(seen_levels[i][image], want.expand(int(image.sum())))
        assert rolled[i] == (not torch.allclose(seen_patches[i][image], b.patches[i][image]))
    # A network that predicts zeros shrinks the rolled images towards zero by t / t_hi.
    out = roll_in(Predicts(torch.zeros_like(x0)), b, x0, weight, dcfg, tcfg, torch.Generator()).patches
    for i in range(8):
        image = b.is_image[i] > 0
        if rolled[i]:
            x_hi = seen_patches[i][image]
            torch.testing.assert_close(out[i][image], x_hi * t[i] / t_hi[i])
        else:
            assert torch.equal(out[i], b.patches[i])


class PredictsByPrompt:
    """A stand-in network whose x0 is `cond` in rows with a prompt and `uncond` in rows without
    one (the sampler's unconditional rows: <bos> <user> <assistant> <boi> before the image)."""

    def __init__(self, cond: float, uncond: float):
        self.cond, self.uncond = cond, uncond

    def __call__(self, tokens, patches, is_image, noise_level, positions, mask, past_k, past_v):
        first_image = (is_image > 0).float().argmax(dim=1)
        value = torch.where(first_image > 4, self.cond, self.uncond)
        return None, value[:, None, None].expand_as(patches).clone(), None, None

    def empty_cache(self, batch, device=None):
        return None, None


def test_guided_roll_in_takes_the_step_from_above_with_classifier_free_guidance():
    from model.sampling.diffusion import step_up
    from model.train import roll_in

    tok = train_default()
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=32, n_layers=1, expansion=64, qk_dim=16)
    dcfg = DiffusionConfig(time_shift=2.0, guidance_interval=(0.8, 1.0), default_guidance=6.0)
    tcfg = TrainConfig(
        batch_size=16,
        bf16=False,
        draw_fraction=0.5,
        clean_draw_fraction=0.0,
        cond_dropout=0.0,
        rollout_fraction=1.0,
        rollout_guided=True,
    )
    b, _, x0, weight = make_batch(tok, cfg, dcfg, tcfg, list(range(16)), torch.Generator().manual_seed(5))
    t = b.noise_level.max(dim=1).values
    t_hi = step_up(t, dcfg.default_steps, dcfg.time_shift)
    drawn = weight.flatten(1).sum(1) > 0
    guided = drawn & (t_hi >= 0.8) & (t_hi > t)
    plain = drawn & (t_hi < 0.8)
    assert guided.any() and plain.any(), t
    net = PredictsByPrompt(cond=0.5, uncond=0.2)
    out = roll_in(net, b, x0, weight, dcfg, tcfg, torch.Generator(), tok).patches
    tt, th = t[:, None], t_hi[:, None]
    noise = (b.patches - (1 - tt[..., None]) * x0) / tt[..., None]
    for i in range(16):
        image = b.is_image[i] > 0
        x_hi = (1 - th[i]) * x0[i][image] + th[i] * noise[i][image]
        if guided[i]:  # x0 = uncond + 6 (cond - uncond) = 2.0, then one Euler step from t_hi to t
            want = x_hi + (t[i] - t_hi[i]) * (x_hi - 2.0) / t_hi[i]
        elif plain[i]:  # unguided: the conditional prediction alone
            want = x_hi + (t[i] - t_hi[i]) * (x_hi - 0.5) / t_hi[i]
        else:  # a describe, or a draw at the top of the grid: untouched
            want = b.patches[i][image]
        torch.testing.assert_close(out[i][image], want, atol=1e-5, rtol=1e-5)
    # Without rollout_guided, the guided rows keep their true noisy image, as before.
    kept = roll_in(
        net, b, x0, weight, dcfg, dataclasses.replace(tcfg, rollout_guided=False), torch.Generator(), tok
    ).patches
    for i in range(16):
        if guided[i]:
            assert torch.equal(kept[i], b.patches[i])
    # Guided rollout builds unconditional rows, so it needs the tokenizer.
    with pytest.raises(ValueError, match="tokenizer"):
        roll_in(net, b, x0, weight, dcfg, tcfg, torch.Generator())
