"""The thesis study's network variants (docs/thesis.md), as a subclass of the shipped model.

- image_input "vq": a finished image (noise level 0: what describe reads, or a drawn image put
  back in the context) is read through a k-means tokenizer of its patches (model/research/vq.py)
  instead of the raw pixels; noisy images being denoised are read raw in both, so drawing is
  the same network and only the reading of images differs. vq_embed "table": a learned vector
  per code, as token-based multimodal models embed image tokens; "project": the code's patch
  (its reconstruction) through the same linear patch_in, which isolates the information the
  tokenizer loses from learning a table.
- image_attention "causal": an image's patches see only the earlier ones, raster order.

At their defaults ResearchModel is the shipped UnifiedModel and ResearchConfig.to_dict() leaves
the research fields out, so a research run's checkpoint of a raw arm is a shipped one. Checkpoints
with a variant on load through load_model / load_runtime here (the core loader refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from model.network.sequence import attention_mask as core_attention_mask
from model.network.transformer import ModelConfig, UnifiedModel

IMAGE_ATTENTION = ("bidirectional", "causal")
RESEARCH_DEFAULTS = {"image_input": "raw", "codebook_size": 0, "vq_embed": "table", "image_attention": "bidirectional"}


@dataclass
class ResearchConfig(ModelConfig):
    image_input: str = "raw"  # "raw" | "vq"
    codebook_size: int = 0  # the tokenizer's codes (image_input "vq")
    vq_embed: str = "table"  # "table" | "project"
    image_attention: str = "bidirectional"  # or "causal"

    def __post_init__(self):
        if self.image_input not in ("raw", "vq"):
            raise ValueError(f"image_input {self.image_input!r}: want raw or vq")
        if self.image_input == "vq" and self.codebook_size < 2:
            raise ValueError("image_input vq needs codebook_size >= 2")
        if self.vq_embed not in ("table", "project"):
            raise ValueError(f"vq_embed {self.vq_embed!r}: want table or project")
        if self.image_attention not in IMAGE_ATTENTION:
            raise ValueError(f"image_attention {self.image_attention!r}: want one of {', '.join(IMAGE_ATTENTION)}")

    @property
    def research_only(self) -> bool:
        """True when a research variant is on: such a model is not exported or served."""
        return any(getattr(self, k) != v for k, v in RESEARCH_DEFAULTS.items())

    def to_dict(self) -> dict:
        d = super().to_dict()
        for k, v in RESEARCH_DEFAULTS.items():
            if d[k] == v:
                del d[k]
        return d


def attention_mask(
    new_valid: torch.Tensor,
    new_image_id: torch.Tensor,
    past_valid: torch.Tensor | None = None,
    image_attention: str = "bidirectional",
) -> torch.Tensor:
    """The core mask (network/sequence.py), or with image_attention "causal" without its second
    rule: a patch sees only the patches of its image at or before it in raster order (an image's
    patches are consecutive and row-major); text is causal either way."""
    if image_attention not in IMAGE_ATTENTION:
        raise ValueError(f"image_attention {image_attention!r}: want one of {', '.join(IMAGE_ATTENTION)}")
    if image_attention == "bidirectional":
        return core_attention_mask(new_valid, new_image_id, past_valid)
    # Every key in its own "image" turns the core's rule into the plain causal one over valid keys.
    own = torch.full_like(new_image_id, -1)
    return core_attention_mask(new_valid, own, past_valid)


@torch.no_grad()
def nearest_code(patches: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """[..., patch_dim] -> int64 [...]: the index of each patch's nearest codebook row (squared
    L2), in float32 even under autocast (bf16 distances would pick wrong codes)."""
    flat = patches.reshape(-1, patches.shape[-1]).float()
    cb = codebook.float()
    with torch.autocast(flat.device.type, enabled=False):
        d = (cb * cb).sum(1)[None, :] - 2 * flat @ cb.T  # |x|^2 is the same for every code
    return d.argmin(1).view(patches.shape[:-1])


class ResearchModel(UnifiedModel):
    """UnifiedModel with the study's image reading (image_input) and attention rule (image_attention)."""

    cfg: ResearchConfig

    def __init__(self, cfg: ResearchConfig):
        super().__init__(cfg)
        if cfg.image_input == "vq":
            # The tokenizer: fixed (a buffer, saved with the weights), set by install_codebook
            # (model/research/train.py) from model/research/vq.py's codebook.
            self.register_buffer("codebook", torch.zeros(cfg.codebook_size, cfg.patch_dim))
            self.code_emb = nn.Embedding(cfg.codebook_size, cfg.d_model) if cfg.vq_embed == "table" else None
            if self.code_emb is not None:
                nn.init.normal_(self.code_emb.weight, std=0.02)

    def read_patches(self, patches: torch.Tensor, noise_level: torch.Tensor) -> torch.Tensor:
        """With image_input "vq", the finished images' patches (noise level 0) read as their codes."""
        raw = super().read_patches(patches, noise_level)
        if self.cfg.image_input != "vq":
            return raw
        codes = nearest_code(patches, self.codebook)
        coded = self.code_emb(codes) if self.code_emb is not None else self.patch_in(self.codebook[codes])
        return torch.where((noise_level == 0)[..., None], coded.to(raw.dtype), raw)

    def attention_mask(self, new_valid, new_image_id, past_valid=None) -> torch.Tensor:
        return attention_mask(new_valid, new_image_id, past_valid, self.cfg.image_attention)


def load_model(ck: dict, raw: bool = False) -> ResearchModel:
    """A checkpoint dict (model.packaging.weights.load_checkpoint) -> its network, research or not."""
    model = ResearchModel(ResearchConfig(**ck["model_config"]))
    model.load_state_dict(ck["model" if raw else "ema"])
    return model


def load_runtime(ckpt_path: str, raw: bool = False, device: str = "cpu"):
    """model.sample.load_runtime for checkpoints of the study, whatever their variant."""
    from model.network.tokenizer import Tokenizer
    from model.packaging.weights import load_checkpoint
    from model.sampling.diffusion import DiffusionConfig
    from model.sampling.inference import Runtime

    ck = load_checkpoint(ckpt_path)
    tok = Tokenizer.from_json(ck["tokenizer"])
    model = load_model(ck, raw).to(device)
    return Runtime(model, tok.pad, DiffusionConfig(**ck["diffusion_config"])), tok
