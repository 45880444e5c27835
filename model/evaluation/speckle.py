"""Speckle: mottled fills, the mark of a sampler whose steps compound their own errors.

Inside a reference image's coloured fills (not the white background; a pixel whose 5 x 5
neighbourhood is within FLAT_RANGE levels, so at least two pixels from an edge, and an edge
drawn a pixel off does not count), the drawn image's mean absolute deviation from its own
3 x 3 mean, in 0-255 levels. A clean drawing scores 0.

Used by the exposure-bias probe (model/research/exposure_bias.py) and by the few-step
comparison (model/evaluation/eval_few_step.py).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

FLAT_RANGE = 8  # levels: a 5 x 5 neighbourhood within this counts as flat
WHITE = 240  # a pixel with every channel above this is background


def speckle(real: np.ndarray, drawn: np.ndarray) -> float:
    """uint8 [B,H,W,3] each: drawn's mean 3 x 3 deviation, in levels, in real's flat fills."""
    r = torch.from_numpy(real.astype(np.float32)).permute(0, 3, 1, 2)
    d = torch.from_numpy(drawn.astype(np.float32)).permute(0, 3, 1, 2)
    spread = (F.max_pool2d(r, 5, 1, 2) + F.max_pool2d(-r, 5, 1, 2)).amax(1)  # 5 x 5 max - min
    flat = (spread < FLAT_RANGE) & (r.amin(1) <= WHITE)
    deviation = (d - F.avg_pool2d(d, 3, 1, 1, count_include_pad=False)).abs().mean(1)
    return float(deviation[flat].mean()) if flat.any() else 0.0
