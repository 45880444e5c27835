"""Pictures people would rather look at than read: sample grids and the loss curve."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def sample_grid(examples: list, path: str, title: str = "", n: int = 16) -> None:
    """Top: drawn images (green frame = right). Bottom: described images with the answer."""
    draws = [e for e in examples if e[0] == "draw"][:n]
    describes = [e for e in examples if e[0] == "describe"][:8]
    cols = 8
    rows = (len(draws) + cols - 1) // cols + len(describes)
    fig = plt.figure(figsize=(cols * 1.6, rows * 1.9 + 0.4))
    for i, (_, conv, img, ok) in enumerate(draws):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(img)
        ax.set_title(conv.scene.caption().replace(" and ", "\n").replace(" at the", " @"), fontsize=5)
        for s in ax.spines.values():
            s.set_edgecolor("green" if ok else "red")
            s.set_linewidth(2)
        ax.set_xticks([])
        ax.set_yticks([])
    base = ((len(draws) + cols - 1) // cols) * cols
    for j, (_, conv, answer, ok) in enumerate(describes):
        ax = fig.add_subplot(rows, cols, base + j * cols + 1)
        ax.imshow(conv.scene.render())
        ax.set_xticks([])
        ax.set_yticks([])
        fig.text(
            ax.get_position().x1 + 0.01,
            ax.get_position().y0 + 0.02,
            f"{'OK ' if ok else 'XX '}{answer}\n   truth: {conv.scene.caption()}",
            fontsize=6,
            color="green" if ok else "red",
        )
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# A corpus model's four figures (model/evaluation/eval_corpus.py), with what each is compared against.
CORPUS_FIGURES = {
    "describe_seen": "describe, training styles (exact)",
    "describe_heldout_greedy": "describe, held-out style (exact)",
    "draw_seen_top1": "draw, seen cells (retrieval top-1)",
    "draw_heldout_top5": "draw, held-out cells (retrieval top-5)",
}


def training_hours(history: list) -> dict[int, float]:
    """step -> hours of training up to it, from the logged seconds a step (restarts and
    evaluation pauses do not count)."""
    hours, total, last = {}, 0.0, 0
    for h in history:
        if "s_per_step" in h and h["step"] > last:
            total += h["s_per_step"] * (h["step"] - last)
            last = h["step"]
            hours[last] = total / 3600
    return hours


def corpus_learning_curve(history: list, path: str, baselines: dict[str, float] | None = None, title: str = "") -> None:
    """The four figures of the quick evaluations against training time; dashed: a baseline."""
    hours = training_hours(history)
    steps = sorted(hours)
    evals = [h for h in history if "eval" in h]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in CORPUS_FIGURES.items():
        pts = [
            (
                hours[max(s for s in steps if s <= h["step"])] if any(s <= h["step"] for s in steps) else 0.0,
                h["eval"][key]["accuracy"],
            )
            for h in evals
            if key in h["eval"]
        ]
        if not pts:
            continue
        (line,) = ax.plot(*zip(*pts), marker="o", label=label)
        if baselines and key in baselines:
            ax.axhline(baselines[key], color=line.get_color(), linestyle="--", linewidth=1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("hours of training (2-core CPU)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or "quick evaluation during training (dashed: baselines)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def loss_curve(history: list, path: str) -> None:
    steps = [h["step"] for h in history if "loss" in h]
    if not steps:
        return
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    for key in ("text_loss", "diff_loss"):
        ys = np.array([h[key] for h in history if "loss" in h])
        k = max(1, len(ys) // 50)
        smooth = np.convolve(ys, np.ones(k) / k, mode="valid")
        ax[0].plot(steps[k - 1 :], smooth, label=key)
    ax[0].set_yscale("log")
    ax[0].set_xlabel("step")
    ax[0].legend()
    ax[0].set_title("training loss")
    evals = [h for h in history if "eval" in h]
    for key in ("draw/all", "describe/all", *CORPUS_FIGURES):
        pts = [(h["step"], h["eval"][key]["accuracy"]) for h in evals if key in h["eval"]]
        if pts:
            ax[1].plot(*zip(*pts), marker="o", label=key)
    ax[1].set_ylim(0, 1)
    ax[1].set_xlabel("step")
    ax[1].legend()
    ax[1].set_title("quick eval accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
