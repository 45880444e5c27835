"""The PyTorch reference runtime: a key/value cache over the unified model, the text
decoder and the batched Euler sampler with classifier-free guidance. The TypeScript runtime
(shared/runtime/) implements the same steps and is checked against outputs of this file."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.network.sequence import Cursor, Image, attention_mask, build_row, collate
from model.network.transformer import UnifiedModel
from model.sampling.diffusion import DiffusionConfig, euler_update, guidance_applies, guided_x0, time_grid


@dataclass
class Cache:
    keys: torch.Tensor  # [L,B,S,s]
    values: torch.Tensor  # [L,B,S,e]
    valid: torch.Tensor  # [B,S] bool
    cursors: list[Cursor]  # where each row stands (running rotary index, latest image)

    @property
    def batch(self) -> int:
        return self.valid.shape[0]

    def select(self, rows: list[int]) -> Cache:
        idx = torch.tensor(rows, device=self.valid.device)
        return Cache(self.keys[:, idx], self.values[:, idx], self.valid[idx], [self.cursors[i] for i in rows])


def concat_caches(caches: list[Cache]) -> Cache:
    """Stack rows of several caches; shorter pasts are right-padded and masked."""
    S = max(c.valid.shape[1] for c in caches)

    def pad(x, dim):
        extra = S - x.shape[dim]
        if extra == 0:
            return x
        shape = list(x.shape)
        shape[dim] = extra
        return torch.cat([x, torch.zeros(shape, dtype=x.dtype, device=x.device)], dim=dim)

    return Cache(
        torch.cat([pad(c.keys, 2) for c in caches], 1),
        torch.cat([pad(c.values, 2) for c in caches], 1),
        torch.cat([pad(c.valid, 1) for c in caches], 0),
        [i for c in caches for i in c.cursors],
    )


class Runtime:
    """Runs where the model's weights are (CPU or GPU): the caches stay there, while rows are
    built and results handed back on the CPU, so the sampler and decoder loops are the same."""

    def __init__(self, model: UnifiedModel, pad_id: int, diffusion: DiffusionConfig | None = None):
        self.model = model.eval()
        self.cfg = model.cfg
        self.pad_id = pad_id
        self.diffusion = diffusion or DiffusionConfig()
        # the model's attention rule (a research variant may have its own); the core's for a stand-in
        self.attention_mask = getattr(model, "attention_mask", attention_mask)
        # a stand-in network without parameters (eval_onnx.OrtModel, or two in a SplitModel) runs on the CPU
        first = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
        self.device = first.device if first is not None else torch.device("cpu")

    def empty(self, batch: int) -> Cache:
        k, v = self.model.empty_cache(batch, device=self.device)
        return Cache(k, v, torch.zeros(batch, 0, dtype=torch.bool, device=self.device), [Cursor()] * batch)

    @torch.no_grad()
    def step(self, cache: Cache, items_per_row: list[list]):
        """Run new items on top of a cache: returns logits, denoised (both [B,T,...]), the new
        cache and, per row, the index of its last new position."""
        rows, nexts = [], []
        for items, start in zip(items_per_row, cache.cursors):
            row, n = build_row(items, start, self.cfg.grid, self.pad_id, self.cfg.patch_dim, self.cfg.image_gap)
            rows.append(row)
            nexts.append(n)
        b = collate(rows, self.pad_id, self.cfg.patch_dim).to(self.device)
        mask = self.attention_mask(b.valid, b.image_id, cache.valid)
        logits, denoised, keys, values = self.model(
            b.tokens, b.patches, b.is_image, b.noise_level, b.positions, mask, cache.keys, cache.values
        )
        new = Cache(keys, values, torch.cat([cache.valid, b.valid], 1), nexts)
        last = [len(r) - 1 for r in rows]
        return logits.float().cpu(), denoised.float().cpu(), new, last

    def prefill(self, contexts: list[list]) -> tuple[Cache, torch.Tensor]:
        """Returns the cache and the last position's logits of each row."""
        logits, _, cache, last = self.step(self.empty(len(contexts)), contexts)
        return cache, logits[torch.arange(len(contexts)), torch.tensor(last)]

    def decode_greedy(self, contexts: list[list], max_tokens: int, stop_ids: set[int]) -> list[list[int]]:
        """Greedy decode per row until a stop id (included) or the budget."""
        cache, logits = self.prefill(contexts)
        out = [[] for _ in contexts]
        done = [False] * len(contexts)
        for _ in range(max_tokens):
            nxt = logits.argmax(-1).tolist()
            for i, t in enumerate(nxt):
                if not done[i]:
                    out[i].append(t)
                    done[i] = t in stop_ids
            if all(done):
                break
            logits, _, cache, _ = self.step(cache, [[t] for t in nxt])
            logits = logits[:, 0]
        return out

    @torch.no_grad()
    def sample_images(
        self, cond: Cache, uncond: Cache, noise: torch.Tensor, steps: int, guidance: float
    ) -> torch.Tensor:
        """Euler sampler. cond/uncond: caches ending in <boi> (B rows each); noise [B,N,pd].
        One network call a step: the unconditional rows ride in the same batch as the
        conditional ones, and only at steps where guidance applies."""
        B = noise.shape[0]
        both = concat_caches([cond, uncond])
        x = noise.clone()
        grid = time_grid(steps, self.diffusion.time_shift)
        for t, t_next in zip(grid[:-1], grid[1:]):
            guided = guidance_applies(t, guidance, self.diffusion)
            cache = both if guided else cond
            xs = torch.cat([x, x]) if guided else x
            items = [[Image(xs[i].numpy(), t)] for i in range(xs.shape[0])]
            _, denoised, _, _ = self.step(cache, items)
            x0 = guided_x0(denoised[:B], denoised[B:] if guided else None, guidance)
            x = euler_update(x, x0, t, t_next)
        return x


def seeded_noise(seed: int, num_patches: int, patch_dim: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((num_patches, patch_dim)).astype(np.float32))
