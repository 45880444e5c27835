"""Distillation pairs for a few-step student (issue 30; docs/few-step.md): the teacher's
guided sample for each image answer of the training mix, from a known starting noise.

A pair is (dialogue, noise z, the teacher's image x0_T). The student learns to answer
x0_T from z at level 1 and from the straight line (1 - t) x0_T + t z at the few-step grid's
other levels: with the Euler sampler a perfect first step lands on that line, so the student
samples with the same sampler in 1 or 2 steps, guidance distilled in (no unconditional rows).

Nothing but seeds and the teacher's 8-bit images is stored: the dialogue is rebuilt from its
chunk's seed (the training mix is deterministic given it) and z from its noise seed.
Shards of `--shard` pairs are written one by one, so a stopped run resumes where it was.

    python -m model.distill.pairs --teacher=packages/shapes64 --conversations=shapes64 \\
        --n=12000 --out=model/runs/distill-shapes64/pairs
    python -m model.distill.pairs --teacher=packages/emoji64 --conversations=corpus \\
        --corpus=.cache/emoji/corpus/emoji-core.jsonl \\
        --task_mix=draw=1,describe=0,restyle=0,every_style=0,multi_turn=0,refuse=0
"""

from __future__ import annotations

import glob
import json
import os
import random
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from model.cli import parse
from model.data.dialogues import Dialogue, context_items, part_items
from model.network.chat import unconditional_context
from model.network.sequence import image_to_patches, patches_to_image
from model.sampling.diffusion import time_grid
from model.sampling.inference import Runtime, seeded_noise

CHUNK = 64  # dialogues made from one seed


@dataclass
class PairsArgs:
    teacher: str
    """the teacher: a package folder or a checkpoint"""
    out: str
    """a folder for the shards (pairs-00000.npz, ...) and meta.json"""
    conversations: str = "shapes64"  # the training mix (train.py --conversations)
    corpus: str = ""  # with --conversations=corpus: the corpus manifest
    augment_fraction: float = 0.0  # the corpus mix's settings, as train.py takes them
    augmentation: str = "mild"
    style_free_fraction: float = 0.25
    task_mix: str = ""  # train.py --task_mix over the mix (draw=1,describe=0,...: a package trained on draws alone)
    n: int = 12000  # pairs in all
    shard: int = 512  # pairs a shard
    seed: int = 1  # chunk seeds are seed * 1_000_000 + k
    steps: int | None = None  # the teacher's steps (default: its sampler's)
    guidance: float | None = None  # the teacher's guidance (default: its sampler's)
    student_steps: str = "1,2"  # the step counts the student learns: their grids' levels above 0


def answer_context(tok, d: Dialogue, to_patches) -> list:
    """The dialogue up to its target image's <boi>, as the sampler's condition."""
    items = context_items(tok, d.turns[:-1], to_patches)
    for part in d.turns[-1].parts[:-1]:
        items.extend(part_items(tok, part, to_patches))
    return [*items, tok.boi]


def student_levels(steps: str, time_shift: float) -> tuple[float, ...]:
    """The noise levels a student of these step counts is fed an image at (1 always among them)."""
    levels = {round(t, 6) for s in (int(x) for x in steps.split(",")) for t in time_grid(s, time_shift)[:-1]}
    return tuple(sorted(levels, reverse=True))


def chunk_dialogues(make, seed: int) -> list[Dialogue]:
    return make(CHUNK, random.Random(seed))


def image_answers(dialogues: list[Dialogue]) -> list[int]:
    return [i for i, d in enumerate(dialogues) if d.target_image is not None]


@torch.no_grad()
def teacher_images(
    rt: Runtime, tok, dialogues: list[Dialogue], noise_seeds: list[int], steps: int, guidance: float
) -> np.ndarray:
    cfg = rt.cfg
    to_patches = lambda img: image_to_patches(img, cfg.patch_size)  # noqa: E731
    cond, _ = rt.prefill([answer_context(tok, d, to_patches) for d in dialogues])
    uncond, _ = rt.prefill([unconditional_context(tok) for _ in dialogues])
    noise = torch.stack([seeded_noise(s, cfg.num_patches, cfg.patch_dim) for s in noise_seeds])
    x = rt.sample_images(cond, uncond, noise, steps, guidance)
    return np.stack([patches_to_image(x[j].numpy(), cfg.patch_size, cfg.image_size) for j in range(len(dialogues))])


def noise_seed(chunk_seed: int, index: int) -> int:
    return chunk_seed * CHUNK + index


def main(argv: list[str] | None = None) -> None:
    from model.data.corpus import load_corpus
    from model.sample import load_runtime
    from model.train import TrainConfig, conversation_source

    args = parse(PairsArgs, argv, description=__doc__)
    rt, tok = load_runtime(args.teacher)
    steps = args.steps or rt.diffusion.default_steps
    guidance = rt.diffusion.default_guidance if args.guidance is None else args.guidance
    tcfg = TrainConfig(
        conversations=args.conversations,
        corpus=args.corpus,
        augment_fraction=args.augment_fraction,
        augmentation=args.augmentation,
        style_free_fraction=args.style_free_fraction,
        task_mix=args.task_mix,
    )
    corpus = load_corpus(args.corpus, rt.cfg.image_size) if args.corpus else None
    source = conversation_source(tcfg, corpus)
    if source is None:
        raise SystemExit("--conversations is required: pairs are made of the training mix's dialogues")
    os.makedirs(args.out, exist_ok=True)
    meta = {
        **asdict(args),
        "teacher_steps": steps,
        "teacher_guidance": guidance,
        "levels": list(student_levels(args.student_steps, rt.diffusion.time_shift)),
        "chunk": CHUNK,
    }
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    n_shards = -(-args.n // args.shard)
    k = 0  # the next chunk seed's index: each shard starts where the one before stopped
    t0 = time.time()
    for s in range(n_shards):
        path = os.path.join(args.out, f"pairs-{s:05d}.npz")
        if os.path.exists(path):
            k = int(np.load(path)["next_chunk"])
            continue
        seeds, index, images = [], [], []
        want = min(args.shard, args.n - s * args.shard)
        while len(seeds) < want:
            chunk_seed = args.seed * 1_000_000 + k
            k += 1
            dialogues = chunk_dialogues(source.make, chunk_seed)
            picked = image_answers(dialogues)[: want - len(seeds)]
            made = teacher_images(
                rt, tok, [dialogues[i] for i in picked], [noise_seed(chunk_seed, i) for i in picked], steps, guidance
            )
            seeds += [chunk_seed] * len(picked)
            index += picked
            images.append(made)
        partial = os.path.join(args.out, f"partial-{s:05d}.npz")  # renamed when whole: never half a shard
        np.savez(
            partial,
            chunk_seed=np.array(seeds, np.int64),
            index=np.array(index, np.int32),
            image=np.concatenate(images),
            next_chunk=np.array(k),
        )
        os.replace(partial, path)
        done = min(args.n, (s + 1) * args.shard)
        print(f"{done}/{args.n} pairs ({time.time() - t0:.0f} s) -> {path}", flush=True)


def load_meta(folder: str) -> dict:
    """The pairs' meta.json: how they were made (the teacher, the mix, the levels)."""
    path = os.path.join(folder, "meta.json")
    if not os.path.exists(path):
        raise SystemExit(f"{folder}: no meta.json: not a folder of pairs (python -m model.distill.pairs)")
    with open(path) as f:
        return json.load(f)


def load_pairs(folder: str) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays of every shard concatenated: chunk_seed, index, image)."""
    meta = load_meta(folder)
    shards = [np.load(p) for p in sorted(glob.glob(os.path.join(folder, "pairs-*.npz")))]
    if not shards:
        raise SystemExit(f"{folder}: no pairs-*.npz shards (python -m model.distill.pairs)")
    return meta, {k: np.concatenate([s[k] for s in shards]) for k in ("chunk_seed", "index", "image")}


if __name__ == "__main__":
    main()
