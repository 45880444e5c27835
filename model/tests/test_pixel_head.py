"""The pixel head computes a convolution over the whole image (with a halo of zeros around
it) from patches laid out in a sequence, and adding one to a trained model changes nothing."""

import torch
import torch.nn.functional as F

from model.data.shapes64 import scene_from_seed
from model.network.sequence import Image, attention_mask, build_row, collate, image_to_patches
from model.network.tokenizer import train_default
from model.network.transformer import ModelConfig, PixelHead, UnifiedModel, shift_sequence
from model.research.grow import grow


def test_shift_sequence_reads_later_or_earlier_positions_with_zeros_past_the_ends():
    x = torch.arange(1, 6, dtype=torch.float32).view(1, 5, 1)
    assert shift_sequence(x, 2, 3).flatten().tolist() == [3, 4, 5, 0, 0]
    assert shift_sequence(x, -3, 3).flatten().tolist() == [0, 0, 0, 1, 2]
    assert shift_sequence(x, 0, 3).flatten().tolist() == [1, 2, 3, 4, 5]


def reference(head: PixelHead, h, x0, patches, t: float, cfg: ModelConfig) -> torch.Tensor:
    """The same head as a plain convolution of the whole picture, padded by its halo."""
    P, g, ch = cfg.patch_size, cfg.grid, cfg.channels

    def picture(p, c):  # [64 patches, P*P*c] -> [c, H, W]
        return p.view(g, g, P, P, c).permute(4, 0, 2, 1, 3).reshape(c, g * P, g * P)

    feats = head.features(h).view(-1, P * P * cfg.pixel_features)
    inputs = torch.cat(
        [picture(patches, ch), picture(x0, ch), torch.full((1, g * P, g * P), t), picture(feats, cfg.pixel_features)]
    )
    out = head.convs(F.pad(inputs, [cfg.halo] * 4)[None])[0]  # [ch, H, W]
    return x0 + out.view(ch, g, P, g, P).permute(1, 3, 2, 4, 0).reshape(g * g, P * P * ch)


def test_a_pixel_head_in_a_sequence_equals_a_convolution_of_the_whole_image():
    tok = train_default()
    torch.manual_seed(0)
    cfg = ModelConfig(
        vocab_size=tok.vocab_size,
        d_model=32,
        n_layers=1,
        expansion=64,
        qk_dim=24,
        time_freq_dim=16,
        pixel_width=8,
        pixel_features=4,
    )
    model = UnifiedModel(cfg).eval()
    torch.nn.init.normal_(model.pixel_head.convs[-1].weight, std=0.3)  # it starts at zero
    # two rows with text before and after the image at different offsets
    img = [image_to_patches(scene_from_seed(s).render(), cfg.patch_size) for s in (1, 2)]
    rows = [
        build_row([5, 6, Image(img[0], 0.3), 7], 0, cfg.grid, tok.pad, cfg.patch_dim)[0],
        build_row([5, Image(img[1], 0.6), 7, 8, 9], 0, cfg.grid, tok.pad, cfg.patch_dim)[0],
    ]
    b = collate(rows, tok.pad, cfg.patch_dim)
    captured = {}
    model.patch_out.register_forward_hook(lambda m, i, o: captured.update(h=i[0], x0=o))
    with torch.no_grad():
        _, denoised, _, _ = model(
            b.tokens,
            b.patches,
            b.is_image,
            b.noise_level,
            b.positions,
            attention_mask(b.valid, b.image_id),
            *model.empty_cache(2),
        )
        for i, (start, t) in enumerate([(2, 0.3), (1, 0.6)]):
            at = slice(start, start + cfg.num_patches)
            want = reference(model.pixel_head, captured["h"][i, at], captured["x0"][i, at], b.patches[i, at], t, cfg)
            torch.testing.assert_close(denoised[i, at], want, atol=1e-5, rtol=1e-5)
            assert not torch.allclose(want, captured["x0"][i, at])  # the head did change something
        text = b.is_image == 0
        torch.testing.assert_close(denoised[text], captured["x0"][text])  # text positions pass through


def test_adding_a_pixel_head_to_a_trained_model_changes_nothing_until_it_learns():
    tok = train_default()
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=32, n_layers=2, expansion=64, qk_dim=24, time_freq_dim=16)
    old = UnifiedModel(cfg).eval()
    states, bigger = grow({"model": old.state_dict(), "ema": old.state_dict()}, cfg, 2, pixel_width=8)
    assert bigger.pixel_width == 8 and bigger.n_layers == 2
    assert all(torch.equal(states["model"][k], states["ema"][k]) for k in states["model"])
    new = UnifiedModel(bigger).eval()
    new.load_state_dict(states["model"])
    row, _ = build_row([5, Image(image_to_patches(scene_from_seed(4).render(), 8), 0.5), 6], 0, 8, tok.pad, 192)
    b = collate([row], tok.pad, 192)
    args = (b.tokens, b.patches, b.is_image, b.noise_level, b.positions, attention_mask(b.valid, b.image_id))
    with torch.no_grad():
        want, got = old(*args, *old.empty_cache(1)), new(*args, *new.empty_cache(1))
    for w, g in zip(want, got):
        torch.testing.assert_close(g, w)
    _, denoised, _, _ = new(*args, *new.empty_cache(1))
    denoised.pow(2).mean().backward()
    assert new.pixel_head.convs[-1].weight.grad.abs().sum() > 0  # ... and it can learn
