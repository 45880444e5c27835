"""Flow matching on raw patches, apart from the network.

x_t = (1 - t) * x0 + t * noise, t in [0, 1] (t = 1 is pure noise); the network predicts x0.
Training draws t from a logit-normal shifted towards high noise, where the layout of an
image is decided; sampling is Euler on the implied velocity over a shifted time grid.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch


@dataclass
class DiffusionConfig:
    t_mean: float = 1.0  # logit-normal location: median t = sigmoid(1.0) = 0.73
    t_std: float = 1.2
    t_min: float = 1e-3
    default_steps: int = 10
    # >1 spends more of the grid's steps at high noise, where the layout is decided. Measured
    # on the shipped model (validation split): 2 draws 72 % right against 62 % for 1.
    time_shift: float = 2.0
    # Guidance only at high noise, where the caption decides the layout; at low noise it only
    # sharpens what is there and, amplified, pushes pixels off (Kynkaanniemi et al. 2024,
    # "Applying guidance in a limited interval"). Measured on the shipped model: g=4 on
    # t in [0.7, 1] draws 65 % right against 42 % for g=3 on every step, with 30 % fewer rows;
    # with the shifted grid, g=5 on [0.8, 1] (the first four of its ten steps); after rollout
    # training (step 9,400), g=6 on [0.8, 1]: 82 % against 80 % for g=5 and 79 % for g=4.
    default_guidance: float = 6.0
    guidance_interval: tuple[float, float] = (0.8, 1.0)  # guidance applies for t in [lo, hi]


def check_interval(lo: float, hi: float) -> None:
    """A guidance interval must satisfy 0 <= lo <= hi <= 1 (raises ValueError)."""
    if not 0 <= lo <= hi <= 1:
        raise ValueError(f"guidance interval {lo},{hi}: want lo,hi with 0 <= lo <= hi <= 1")


def parse_interval(text: str) -> tuple[float, float]:
    """A command line's guidance interval, "lo,hi" (an argparse type)."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"guidance interval {text}: want lo,hi") from None
    try:
        check_interval(lo, hi)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return lo, hi


def sample_t(n: int, cfg: DiffusionConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    z = torch.randn(n, generator=generator) * cfg.t_std + cfg.t_mean
    return torch.sigmoid(z).clamp(cfg.t_min, 1.0)


def add_noise(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    t = t.view(-1, *([1] * (x0.dim() - 1)))
    return (1 - t) * x0 + t * noise


def shift_level(u, shift: float):
    """A uniform grid's level u in [0, 1] -> the shifted grid's (shift > 1: more levels near 1)."""
    return shift * u / (1 + (shift - 1) * u)


def time_grid(steps: int, shift: float) -> list[float]:
    """steps + 1 noise levels from 1 down to 0."""
    return [shift_level(1 - i / steps, shift) for i in range(steps + 1)]


def step_up(t: torch.Tensor, steps: int, shift: float) -> torch.Tensor:
    """The noise level one step above t on time_grid(steps, shift)'s spacing (1 at most)."""
    u = t / (shift - (shift - 1) * t)  # shift_level's inverse: the grid is uniform in u
    return shift_level((u + 1 / steps).clamp(max=1.0), shift)


def guided_x0(x0_cond: torch.Tensor, x0_uncond: torch.Tensor | None, guidance: float) -> torch.Tensor:
    if x0_uncond is None:
        return x0_cond
    return x0_uncond + guidance * (x0_cond - x0_uncond)


def euler_update(x: torch.Tensor, x0: torch.Tensor, t, t_next) -> torch.Tensor:
    """One Euler step of dx/dt = v with v = (x - x0) / t; lands on x0 when t_next = 0.
    t and t_next: numbers, or tensors that broadcast against x (a level per row)."""
    v = (x - x0) / t
    return x + (t_next - t) * v


def guidance_applies(t: float, guidance: float, cfg: DiffusionConfig) -> bool:
    lo, hi = cfg.guidance_interval
    return guidance != 1.0 and lo <= t <= hi
