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
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 366
    image_size: int = 64
    patch_size: int = 8
    channels: int = 3
    d_model: int = 256
    n_layers: int = 12
    expansion: int = 512      # GAU value/gate width e
    qk_dim: int = 128         # GAU shared query/key width s
    rope_theta: float = 10000.0
    time_freq_dim: int = 128

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.grid * self.grid

    @property
    def patch_dim(self) -> int:
        return self.patch_size * self.patch_size * self.channels

    def to_dict(self) -> dict:
        return asdict(self)


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
    pos = positions.float()[..., section]          # [B, T, pairs]: each pair's own coordinate
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
        q = apply_rope(z * self.qk_scale[0] + self.qk_bias[0], cos, sin)   # [B,T,s]
        k = apply_rope(z * self.qk_scale[1] + self.qk_bias[1], cos, sin)   # [B,T,s]
        k = torch.cat([past_k, k.to(past_k.dtype)], dim=1)                 # [B,S,s]
        v = torch.cat([past_v, v.to(past_v.dtype)], dim=1)                 # [B,S,e]
        att = (q @ k.transpose(1, 2).to(q.dtype)) / math.sqrt(self.s) + mask  # [B,T,S]
        o = att.softmax(dim=-1) @ v.to(q.dtype)                            # [B,T,e]
        return x + self.out(u * o), k, v


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
        img = is_image.unsqueeze(-1).to(torch.float32)                     # [B,T,1]
        rc = (positions[..., 1] - positions[..., 0]) * cfg.grid + (positions[..., 2] - positions[..., 0])
        rc = rc.clamp(0, cfg.num_patches - 1)                              # patch index (row-major)
        patch_x = self.patch_in(patches) + self.patch_pos[rc] + self.time_mlp(timestep_embedding(noise_level, cfg.time_freq_dim))
        x = img * patch_x + (1 - img) * self.tok_emb(tokens)               # [B,T,d]
        cos, sin = rope_angles(positions, cfg.qk_dim, cfg.rope_theta)
        mask = attention_mask.to(x.dtype)
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, cos, sin, mask, past_keys[i], past_values[i])
            keys.append(k)
            values.append(v)
        h = self.norm(x)
        return self.lm_head(h), self.patch_out(h), torch.stack(keys), torch.stack(values)

    def empty_cache(self, batch: int, device=None, dtype=torch.float32):
        cfg = self.cfg
        return (torch.zeros(cfg.n_layers, batch, 0, cfg.qk_dim, device=device, dtype=dtype),
                torch.zeros(cfg.n_layers, batch, 0, cfg.expansion, device=device, dtype=dtype))
