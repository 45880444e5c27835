"""The PyTorch reference step, timed for `npm run bench` (bench/torch.ts runs this).

Reads one JSON object on stdin:
  {"config": ModelConfig fields, "pad_id": int, "cond_ids": [...], "uncond_ids": [...],
   "batches": [1, 16], "t": 0.5, "guidance": 2.0, "min_ms": 1000, "min_reps": 5,
   "modes": ["fp32", "bf16"], "threads": 0, "checkpoint": optional path}
and prints one JSON object: per mode and batch, ms per denoising step of that many jobs.

One step is what the TypeScript runtime's denoiseStep does: the network over the conditional
and unconditional rows of every job in one call, on the cached contexts (prefilled once,
outside the timing), then guidance and the Euler update. At its best: the batch's inputs
(rows, mask, padded pasts) are built once, as the TypeScript runtime reuses them between
steps, so only the noisy patches change; "runtime_step" also times model/sampling/inference.py's
Runtime.step, which rebuilds them in Python at every call. Eager mode, inference mode; bf16
is torch.autocast on the CPU. The weights are random unless a checkpoint is given: the time
does not depend on them.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import torch

from model.network.sequence import Image, attention_mask, build_row, collate
from model.network.transformer import ModelConfig, UnifiedModel
from model.sampling.diffusion import euler_update, guided_x0
from model.sampling.inference import Runtime, concat_caches, seeded_noise

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def timed(fn, spec: dict) -> dict:
    fn()  # warm-up
    times: list[float] = []
    spent = 0.0
    while len(times) < spec["min_reps"] or (spent < spec["min_ms"] and len(times) < 200):
        s = time.perf_counter()
        fn()
        ms = (time.perf_counter() - s) * 1000
        times.append(ms)
        spent += ms
    return {"median_ms": statistics.median(times), "min_ms": min(times), "reps": len(times)}


def main() -> None:
    spec = json.load(sys.stdin)
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(0)
    cfg = ModelConfig(**spec["config"])
    model = UnifiedModel(cfg).eval()
    if spec.get("checkpoint") and os.path.exists(spec["checkpoint"]):
        ck = torch.load(spec["checkpoint"], weights_only=False, map_location="cpu")
        model.load_state_dict(ck["ema"])
    rt = Runtime(model, spec["pad_id"])
    t, t_next, g = float(spec["t"]), float(spec["t"]) / 2, float(spec["guidance"])
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "params": model.num_params(), "modes": {}}
    for mode in spec["modes"]:
        out["modes"][mode] = {}
        for batch in spec["batches"]:
            with torch.inference_mode():
                cond, _ = rt.prefill([list(spec["cond_ids"])] * batch)
                uncond, _ = rt.prefill([list(spec["uncond_ids"])] * batch)
                both = concat_caches([cond, uncond])
                x = torch.stack([seeded_noise(i, cfg.num_patches, cfg.patch_dim) for i in range(batch)])

                # The batch's inputs, built once (what changes per step: patches, noise level).
                items = [[Image(x[i % batch].numpy(), t)] for i in range(2 * batch)]
                rows = [
                    build_row(it, cursor, cfg.grid, rt.pad_id, cfg.patch_dim, cfg.image_gap)[0]
                    for it, cursor in zip(items, both.cursors)
                ]
                b = collate(rows, rt.pad_id, cfg.patch_dim)
                mask = attention_mask(b.valid, b.image_id, both.valid)
                patches = b.patches.clone()
                img = b.is_image.unsqueeze(-1)

                def step():
                    patches.copy_(torch.cat([x, x]) * img + patches * (1 - img))
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=(mode == "bf16")):
                        _, denoised, _, _ = model(
                            b.tokens, patches, b.is_image, b.noise_level, b.positions, mask, both.keys, both.values
                        )
                    denoised = denoised.float()
                    x0 = guided_x0(denoised[:batch], denoised[batch:], g)
                    return euler_update(x, x0, t, t_next)

                def runtime_step():
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=(mode == "bf16")):
                        xs = torch.cat([x, x])
                        _, denoised, _, _ = rt.step(both, [[Image(xs[i].numpy(), t)] for i in range(2 * batch)])
                    x0 = guided_x0(denoised[:batch], denoised[batch:], g)
                    return euler_update(x, x0, t, t_next)

                best = timed(step, spec)
                slow = timed(runtime_step, {**spec, "min_ms": spec["min_ms"] / 3, "min_reps": 2})
            out["modes"][mode][str(batch)] = {**best, "runtime_step_median_ms": slow["median_ms"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
