"""The benchmark's chart: `python bench/py/chart.py results/bench.json results/bench.png`.

Four panels: images/s and mean latency against concurrent jobs (continuous batching vs one
job at a time); one denoising step in onnxruntime-node and PyTorch; achieved GFLOP/s against
the matrix-multiply ceiling.
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    r = json.load(open(src))
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    runs = r["worker"]["runs"]
    for mode, style in (("one-at-a-time", "o--"), ("continuous", "s-")):
        pts = sorted((x["concurrency"], x) for x in runs if x["mode"] == mode)
        if not pts:
            continue
        label = f"{mode} (max batch {pts[0][1]['maxBatch']})"
        axes[0][0].plot([c for c, _ in pts], [x["imagesPerSecond"] for _, x in pts], style, label=label)
        axes[0][1].plot([c for c, _ in pts], [x["latencyMean"] for _, x in pts], style, label=label)
    for ax, title, ylabel in (
        (axes[0][0], "Worker throughput", "images / s"),
        (axes[0][1], "Mean job latency", "seconds"),
    ):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent jobs")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()

    labels, values = [], []
    for s in r["step"]:
        for b in s["batches"]:
            labels.append(f"ORT {s['precision']}\n{b['jobs']} job(s)")
            values.append(b["msPerJob"])
    for mode, by_jobs in r["torch"]["modes"].items():
        for jobs, t in by_jobs.items():
            labels.append(f"torch {mode}\n{jobs} job(s)")
            values.append(t["median_ms"] / int(jobs))
    ax = axes[1][0]
    colors = ["tab:blue" if label.startswith("ORT") else "tab:orange" for label in labels]
    ax.bar(range(len(values)), values, color=colors)
    ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.set_ylabel("ms per job (2 network rows)")
    ax.set_title("One denoising step, per job")
    ax.grid(axis="y", alpha=0.3)

    ax = axes[1][1]
    labels, achieved, ceiling = [], [], []
    for s in r["step"]:
        best = max(s["batches"], key=lambda b: b["gflopsPerSecond"])
        labels.append(f"{s['precision']} step\n{best['jobs']} jobs")
        achieved.append(best["gflopsPerSecond"])
        ceiling.append(r["matmul"]["ceiling"][s["precision"]])
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], achieved, width=0.4, label="model step")
    ax.bar([x + 0.2 for x in xs], ceiling, width=0.4, label="dense matmul (same precision)")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("G(FL)OP/s")
    ax.set_title("Achieved vs ceiling")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{r['package']['name']}: {r['mode']} benchmark, {r['startedAt'][:16]}")
    fig.tight_layout()
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    main()
