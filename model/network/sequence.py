"""Conversations -> model inputs (see docs/model-package.md for the template and positions).

An item of a sequence is a text token or an image (num_patches positions). The same rules
build training batches, inference steps and the export's golden inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import torch

NEG = -1e9  # additive mask value for "may not attend"


def image_to_patches(img: np.ndarray, patch: int) -> np.ndarray:
    """uint8 [H, W, 3] -> float32 [num_patches, patch*patch*3] in -1..1, row-major patches,
    (row, column, channel) inside a patch."""
    return patchify(img.astype(np.float32) / 127.5 - 1.0, patch)


def patchify(x: np.ndarray, patch: int) -> np.ndarray:
    """float [H, W, C] -> [num_patches, patch*patch*C] in the patch layout of image_to_patches."""
    h, w, c = x.shape
    x = x.reshape(h // patch, patch, w // patch, patch, c).transpose(0, 2, 1, 3, 4)
    return x.reshape((h // patch) * (w // patch), patch * patch * c)


def patches_to_image(p: np.ndarray, patch: int, size: int) -> np.ndarray:
    g = size // patch
    x = p.reshape(g, g, patch, patch, 3).transpose(0, 2, 1, 3, 4).reshape(size, size, 3)
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


@dataclass
class Image:
    patches: np.ndarray  # [num_patches, patch_dim]
    noise_level: float = 0.0


Item = "int | Image"


@dataclass
class Row:
    """Flat per-position arrays of one sequence (or the new part of one)."""

    tokens: list[int] = field(default_factory=list)
    is_image: list[float] = field(default_factory=list)
    image_id: list[int] = field(default_factory=list)  # -1 for text
    positions: list[tuple[int, int, int]] = field(default_factory=list)
    patches: list[np.ndarray] = field(default_factory=list)  # one [patch_dim] per position
    noise_level: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class Cursor:
    """Where a sequence stands: the running rotary index, and where its latest image started."""

    index: int = 0
    last_image: int | None = None


def image_start(index: int, last_image: int | None, image_gap: int) -> int:
    """Where the next image starts. With image_gap > 0, an image after an earlier one starts
    image_gap positions after that image's start (the running index if the text between took
    more room): a patch and the same cell of the image before it then always sit at one
    rotary offset, (gap, gap, gap), so copying an input image is one attention pattern
    whatever instruction lies between. 0: the running index (packages trained before it)."""
    if image_gap <= 0 or last_image is None:
        return index
    return max(index, last_image + image_gap)


def build_row(
    items: list, start: Cursor | int, grid: int, pad_id: int, patch_dim: int, image_gap: int = 0
) -> tuple[Row, Cursor]:
    """Lay out items from `start` (a cursor, or a running rotary index with no image before it);
    returns the row and the cursor after it."""
    cursor = start if isinstance(start, Cursor) else Cursor(start)
    row, n, last_image, image_count = Row(), cursor.index, cursor.last_image, 0
    zero = np.zeros(patch_dim, np.float32)
    for item in items:
        if isinstance(item, Image):
            n = image_start(n, last_image, image_gap)
            for r in range(grid):
                for c in range(grid):
                    row.tokens.append(pad_id)
                    row.is_image.append(1.0)
                    row.image_id.append(image_count)
                    row.positions.append((n, n + r, n + c))
                    row.patches.append(item.patches[r * grid + c])
                    row.noise_level.append(item.noise_level)
            image_count += 1
            last_image = n
            n += grid
        else:
            row.tokens.append(int(item))
            row.is_image.append(0.0)
            row.image_id.append(-1)
            row.positions.append((n, n, n))
            row.patches.append(zero)
            row.noise_level.append(0.0)
            n += 1
    return row, Cursor(n, last_image)


@dataclass
class Batch:
    tokens: torch.Tensor  # [B,T] int64
    patches: torch.Tensor  # [B,T,pd]
    is_image: torch.Tensor  # [B,T]
    noise_level: torch.Tensor  # [B,T]
    positions: torch.Tensor  # [B,T,3] int64
    valid: torch.Tensor  # [B,T] bool
    image_id: torch.Tensor  # [B,T] int64

    def to(self, device: torch.device | str) -> Batch:
        """The same batch on another device (rows are built on the CPU, with numpy)."""
        return Batch(*(getattr(self, f.name).to(device, non_blocking=True) for f in fields(self)))


def collate(rows: list[Row], pad_id: int, patch_dim: int) -> Batch:
    """Right-pads rows to the longest."""
    B, T = len(rows), max(len(r) for r in rows)
    tokens = np.full((B, T), pad_id, np.int64)
    patches = np.zeros((B, T, patch_dim), np.float32)
    is_image = np.zeros((B, T), np.float32)
    noise = np.zeros((B, T), np.float32)
    positions = np.zeros((B, T, 3), np.int64)
    valid = np.zeros((B, T), bool)
    image_id = np.full((B, T), -1, np.int64)
    for b, r in enumerate(rows):
        n = len(r)
        tokens[b, :n] = r.tokens
        patches[b, :n] = np.stack(r.patches) if n else 0
        is_image[b, :n] = r.is_image
        noise[b, :n] = r.noise_level
        positions[b, :n] = r.positions
        valid[b, :n] = True
        image_id[b, :n] = r.image_id
        if n < T:  # padding continues the positions so that rotary angles stay finite and tidy
            last = positions[b, n - 1, 0] if n else 0
            positions[b, n:] = last + 1
    t = torch.from_numpy
    return Batch(t(tokens), t(patches), t(is_image), t(noise), t(positions), t(valid), t(image_id))


def attention_mask(
    new_valid: torch.Tensor,
    new_image_id: torch.Tensor,
    past_valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Additive mask [B,T,P+T]. A query sees a key iff the key is valid and (it is not later,
    or both are patches of the same image). Past keys are all earlier than new queries."""
    B, T = new_valid.shape
    idx = torch.arange(T, device=new_valid.device)
    causal = idx[None, :, None] >= idx[None, None, :]  # [1,T,T]
    same_image = (new_image_id[:, :, None] == new_image_id[:, None, :]) & (new_image_id[:, :, None] >= 0)
    allowed = (causal | same_image) & new_valid[:, None, :]
    if past_valid is not None and past_valid.shape[1] > 0:
        allowed = torch.cat([past_valid[:, None, :].expand(B, T, -1), allowed], dim=2)
    return torch.where(allowed, 0.0, NEG).to(torch.float32)
