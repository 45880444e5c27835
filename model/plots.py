"""Pictures people would rather look at than read: sample grids and the loss curve."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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
            s.set_edgecolor("green" if ok else "red"); s.set_linewidth(2)
        ax.set_xticks([]); ax.set_yticks([])
    base = ((len(draws) + cols - 1) // cols) * cols
    for j, (_, conv, answer, ok) in enumerate(describes):
        ax = fig.add_subplot(rows, cols, base + j * cols + 1)
        ax.imshow(conv.scene.render()); ax.set_xticks([]); ax.set_yticks([])
        fig.text(ax.get_position().x1 + 0.01, ax.get_position().y0 + 0.02,
                 f"{'OK ' if ok else 'XX '}{answer}\n   truth: {conv.scene.caption()}", fontsize=6,
                 color="green" if ok else "red")
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
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
        ax[0].plot(steps[k - 1:], smooth, label=key)
    ax[0].set_yscale("log"); ax[0].set_xlabel("step"); ax[0].legend(); ax[0].set_title("training loss")
    evals = [h for h in history if "eval" in h]
    for key in ("draw/all", "describe/all"):
        pts = [(h["step"], h["eval"][key]["accuracy"]) for h in evals if key in h["eval"]]
        if pts:
            ax[1].plot(*zip(*pts), marker="o", label=key)
    ax[1].set_ylim(0, 1); ax[1].set_xlabel("step"); ax[1].legend(); ax[1].set_title("quick eval accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
