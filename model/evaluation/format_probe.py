"""Where an Emoji64 model has learned a conversation format, by noise level: the same training
images asked three ways, each scored by the network's x0 error in one evaluation.

    python -m model.evaluation.format_probe --ckpt=model/runs/econv2/ckpt.pt

For training concepts drawn in all three styles, the google image is the answer to
- a draw:        `draw <caption> in google style` -> the image;
- an every style: `draw <caption> in every style` -> `google:` and the image;
- a restyle:     the twitter image, `draw this in google style` -> `<caption> in google style`
  and the image.
The answer image is noised to level t with the same noise for all three. At low t the noisy
image shows the picture and every format scores alike; at high t the network sees little but
its context, so the gap to the draw is how much the format's context still says less to the
network than the draw prompt it learned first (docs/conversations.md, Emoji64). Teacher-forced,
no sampling: about a minute on two cores.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch

from model.cli import parse
from model.data.corpus import load_corpus
from model.data.dialogues import Dialogue, Turn, training_items
from model.data.emoji_dialogues import EVERY_STYLE, RESTYLE, STYLE_LABEL
from model.data.examples import draw_text
from model.evaluation.eval_onnx import load_scored_runtime
from model.network.sequence import build_row, collate, image_to_patches
from model.train import TrainConfig, denoise

FORMATS = ("draw", "every_style", "restyle")


@dataclass
class FormatProbeArgs:
    ckpt: str
    """a training checkpoint (.pt), a slim checkpoint or a package folder"""
    corpus: str = ".cache/emoji/corpus/emoji-core.jsonl"
    n: int = 48  # training concepts
    levels: tuple[float, ...] = (0.3, 0.6, 0.85, 0.97)  # noise levels of the answer image
    style: str = "google"  # the answer's style
    source: str = "twitter"  # the restyle's input style


def dialogue(kind: str, caption: str, answer: np.ndarray, source: np.ndarray, style: str) -> Dialogue:
    if kind == "draw":
        return Dialogue([Turn("user", ["draw " + draw_text(caption, style)]), Turn("assistant", [answer])], kind)
    if kind == "every_style":
        turns = [
            Turn("user", [EVERY_STYLE.format(caption=caption)]),
            Turn("assistant", [STYLE_LABEL.format(style=style), answer]),
        ]
        return Dialogue(turns, kind, complete=False)
    turns = [
        Turn("user", [source, RESTYLE.format(style=style)]),
        Turn("assistant", [draw_text(caption, style), answer]),
    ]
    return Dialogue(turns, kind)


def x0_errors(ckpt: str, corpus_path: str, n: int, levels, style: str, source: str) -> dict[float, dict[str, float]]:
    """{level: {format: mean squared x0 error of the answer image}}."""
    rt, tok = load_scored_runtime(ckpt)
    model, cfg = rt.model, rt.cfg
    corpus = load_corpus(corpus_path, cfg.image_size)
    cells: dict[str, dict[str, int]] = {}
    for i in corpus.indices("train"):
        cells.setdefault(corpus.captions[i], {})[corpus.styles[i]] = i
    concepts = sorted(c for c, by in cells.items() if {style, source} <= set(by))
    random.Random(0).shuffle(concepts)
    concepts = concepts[:n]
    to_patches = lambda img: image_to_patches(img, cfg.patch_size)  # noqa: E731
    out: dict[float, dict[str, float]] = {}
    for t in levels:
        out[t] = {}
        for kind in FORMATS:
            gen = torch.Generator().manual_seed(1)  # the same noise for every format
            rows, targets = [], []
            for c in concepts:
                d = dialogue(kind, c, corpus.images[cells[c][style]], corpus.images[cells[c][source]], style)
                x0 = to_patches(d.target_image)
                noise = torch.randn(x0.shape, generator=gen).numpy()
                items = training_items(tok, d, to_patches, ((1 - t) * x0 + t * noise).astype(np.float32), t)
                rows.append(build_row(items, 0, cfg.grid, tok.pad, cfg.patch_dim, cfg.image_gap)[0])
                targets.append(torch.from_numpy(x0))
            b = collate(rows, tok.pad, cfg.patch_dim)
            x0_pred = denoise(model, b, b.patches, b.noise_level, TrainConfig(bf16=False))
            errors = []
            for i, target in enumerate(targets):
                answer = (b.is_image[i] > 0).nonzero().squeeze(-1)[-cfg.num_patches :]  # the last image
                errors.append(((x0_pred[i, answer] - target) ** 2).mean().item())
            out[t][kind] = float(np.mean(errors))
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse(FormatProbeArgs, argv, description=__doc__)
    for t, by in x0_errors(args.ckpt, args.corpus, args.n, args.levels, args.style, args.source).items():
        print(f"t = {t:.2f}: " + "  ".join(f"{k} {v:.4f}" for k, v in by.items()), flush=True)


if __name__ == "__main__":
    main()
