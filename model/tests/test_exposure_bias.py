"""The exposure-bias probe: a return trip through the sampler's steps, and speckle."""

import numpy as np
import torch

from model.evaluation.speckle import speckle
from model.research.exposure_bias import mean_abs_levels, return_trip
from model.sampling.diffusion import time_grid


def emoji_like(n: int = 2) -> np.ndarray:
    """White background, a flat red square, a flat blue stripe: flat regions and sharp edges."""
    img = np.full((n, 32, 32, 3), 255, np.uint8)
    img[:, 8:24, 8:24] = (220, 30, 30)
    img[:, 12:16, :] = (30, 70, 220)
    return img


def test_a_real_image_has_no_speckle_and_noise_in_its_fills_does():
    real = emoji_like()
    assert speckle(real, real) == 0.0
    rng = np.random.default_rng(0)
    noisy = np.clip(real.astype(int) + rng.integers(-20, 21, real.shape), 0, 255).astype(np.uint8)
    assert speckle(real, noisy) > 5.0


def test_speckle_ignores_edges():
    """A drawing whose edges are a pixel off or blurred is not speckled."""
    real = emoji_like()
    drawn = real.copy()
    drawn[:, 7:9, 8:24] = (128, 128, 128)  # a blurred top edge of the square
    drawn[:, 8:24, 24] = (220, 30, 30)  # its right edge a pixel further out
    assert speckle(real, drawn) == 0.0


def test_a_perfect_denoiser_returns_the_image_and_a_lazy_one_keeps_the_noise():
    gen = torch.Generator().manual_seed(0)
    x0 = torch.rand(3, 16, 12, generator=gen) * 2 - 1
    noise = torch.randn(3, 16, 12, generator=gen)
    grid = time_grid(10, 2.0)
    back = return_trip(lambda x, t: x0, x0, noise, grid, 4)
    assert torch.allclose(back, x0, atol=1e-5)
    # a network that only scales its input towards zero never removes the noise
    kept = return_trip(lambda x, t: 0.5 * x, x0, noise, grid, 4)
    assert (kept - x0).abs().mean() > 0.1


def test_mean_abs_levels():
    a = np.zeros((1, 2, 2, 3), np.uint8)
    assert mean_abs_levels(a, a + 10) == 10.0
