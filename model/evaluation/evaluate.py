"""Scoring a model on the evaluation split, as a library (eval.py is the command)."""

from __future__ import annotations

from collections import defaultdict
from functools import partial

import numpy as np
import torch

from model.data.shapes64 import Conversation
from model.evaluation.score import score_caption, score_image
from model.network.chat import describe_context, draw_context, unconditional_context
from model.network.sequence import image_to_patches, patches_to_image
from model.network.tokenizer import Tokenizer
from model.sampling.inference import Runtime, seeded_noise


def draw(
    runtime: Runtime, tok: Tokenizer, captions: list[str], seeds: list[int], steps: int, guidance: float
) -> list[np.ndarray]:
    cfg = runtime.cfg
    cond, _ = runtime.prefill([draw_context(tok, c) for c in captions])
    uncond, _ = runtime.prefill([unconditional_context(tok) for _ in captions])
    noise = torch.stack([seeded_noise(s, cfg.num_patches, cfg.patch_dim) for s in seeds])
    x = runtime.sample_images(cond, uncond, noise, steps, guidance)
    return [patches_to_image(x[i].numpy(), cfg.patch_size, cfg.image_size) for i in range(len(captions))]


def describe(runtime: Runtime, tok: Tokenizer, images: list[np.ndarray], max_tokens: int = 48) -> list[str]:
    cfg = runtime.cfg
    contexts = [describe_context(tok, image_to_patches(im, cfg.patch_size)) for im in images]
    outs = runtime.decode_greedy(contexts, max_tokens, {tok.eos, tok.boi})
    return [tok.decode([i for i in ids if i not in (tok.eos, tok.boi)]) for ids in outs]


def tally(tallies: dict, direction: str, objects: int, objects_right: int, right: bool) -> None:
    """Counts one scored conversation under its direction, overall and by number of objects."""
    for key in ("all", str(objects)):
        t = tallies[f"{direction}/{key}"]
        t["n"] += 1
        t["right"] += right
        t["objects"] += objects
        t["objects_right"] += objects_right


def evaluate(
    runtime: Runtime,
    tok: Tokenizer,
    convs: list[Conversation],
    steps: int,
    guidance: float,
    batch_size: int = 32,
    progress=None,
) -> tuple[dict, list]:
    """Returns (results, examples). Results are split by direction and number of objects."""
    tallies = defaultdict(lambda: defaultdict(int))
    examples = []

    def run(direction: str, generate, score, objects_right: str) -> None:
        """Generates for `direction`'s conversations in batches (generate(first index, batch)), scores and tallies."""
        mine = [c for c in convs if c.direction == direction]
        for i in range(0, len(mine), batch_size):
            chunk = mine[i : i + batch_size]
            for c, out in zip(chunk, generate(i, chunk)):
                s = score(out, c.scene)
                tally(tallies, direction, s["objects"], s[objects_right], s["right"])
                examples.append((direction, c, out, s["right"]))
            if progress:
                progress.update(len(chunk))

    def drawn(i: int, chunk: list[Conversation]) -> list[np.ndarray]:  # seeds: index among the draws
        return draw(runtime, tok, [c.scene.caption() for c in chunk], list(range(i, i + len(chunk))), steps, guidance)

    def described(_: int, chunk: list[Conversation]) -> list[str]:
        return describe(runtime, tok, [c.scene.render() for c in chunk])

    run("draw", drawn, score_image, "objects_drawn")
    run("describe", described, score_caption, "objects_right")
    results = {
        k: {"n": v["n"], "accuracy": v["right"] / v["n"], "object_accuracy": v["objects_right"] / max(1, v["objects"])}
        for k, v in sorted(tallies.items())
    }
    return results, examples


def percent(results: dict, key: str) -> str:
    """results[key]'s accuracy as a whole percentage, "-" where results has no such key."""
    return f"{100 * results[key]['accuracy']:.0f}%" if key in results else "-"


def summary_line(results: dict) -> str:
    acc = partial(percent, results)
    return (
        f"draw {acc('draw/all')} (1:{acc('draw/1')} 2:{acc('draw/2')} 3:{acc('draw/3')}) "
        f"describe {acc('describe/all')} (1:{acc('describe/1')} 2:{acc('describe/2')} 3:{acc('describe/3')})"
    )
