"""The unified model: one Transformer over text tokens and raw image patches.

- Text tokens are embedded; image patches (raw pixels, no tokenizer) are projected linearly,
  with a learned patch-position embedding and the diffusion time embedding added.
- Blocks are GAUs (gated attention units: single head, queries and keys from one shared
  low-dimensional projection, gated output), pre-norm, no long skips.
- Multimodal rotary positions: each position has (p0, p1, p2); text has (n, n, n), so it is
  plain 1-D RoPE; patches have (n, n + row, n + col). Rotary pairs are interleaved across
  the three sections so that rows and columns each get high and low frequencies.
- Two heads: next-token logits and the predicted clean patch (x0) at every position.
- One forward serves training, prefill, one-token decode and a denoising step: it takes
  past keys/values and an additive mask and returns the extended keys/values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import torch
import torch.nn as nn
import torch.nn.functional as F

from model.network.sequence import attention_mask


@dataclass
class ModelConfig:
    vocab_size: int = 366
    image_size: int = 64
    patch_size: int = 8
    channels: int = 3
    d_model: int = 256
    n_layers: int = 12
    expansion: int = 512  # GAU value/gate width e
    qk_dim: int = 128  # GAU shared query/key width s
    rope_theta: float = 10000.0
    time_freq_dim: int = 128
    # Pixel head (PixelHead): a small convolutional net that refines each predicted patch at
    # the pixel level, seeing a few pixels of its neighbours. 0 channels: no pixel head, the
    # linear patch head alone (the layout of models trained before it existed).
    pixel_width: int = 0  # channels of its convolutions
    pixel_features: int = 8  # features per pixel that the patch's token hands it
    pixel_layers: int = 3  # 3 x 3 convolutions; each needs one more pixel of halo
    # Rotary distance from an image's start to the start of the image after it
    # (sequence.image_start): a fixed offset between a patch and the same cell of the image
    # before it, so that an edit's copy of its input is one attention pattern. 0: the running
    # index, as models trained before it lay images out.
    image_gap: int = 0
    # A research variant (model/research/network.py's ResearchConfig) says so; it is not exported.
    research_only: ClassVar[bool] = False

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.grid * self.grid

    @property
    def patch_dim(self) -> int:
        return self.patch_size * self.patch_size * self.channels

    @property
    def halo(self) -> int:
        return self.pixel_layers

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["image_gap"] == 0:  # the layout before the field existed: older packages' configs stay as they were
            del d["image_gap"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """A saved config (a checkpoint's model_config). One with fields this class lacks, a
        research variant's (image_input, image_attention, ...), is refused by name."""
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(
                f"model config fields {unknown} belong to a research variant: load it through "
                "model.research.network (load_runtime, load_model), train it with model.research.train"
            )
        return cls(**d)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_angles(positions: torch.Tensor, qk_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """positions [B, T, 3] -> cos, sin [B, T, qk_dim/2]. Pair i rotates by section i % 3."""
    pairs = qk_dim // 2
    inv_freq = theta ** (-torch.arange(pairs, dtype=torch.float32, device=positions.device) * 2 / qk_dim)
    section = torch.arange(pairs, device=positions.device) % 3
    pos = positions.float()[..., section]  # [B, T, pairs]: each pair's own coordinate
    ang = pos * inv_freq
    return ang.cos(), ang.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class GAU(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.e, self.s = cfg.expansion, cfg.qk_dim
        self.norm = RMSNorm(cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, 2 * self.e + self.s)
        self.qk_scale = nn.Parameter(torch.ones(2, self.s))
        self.qk_bias = nn.Parameter(torch.zeros(2, self.s))
        self.out = nn.Linear(self.e, cfg.d_model)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        # x [B,T,d]; mask [B,T,S] additive; past_k [B,P,s]; past_v [B,P,e]
        u, v, z = F.silu(self.proj(self.norm(x))).split([self.e, self.e, self.s], dim=-1)
        q = apply_rope(z * self.qk_scale[0] + self.qk_bias[0], cos, sin)  # [B,T,s]
        k = apply_rope(z * self.qk_scale[1] + self.qk_bias[1], cos, sin)  # [B,T,s]
        k = torch.cat([past_k, k.to(past_k.dtype)], dim=1)  # [B,S,s]
        v = torch.cat([past_v, v.to(past_v.dtype)], dim=1)  # [B,S,e]
        att = (q @ k.transpose(1, 2).to(q.dtype)) / math.sqrt(self.s) + mask  # [B,T,S]
        o = att.softmax(dim=-1) @ v.to(q.dtype)  # [B,T,e]
        return x + self.out(u * o), k, v


def shift_sequence(x: torch.Tensor, offset: int, reach: int) -> torch.Tensor:
    """x [B, T, ...] -> y with y[:, i] = x[:, i + offset], zeros past either end; |offset| <= reach.
    Constant slice bounds of a padded copy, so the ONNX graph keeps T dynamic."""
    pad = [0, 0] * (x.dim() - 2) + [reach, reach]
    xp = F.pad(x, pad)
    start, end = reach + offset, reach + offset - 2 * reach
    return xp[:, start : end if end else None]


class PixelHead(nn.Module):
    """Refines the linear head's patch prediction pixel by pixel (DeCo, Ma et al. 2025, splits a
    raw-pixel diffusion model the same way: the Transformer decides what goes where, a light
    pixel decoder draws the edges). The patch head maps one token to 8 x 8 pixels, so a
    corner or an outline that falls inside a patch is a few values of a linear map: the
    model without this head rounded corners even when it saw them (from a square noised to
    t = 0.2, 12 % of them came out wrong; 2 % with it). This head sees, per pixel, the noisy input, the
    predicted clean value, the noise level and a few features from the patch's token, over
    the patch plus a halo of `pixel_layers` pixels from its neighbour patches, and adds a
    correction. Its last convolution starts at zero, so adding it to a trained model changes
    nothing until training teaches it something.

    Neighbours are found in the sequence: an image's patches are consecutive and row-major,
    so the patch above is `grid` positions back. Every image whose output is read (a
    denoising step's new positions) is complete in the new positions; patches at the image's
    border get zeros from outside it, as a convolution's padding."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        P, C, W = cfg.patch_size, cfg.pixel_features, cfg.pixel_width
        self.features = nn.Linear(cfg.d_model, P * P * C)
        layers: list[nn.Module] = []
        width_in = 2 * cfg.channels + 1 + C
        for i in range(cfg.pixel_layers):
            last = i == cfg.pixel_layers - 1
            layers.append(nn.Conv2d(width_in, cfg.channels if last else W, 3))
            if not last:
                layers.append(nn.SiLU())
            width_in = W
        self.convs = nn.Sequential(*layers)
        nn.init.zeros_(self.convs[-1].weight)
        nn.init.zeros_(self.convs[-1].bias)

    def forward(self, h, x0, patches, noise_level, row, col, img):
        """h [B,T,d], x0 and patches [B,T,patch_dim], noise_level [B,T], row/col [B,T] (patch
        coordinates), img [B,T,1] -> x0 refined at image positions [B,T,patch_dim]."""
        cfg = self.cfg
        P, g, ch, halo = cfg.patch_size, cfg.grid, cfg.channels, cfg.halo
        B, T = x0.shape[0], x0.shape[1]
        t = noise_level[..., None, None, None].expand(B, T, P, P, 1)
        per_pixel = torch.cat(
            [
                patches.view(B, T, P, P, ch),
                x0.view(B, T, P, P, ch).to(patches.dtype),
                t.to(patches.dtype),
                self.features(h).view(B, T, P, P, cfg.pixel_features).to(patches.dtype),
            ],
            dim=-1,
        )
        # Each position's patch plus `halo` pixels of its 8 neighbours: for a neighbour dr rows
        # and dc columns away, only the strip or corner that borders the patch is read.
        near = {-1: slice(P - halo, P), 0: slice(0, P), 1: slice(0, halo)}
        bands = []
        for dr in (-1, 0, 1):
            band = []
            for dc in (-1, 0, 1):
                inside = (row + dr >= 0) & (row + dr < g) & (col + dc >= 0) & (col + dc < g)
                keep = inside.to(per_pixel.dtype)[..., None, None, None] * img[..., None, None]
                part = per_pixel[:, :, near[dr], near[dc]]
                band.append(shift_sequence(part, dr * g + dc, g + 1) * keep)
            bands.append(torch.cat(band, dim=3))
        crop = torch.cat(bands, dim=2)  # [B,T,P+2h,P+2h,C]
        crop = crop.reshape(B * T, P + 2 * halo, P + 2 * halo, -1).permute(0, 3, 1, 2)
        # The convolutions, nearly all of the head's work, run at image positions only: a text
        # position's output is never read, and a text prefill or decode has no image at all.
        rows = (img.reshape(-1) > 0).nonzero().squeeze(1)
        delta = self.convs(crop[rows]).permute(0, 2, 3, 1)  # [rows, P, P, ch]
        zeros = torch.zeros_like(x0).view(B * T, P, P, ch)
        return x0 + zeros.index_put((rows,), delta.to(x0.dtype)).view(x0.shape)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the noise level t in [0, 1]: [B, T] -> [B, T, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    ang = (t.float() * 1000.0)[..., None] * freqs
    return torch.cat([ang.cos(), ang.sin()], dim=-1)


class UnifiedModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.tok_emb = nn.Embedding(cfg.vocab_size, d)
        self.patch_in = nn.Linear(cfg.patch_dim, d)
        self.patch_pos = nn.Parameter(torch.zeros(cfg.num_patches, d))
        self.time_mlp = nn.Sequential(nn.Linear(cfg.time_freq_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(GAU(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, cfg.vocab_size, bias=False)
        self.patch_out = nn.Linear(d, cfg.patch_dim)
        self.pixel_head = PixelHead(cfg) if cfg.pixel_width else None
        self.apply(self._init)
        nn.init.normal_(self.patch_pos, std=0.02)
        for b in self.blocks:  # small residual branches at start (GPT-2 style)
            nn.init.normal_(b.out.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, tokens, patches, is_image, noise_level, positions, attention_mask, past_keys, past_values):
        """
        tokens [B,T] int64, patches [B,T,patch_dim], is_image [B,T] (1 at patches),
        noise_level [B,T], positions [B,T,3] int64, attention_mask [B,T,P+T] additive,
        past_keys [L,B,P,s], past_values [L,B,P,e]
        -> logits [B,T,V], denoised [B,T,patch_dim], present_keys [L,B,P+T,s], present_values [L,B,P+T,e]
        """
        cfg = self.cfg
        img = is_image.unsqueeze(-1).to(torch.float32)  # [B,T,1]
        row, col = positions[..., 1] - positions[..., 0], positions[..., 2] - positions[..., 0]
        rc = (row * cfg.grid + col).clamp(0, cfg.num_patches - 1)  # patch index (row-major)
        patch_x = (
            self.read_patches(patches, noise_level)
            + self.patch_pos[rc]
            + self.time_mlp(timestep_embedding(noise_level, cfg.time_freq_dim))
        )
        x = img * patch_x + (1 - img) * self.tok_emb(tokens)  # [B,T,d]
        cos, sin = rope_angles(positions, cfg.qk_dim, cfg.rope_theta)
        mask = attention_mask.to(x.dtype)
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, cos, sin, mask, past_keys[i], past_values[i])
            keys.append(k)
            values.append(v)
        h = self.norm(x)
        denoised = self.patch_out(h)
        if self.pixel_head is not None:
            denoised = self.pixel_head(h, denoised, patches, noise_level, row, col, img)
        return self.lm_head(h), denoised, torch.stack(keys), torch.stack(values)

    def read_patches(self, patches: torch.Tensor, noise_level: torch.Tensor) -> torch.Tensor:
        """[B,T,patch_dim] -> [B,T,d]: raw pixels projected linearly (noise_level is for
        model/research/network.py's variant, which reads finished images as codes)."""
        return self.patch_in(patches)

    def attention_mask(self, new_valid, new_image_id, past_valid=None) -> torch.Tensor:
        """The model's attention rule (network/sequence.py), which training and sampling use."""
        return attention_mask(new_valid, new_image_id, past_valid)

    def empty_cache(self, batch: int, device=None, dtype=torch.float32):
        cfg = self.cfg
        return (
            torch.zeros(cfg.n_layers, batch, 0, cfg.qk_dim, device=device, dtype=dtype),
            torch.zeros(cfg.n_layers, batch, 0, cfg.expansion, device=device, dtype=dtype),
        )
