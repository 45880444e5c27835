"""The causal-in-image attention variant of the thesis study (docs/thesis.md): a patch sees the
patches of its image at or before it in raster order, text keeps its rules, the default is
unchanged, and training and sampling both use the model's own rule."""

import numpy as np
import pytest
import torch

from model.network.sequence import Image, build_row, collate
from model.research.network import ResearchConfig as ModelConfig
from model.research.network import ResearchModel as UnifiedModel
from model.research.network import attention_mask
from model.sampling.diffusion import DiffusionConfig
from model.sampling.inference import Runtime, seeded_noise

GRID, PD, PAD = 2, 12, 0
N = GRID * GRID


def rows_of(items_per_row, starts=None):
    rows = [
        build_row(items, (starts or [0] * len(items_per_row))[i], GRID, PAD, PD)[0]
        for i, items in enumerate(items_per_row)
    ]
    return collate(rows, PAD, PD)


def img():
    return Image(np.zeros((N, PD), np.float32))


def allowed(b, mode, past_valid=None):
    return attention_mask(b.valid, b.image_id, past_valid, mode) == 0


def test_causal_patch_sees_exactly_the_patches_at_or_before_it_in_its_image():
    b = rows_of([[1, 2, img(), 3, img(), 4]])
    ok = allowed(b, "causal")[0]
    images = [list(range(2, 2 + N)), list(range(3 + N, 3 + 2 * N))]
    for patches in images:
        for a, i in enumerate(patches):
            for c, j in enumerate(patches):
                assert ok[i, j] == (c <= a), (i, j)  # raster order: patch (r, c) is index r * GRID + c
    first, second = images
    for i in second:  # a later image sees all earlier text and every patch of an earlier image
        assert all(ok[i, j] for j in [0, 1, *first, 2 + N])
    for i in first:
        assert not any(ok[i, j] for j in second)


def test_text_rules_are_the_same_in_both_modes():
    b = rows_of([[1, 2, img(), 3, img(), 4], [5, img(), 6]])
    both, causal = allowed(b, "bidirectional"), allowed(b, "causal")
    text = b.is_image == 0
    assert torch.equal(both[text], causal[text])  # every text query's row
    assert torch.equal(both[..., text[0]][0], causal[..., text[0]][0])  # every query's view of text keys
    # the only difference: a patch no longer sees the later patches of its own image
    diff = both & ~causal
    for r in range(2):
        for i, j in zip(*diff[r].nonzero(as_tuple=True)):
            assert b.image_id[r, i] == b.image_id[r, j] >= 0 and j > i
    assert diff.any() and not (causal & ~both).any()


def test_causal_mode_is_the_plain_causal_mask_over_valid_keys_and_keeps_the_past():
    b = rows_of([[img(), 7], [8]], starts=[3, 2])
    past = torch.tensor([[True, True, False], [True, False, False]])
    ok = allowed(b, "causal", past)
    T = b.tokens.shape[1]
    tril = torch.tril(torch.ones(T, T, dtype=torch.bool))
    assert torch.equal(ok[0, :, 3:], tril)
    assert torch.equal(ok[1, :, 3:], tril & b.valid[1][None, :])
    assert torch.equal(ok[:, :, :3], past[:, None, :].expand(2, T, 3))


def test_the_default_is_bidirectional_and_bad_modes_are_refused():
    b = rows_of([[1, img(), 2]])
    assert torch.equal(attention_mask(b.valid, b.image_id), attention_mask(b.valid, b.image_id, None, "bidirectional"))
    assert allowed(b, "bidirectional")[0, 1, 1 + N - 1]  # the first patch sees the last
    with pytest.raises(ValueError):
        attention_mask(b.valid, b.image_id, None, "sideways")


def tiny_model(mode, seed=0):
    torch.manual_seed(seed)
    return UnifiedModel(
        ModelConfig(
            vocab_size=40, d_model=32, n_layers=2, expansion=64, qk_dim=24, time_freq_dim=16, image_attention=mode
        )
    ).eval()


def test_a_causal_model_denoises_each_patch_from_earlier_patches_only():
    """Through the whole network and the runtime: changing the last patch of a noisy image
    moves no earlier patch's prediction under the causal rule, and moves them under the default."""
    for mode, moves in (("causal", False), ("bidirectional", True)):
        model = tiny_model(mode)
        rt = Runtime(model, PAD, DiffusionConfig())
        cfg = model.cfg
        cache, _ = rt.prefill([[1, 2, 3]])
        x = seeded_noise(0, cfg.num_patches, cfg.patch_dim).numpy()
        y = x.copy()
        y[-1] += 1.0
        _, a, _, _ = rt.step(cache, [[Image(x, 0.7)]])
        _, b, _, _ = rt.step(cache, [[Image(y, 0.7)]])
        earlier_moved = not torch.allclose(a[0, :-1], b[0, :-1], atol=1e-6)
        assert earlier_moved == moves, mode


def test_sampling_takes_the_same_network_evaluations_in_both_modes():
    calls = {}
    for mode in ("causal", "bidirectional"):
        model = tiny_model(mode)
        seen = []
        model.register_forward_pre_hook(lambda m, args, seen=seen: seen.append(args[5].clone()))
        rt = Runtime(model, PAD, DiffusionConfig(guidance_interval=(0.8, 1.0)))
        cond, _ = rt.prefill([[1, 2, 3]])
        uncond, _ = rt.prefill([[1, 3]])
        seen.clear()
        noise = seeded_noise(1, model.cfg.num_patches, model.cfg.patch_dim)[None]
        rt.sample_images(cond, uncond, noise, 10, 3.0)
        calls[mode] = len(seen)
        new = seen[-1][0, :, -model.cfg.num_patches :]  # the last step's image queries against image keys
        triangle = torch.tril(torch.ones_like(new, dtype=torch.bool))
        assert torch.equal(new == 0, triangle if mode == "causal" else torch.ones_like(triangle))
    assert calls["causal"] == calls["bidirectional"] == 10


def test_training_uses_the_models_attention_rule():
    from model.network.tokenizer import train_default
    from model.train import TrainConfig, make_batch, training_loss

    tok = train_default()
    torch.manual_seed(0)
    model = UnifiedModel(
        ModelConfig(
            vocab_size=tok.vocab_size,
            d_model=32,
            n_layers=1,
            expansion=64,
            qk_dim=16,
            time_freq_dim=16,
            image_attention="causal",
        )
    )
    tcfg = TrainConfig(batch_size=4, bf16=False, draw_fraction=0.5)
    b, tgt, x0, w = make_batch(tok, model.cfg, DiffusionConfig(), tcfg, [0, 1, 2, 3], torch.Generator().manual_seed(0))
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[5]))
    training_loss(model, model, b, tgt, x0, w, tcfg)
    assert torch.equal(seen[0], attention_mask(b.valid, b.image_id, None, "causal"))
    assert not torch.equal(seen[0], attention_mask(b.valid, b.image_id))
