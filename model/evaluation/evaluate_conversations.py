"""Scoring Shapes64 conversations (docs/data/shapes64.md, "What a score means"), as a library.

- edits: right by the card's rule for the target caption, per kind; faithfulness as the PSNR,
  pooled, over the cells holding an object the edit leaves alone (touched cells and 2 pixels
  round them excluded), output against input;
- the two-step pipeline with the same model (describe, apply the instruction to the caption,
  draw it), scored the same way;
- second-turn edits (draw, then edit the model's own drawing) beside the same edit in one turn
  (of that drawing, and of the true image);
- refusals: out-of-scope prompts answered in text, and valid requests wrongly answered in text.
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from model.data.dialogues import Turn, context_items
from model.data.shapes64 import CELLS, DESCRIBE_PROMPT, DRAW_PREFIX, EDGES, Scene, SceneObject, scene_from_seed
from model.data.shapes64_dialogues import out_of_scope_prompt
from model.data.shapes64_edits import apply_instruction, random_edit
from model.evaluation.score import PHRASE, psnr, score_image
from model.network.sequence import image_to_patches
from model.network.tokenizer import Tokenizer
from model.sampling.conversation import answer_parts, text_and_first_image
from model.sampling.inference import Runtime

MARGIN = 2  # pixels round a touched cell that faithfulness leaves out


def answer(
    runtime: Runtime,
    tok: Tokenizer,
    convs: list[list[Turn]],
    seeds: list[int],
    steps: int,
    guidance: float,
    max_tokens: int = 160,
) -> list[tuple[str, np.ndarray | None]]:
    """(text, image or None) per conversation: an answer of one image, as the serving path
    answers an edit or a draw (model/sampling/conversation.py)."""
    outs = answer_parts(runtime, tok, convs, seeds, steps, guidance, max_tokens, max_images=1)
    return [text_and_first_image(parts) for parts in outs]


def untouched_mask(scene: Scene, touched: tuple[int, ...]) -> np.ndarray:
    """bool [64, 64]: the cells of objects the edit leaves alone, less the touched cells and a margin."""
    keep = np.zeros((64, 64), bool)
    for o in scene.objects:
        if o.cell not in touched:
            r, c = divmod(o.cell, 3)
            keep[EDGES[r] : EDGES[r + 1], EDGES[c] : EDGES[c + 1]] = True
    for cell in touched:
        r, c = divmod(cell, 3)
        keep[max(0, EDGES[r] - MARGIN) : EDGES[r + 1] + MARGIN, max(0, EDGES[c] - MARGIN) : EDGES[c + 1] + MARGIN] = (
            False
        )
    return keep


class Faithfulness:
    """Pooled PSNR: squared errors summed over every scored pixel of every edit, then one PSNR."""

    def __init__(self):
        self.sq, self.n = 0.0, 0

    def add(self, out: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> None:
        d = out[mask].astype(np.float64) - ref[mask].astype(np.float64)
        self.sq += float((d**2).sum())
        self.n += d.size

    @property
    def psnr(self) -> float | None:
        return psnr(self.sq / self.n) if self.n else None


def scene_from_caption(caption: str) -> Scene | None:
    """A caption in the card's grammar as a scene (offsets 0); None when it does not parse."""
    objects = []
    for phrase in caption.split(" and "):
        m = PHRASE.match(phrase.strip())
        if not m or m.group(4) not in CELLS:
            return None
        objects.append(SceneObject(CELLS.index(m.group(4)), m.group(1), m.group(2), m.group(3), 0, 0))
    cells = [o.cell for o in objects]
    return Scene(tuple(sorted(objects, key=lambda o: o.cell))) if len(set(cells)) == len(cells) else None


def random_edits(split: list[tuple[int, str]], rng_seed: int) -> list:
    """One edit of each (scene seed, kind) of `split`, drawn in order from one generator seeded `rng_seed`."""
    rng = random.Random(rng_seed)
    return [random_edit(scene_from_seed(seed), rng, kind) for seed, kind in split]


def _rate(right: int, n: int) -> float:
    return right / n if n else 0.0


def evaluate_edits(
    runtime: Runtime,
    tok: Tokenizer,
    split: list[tuple[int, str]],
    steps: int,
    guidance: float,
    batch_size: int = 32,
    pipeline: bool = True,
    progress=None,
    examples: list | None = None,
) -> dict:
    """Direct edits (and the two-step pipeline beside them) on (seed, kind) pairs. `examples`,
    if given, collects (instruction, input, direct output, pipeline output, target) per edit."""
    edits = random_edits(split, 12345)
    tallies = defaultdict(lambda: defaultdict(int))
    faith = {"direct": Faithfulness(), "pipeline": Faithfulness()}
    for start in range(0, len(edits), batch_size):
        chunk = edits[start : start + batch_size]
        seeds = list(range(start, start + len(chunk)))
        outs = answer(
            runtime, tok, [[Turn("user", [e.before.render(), e.instruction])] for e in chunk], seeds, steps, guidance
        )
        for e, (_, img) in zip(chunk, outs):
            _score(tallies, faith["direct"], "edit", e, img)
        images = {}
        if pipeline:
            captions = answer(
                runtime,
                tok,
                [[Turn("user", [e.before.render(), DESCRIBE_PROMPT])] for e in chunk],
                seeds,
                steps,
                guidance,
            )
            planned = [
                apply_instruction(scene_from_caption(c) or Scene(()), e.instruction)
                for e, (c, _) in zip(chunk, captions)
            ]
            drawable = [i for i, s in enumerate(planned) if s is not None and s.objects]
            drawn = answer(
                runtime,
                tok,
                [[Turn("user", [DRAW_PREFIX + planned[i].caption()])] for i in drawable],
                [seeds[i] for i in drawable],
                steps,
                guidance,
            )
            images = dict(zip(drawable, (img for _, img in drawn)))
            for i, e in enumerate(chunk):
                _score(tallies, faith["pipeline"], "pipeline", e, images.get(i))
        if examples is not None:
            examples += [
                (e.instruction, e.before.render(), img, images.get(i), e.after.render())
                for i, (e, (_, img)) in enumerate(zip(chunk, outs))
            ]
        if progress:
            progress.update(len(chunk))
    out = {
        k: {"n": v["n"], "accuracy": _rate(v["right"], v["n"]), "answered_in_text": _rate(v["text"], v["n"])}
        for k, v in sorted(tallies.items())
    }
    out["faithfulness_psnr_db"] = {k: f.psnr for k, f in faith.items() if f.n}
    return out


def _score(tallies, faith: Faithfulness, name: str, edit, img: np.ndarray | None) -> None:
    right = img is not None and score_image(img, edit.after)["right"]
    for key in (f"{name}/all", f"{name}/{edit.kind}"):
        tallies[key]["n"] += 1
        tallies[key]["right"] += bool(right)
        tallies[key]["text"] += img is None
    if img is not None:
        faith.add(img, edit.before.render(), untouched_mask(edit.before, edit.touched))


def evaluate_second_turn(
    runtime: Runtime,
    tok: Tokenizer,
    split: list[tuple[int, str]],
    steps: int,
    guidance: float,
    batch_size: int = 32,
    progress=None,
) -> dict:
    """`draw <caption>` -> the model's drawing, then an edit: right against the edited scene.

    Beside it, the same edit asked in one turn, twice: of the model's own drawing sent as the
    user's image (the same request, pixel for pixel: what the second turn is measured against,
    as the conversations issue's must reads it) and of the true image (which also counts the
    drawing's own mistakes against the second turn: a wrong drawing makes a wrong edit). And
    how often the drawing itself was right."""
    edits = random_edits(split, 54321)
    right = {"second_turn": 0, "one_turn_own_drawing": 0, "one_turn": 0, "first_drawing": 0}
    by_kind = {k: defaultdict(lambda: [0, 0]) for k in right}  # figure -> edit kind -> [right, n]
    for start in range(0, len(edits), batch_size):
        chunk = edits[start : start + batch_size]
        seeds = list(range(start, start + len(chunk)))
        first = answer(
            runtime, tok, [[Turn("user", [DRAW_PREFIX + e.before.caption()])] for e in chunk], seeds, steps, guidance
        )
        drawn = [img if img is not None else e.before.render() for e, (_, img) in zip(chunk, first)]
        convs = [
            [
                Turn("user", [DRAW_PREFIX + e.before.caption()]),
                Turn("assistant", [img]),
                Turn("user", [e.instruction]),
            ]
            for e, img in zip(chunk, drawn)
        ]
        later = [s + 100_000 for s in seeds]  # the edit's noise: the same in all three
        second = answer(runtime, tok, convs, later, steps, guidance)
        own = answer(
            runtime, tok, [[Turn("user", [img, e.instruction])] for e, img in zip(chunk, drawn)], later, steps, guidance
        )
        single = answer(
            runtime, tok, [[Turn("user", [e.before.render(), e.instruction])] for e in chunk], later, steps, guidance
        )
        for e, (_, d), (_, a), (_, o), (_, b) in zip(chunk, first, second, own, single):
            got = {
                "first_drawing": d is not None and score_image(d, e.before)["right"],
                "second_turn": a is not None and score_image(a, e.after)["right"],
                "one_turn_own_drawing": o is not None and score_image(o, e.after)["right"],
                "one_turn": b is not None and score_image(b, e.after)["right"],
            }
            for k, ok in got.items():
                right[k] += ok
                by_kind[k][e.kind][0] += ok
                by_kind[k][e.kind][1] += 1
        if progress:
            progress.update(len(chunk))
    # Each figure also by edit kind: where the turns differ
    return {
        k: {
            "n": len(edits),
            "accuracy": v / len(edits),
            "by_kind": {e: _rate(*c) for e, c in sorted(by_kind[k].items())},
        }
        for k, v in right.items()
    }


def evaluate_refusals(
    runtime: Runtime, tok: Tokenizer, n: int, split: str, valid_seeds: range, batch_size: int = 32
) -> dict:
    """Out-of-scope prompts in the split's phrasings (answered in text?) and valid draws and
    edits of the split's scenes (answered with an image?)."""
    rng = random.Random(777)
    asks = [out_of_scope_prompt(rng, split) for _ in range(n)]
    convs = [
        [Turn("user", [scene_from_seed(valid_seeds[i]).render(), text] if with_image else [text])]
        for i, (_, text, with_image) in enumerate(asks)
    ]
    texts = []
    for s in range(0, n, batch_size):
        texts += _first_tokens(runtime, tok, convs[s : s + batch_size])
    by_kind = defaultdict(lambda: [0, 0])
    for (kind, _, _), first in zip(asks, texts):
        by_kind[kind][0] += 1
        by_kind[kind][1] += first != tok.boi
    valid = []
    for i in valid_seeds[:n]:
        scene = scene_from_seed(i)
        valid.append([Turn("user", [DRAW_PREFIX + scene.caption()])])
        valid.append([Turn("user", [scene.render(), random_edit(scene, random.Random(i)).instruction])])
    refused = 0
    for s in range(0, len(valid), batch_size):
        refused += sum(first != tok.boi for first in _first_tokens(runtime, tok, valid[s : s + batch_size]))
    total = sum(v[0] for v in by_kind.values())
    return {
        "out_of_scope": {
            "n": total,
            "answered_in_text": _rate(sum(v[1] for v in by_kind.values()), total),
            "by_kind": {k: _rate(v[1], v[0]) for k, v in sorted(by_kind.items())},
        },
        "valid_draw_and_edit": {"n": len(valid), "answered_in_text": _rate(refused, len(valid))},
    }


def _first_tokens(runtime: Runtime, tok: Tokenizer, convs: list[list[Turn]]) -> list[int]:
    to_patches = lambda img: image_to_patches(img, runtime.cfg.patch_size)  # noqa: E731
    _, logits = runtime.prefill([context_items(tok, turns, to_patches) for turns in convs])
    return logits.argmax(-1).tolist()


def edit_grid(examples: list, path: str, per_kind: int = 2) -> None:
    """A picture of edits: input, the direct edit, the two-step pipeline, the target; a few of each kind."""
    from PIL import Image, ImageDraw

    picked, seen = [], defaultdict(int)
    for ex in examples:
        kind = next((k for k in ("move", "remove", "add", "make") if ex[0].startswith(k)), "")
        kind = kind + (" size" if kind == "make" and ex[0].split()[-1] in ("small", "large") else "")
        if seen[kind] < per_kind:
            seen[kind] += 1
            picked.append(ex)
    blank = np.full((64, 64, 3), 230, np.uint8)
    scale, label = 3, 14
    W, H = 4 * 64 * scale + 5 * 4, len(picked) * (64 * scale + label + 6) + 20
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, name in enumerate(("input", "edited (one step)", "describe, then draw", "target")):
        draw.text((4 + c * (64 * scale + 4), 4), name, fill=(0, 0, 0))
    y = 20
    for instruction, *images in picked:
        draw.text((4, y), instruction, fill=(0, 0, 0))
        for c, im in enumerate(images):
            tile = Image.fromarray(im if im is not None else blank).resize((64 * scale, 64 * scale), Image.NEAREST)
            canvas.paste(tile, (4 + c * (64 * scale + 4), y + label))
        y += 64 * scale + label + 6
    canvas.save(path)
