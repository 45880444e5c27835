"""A student that only denoises (train.py --distill_reader; docs/few-step.md, "The teacher reads").

The teacher's weights (the reader) run every position that is not an image being denoised:
the prompt, earlier images, the text answer and its decode. The student's weights run only
the positions of the image being denoised, on top of the reader's cache, which is how the
serving runtime calls a package's denoise graph. So what a model says, and how it reads a
picture, stay the teacher's exactly, and the student's whole capacity goes to drawing.

`SplitModel` is that pair in PyTorch, for sampling and evaluation; `denoiser_loss` trains the
student the same way: the reader's cache of each row's prefix (no gradient), and the student's
prediction of the noisy image's patches on top of it.
"""

from __future__ import annotations

import torch
from torch import nn

from model.network.sequence import Batch, attention_mask
from model.network.transformer import ModelConfig, UnifiedModel


def denoising_positions(is_image: torch.Tensor, noise_level: torch.Tensor) -> torch.Tensor:
    """bool [B,T]: patches of an image being denoised (a clean image has noise level 0)."""
    return (is_image > 0) & (noise_level > 0)


class SplitModel(nn.Module):
    """The reader for every call but a denoising step, which the denoiser runs on the reader's
    cache. A call that mixes denoised patches with other positions is refused: the runtime never
    makes one (prefill and decode hold no noisy image; a step holds only its images)."""

    def __init__(self, reader: UnifiedModel, denoiser: UnifiedModel):
        super().__init__()
        if reader.cfg != denoiser.cfg:
            raise ValueError(f"reader and denoiser differ in shape: {reader.cfg} against {denoiser.cfg}")
        self.reader, self.denoiser = reader, denoiser
        self.cfg: ModelConfig = reader.cfg

    def forward(self, tokens, patches, is_image, noise_level, positions, attention_mask, past_keys, past_values):
        noisy = denoising_positions(is_image, noise_level)
        if not bool(noisy.any()):
            net = self.reader
        elif bool(noisy.all()):
            net = self.denoiser
        else:
            raise ValueError("a call mixes an image being denoised with other positions; run them apart")
        return net(tokens, patches, is_image, noise_level, positions, attention_mask, past_keys, past_values)

    def attention_mask(self, new_valid, new_image_id, past_valid=None) -> torch.Tensor:
        """The reader's rule (a stand-in without one, as eval_onnx.OrtModel, has the core's)."""
        return getattr(self.reader, "attention_mask", attention_mask)(new_valid, new_image_id, past_valid)

    def empty_cache(self, batch: int, device=None, dtype=torch.float32):
        return self.reader.empty_cache(batch, device=device, dtype=dtype)


def load_split(ck: dict, weights: str = "ema") -> UnifiedModel | SplitModel:
    """A checkpoint's model: its `weights` alone, or, for a student trained with a reader (the
    checkpoint holds the reader's weights as `reader`), the two as one SplitModel."""
    cfg = ModelConfig.from_dict(ck["model_config"])
    model = UnifiedModel(cfg)
    model.load_state_dict(ck[weights])
    if "reader" not in ck:
        return model
    reader = UnifiedModel(cfg)
    reader.load_state_dict(ck["reader"])
    return SplitModel(reader.float(), model.float())


def gather_positions(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x [B,T,...] at index [B,n] -> [B,n,...]."""
    shape = (*index.shape, *x.shape[2:])
    return x.gather(1, index.view(*index.shape, *([1] * (x.dim() - 2))).expand(shape))


def denoiser_batch(reader: UnifiedModel, b: Batch):
    """Each row's noisy image as the new positions of a denoising step, on the reader's cache of
    what comes before it (no gradient): the step's batch, its index into b [B,n], the cache's
    keys and values, and which of the cache's positions the step sees. Every row must hold one
    noisy image, of the same size."""
    noisy = denoising_positions(b.is_image, b.noise_level) & b.valid
    counts = noisy.sum(1)
    if not bool((counts == counts[0]).all()) or int(counts[0]) == 0:
        raise ValueError(f"every row needs one image being denoised, of one size; got {counts.tolist()} patches")
    B, T = b.tokens.shape
    index = noisy.nonzero()[:, 1].view(B, int(counts[0]))  # row-major order, each row's ascending
    # The cache covers the whole row, but a patch sees only the prefix before its image starts,
    # as in serving, where the cache ends at <boi>.
    past_valid = b.valid & (torch.arange(T, device=b.tokens.device)[None, :] < index[:, :1])
    with torch.no_grad():
        mask = reader.attention_mask(b.valid, b.image_id)
        pk, pv = reader.empty_cache(B, device=b.tokens.device)
        _, _, keys, values = reader(b.tokens, b.patches, b.is_image, b.noise_level, b.positions, mask, pk, pv)
    new = Batch(*(gather_positions(getattr(b, f), index) for f in Batch.__dataclass_fields__))
    return new, index, keys, values, past_valid


def denoiser_loss(
    student: nn.Module, reader: UnifiedModel, b: Batch, x0_target: torch.Tensor, diff_weight: torch.Tensor, huber: float
):
    """The weighted x0 error of the student's prediction of each row's noisy image, made on the
    reader's cache: the squared error, or with `huber` > 0 the pseudo-Huber error
    sqrt(e^2 + c^2) - c, which weighs small errors more than the square does."""
    new, index, keys, values, past_valid = denoiser_batch(reader, b)
    mask = reader.attention_mask(new.valid, new.image_id, past_valid)
    _, denoised, _, _ = student(
        new.tokens, new.patches, new.is_image, new.noise_level, new.positions, mask, keys, values
    )
    err = denoised.float() - gather_positions(x0_target, index)
    per_value = err**2 if huber <= 0 else torch.sqrt(err**2 + huber**2) - huber
    w = gather_positions(diff_weight, index)
    return (w * per_value).sum() / w.sum().clamp_min(1e-8)
