"""Scoring a model on the evaluation split, as a library (eval.py is the command)."""

from __future__ import annotations

from collections import defaultdict

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
    draws = [c for c in convs if c.direction == "draw"]
    describes = [c for c in convs if c.direction == "describe"]
    for i in range(0, len(draws), batch_size):
        chunk = draws[i : i + batch_size]
        imgs = draw(runtime, tok, [c.scene.caption() for c in chunk], list(range(i, i + len(chunk))), steps, guidance)
        for c, im in zip(chunk, imgs):
            s = score_image(im, c.scene)
            tally(tallies, "draw", s["objects"], s["objects_drawn"], s["right"])
            examples.append(("draw", c, im, s["right"]))
        if progress:
            progress.update(len(chunk))
    for i in range(0, len(describes), batch_size):
        chunk = describes[i : i + batch_size]
        answers = describe(runtime, tok, [c.scene.render() for c in chunk])
        for c, a in zip(chunk, answers):
            s = score_caption(a, c.scene)
            tally(tallies, "describe", s["objects"], s["objects_right"], s["right"])
            examples.append(("describe", c, a, s["right"]))
        if progress:
            progress.update(len(chunk))
    results = {
        k: {"n": v["n"], "accuracy": v["right"] / v["n"], "object_accuracy": v["objects_right"] / max(1, v["objects"])}
        for k, v in sorted(tallies.items())
    }
    return results, examples


def summary_line(results: dict) -> str:
    def acc(k):
        return f"{100 * results[k]['accuracy']:.0f}%" if k in results else "-"

    return (
        f"draw {acc('draw/all')} (1:{acc('draw/1')} 2:{acc('draw/2')} 3:{acc('draw/3')}) "
        f"describe {acc('describe/all')} (1:{acc('describe/1')} 2:{acc('describe/2')} 3:{acc('describe/3')})"
    )
