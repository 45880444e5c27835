"""Where a denoising step's time goes, by part of the model and by operator (onnxruntime's profiler).

    .venv/bin/python bench/py/op_share.py packages/shapes64/model.int8.denoise.onnx --jobs 1 16

Runs the graph on synthetic step inputs (every row a whole image of noisy patches after a
20-position context, as a guided step: 2 rows a job) and prints one JSON object: for each job
count, the share of kernel time of the pixel head (`/pixel_head/` nodes), of the Transformer
blocks (`/blocks.N/`) and of the rest, and the pixel head's and the whole graph's time by
operator type. Shares, not absolute times, so that a busy machine skews them less; the
absolute milliseconds are printed too. The graph may be any package's serving or denoise
graph (its dims are read from the inputs).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile

import numpy as np
import onnxruntime as ort


def step_inputs(session: ort.InferenceSession, rows: int, past: int = 20) -> dict[str, np.ndarray]:
    """Synthetic inputs of one denoising step (shapes from the graph's inputs)."""
    dims = {i.name: i.shape for i in session.get_inputs()}
    layers, key_dim = dims["past_keys"][0], dims["past_keys"][3]
    value_dim, patch_dim = dims["past_values"][3], dims["patches"][2]
    patches = 64  # a 64 x 64 image of 8 x 8 patches; the grid is read from the positions
    grid = int(round(patches**0.5))
    rng = np.random.default_rng(0)
    index = np.arange(patches)
    positions = np.stack([np.full(patches, past), past + index // grid, past + index % grid], -1)
    return {
        "tokens": np.zeros((rows, patches), np.int64),
        "patches": rng.standard_normal((rows, patches, patch_dim)).astype(np.float32),
        "is_image": np.ones((rows, patches), np.float32),
        "noise_level": np.full((rows, patches), 0.9, np.float32),
        "positions": np.repeat(positions[None], rows, 0).astype(np.int64),
        "attention_mask": np.zeros((rows, patches, past + patches), np.float32),
        "past_keys": rng.standard_normal((layers, rows, past, key_dim)).astype(np.float32),
        "past_values": rng.standard_normal((layers, rows, past, value_dim)).astype(np.float32),
    }


def part_of(node: str) -> str:
    if "/pixel_head/" in node or node.startswith("pixel_head"):
        return "pixel_head"
    return "blocks" if "/blocks." in node else "other"


def profile(graph: str, jobs: int, reps: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tmp, "step")
        if threads > 0:
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        feeds = step_inputs(session, 2 * jobs)
        session.run(["denoised"], feeds)  # warm-up
        for _ in range(reps):
            session.run(["denoised"], feeds)
        with open(session.end_profiling()) as f:
            events = json.load(f)
    parts: collections.Counter[str] = collections.Counter()
    ops: collections.Counter[str] = collections.Counter()
    head_ops: collections.Counter[str] = collections.Counter()
    runs = []
    for e in events:
        if e.get("cat") == "Session" and e.get("name") == "model_run":
            runs.append(e["dur"] / 1000)
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        node, op = e["name"][: -len("_kernel_time")], e["args"]["op_name"]
        parts[part_of(node)] += e["dur"]
        ops[op] += e["dur"]
        if part_of(node) == "pixel_head":
            head_ops[op] += e["dur"]
    total = sum(parts.values()) or 1
    share = lambda c: {k: round(100 * v / total, 1) for k, v in c.most_common()}  # noqa: E731
    timed = sorted(runs[1:]) or [0.0]
    return {
        "jobs": jobs,
        "rows": 2 * jobs,
        "median_ms": round(timed[len(timed) // 2], 2),
        "min_ms": round(timed[0], 2),
        "parts_percent": share(parts),
        "ops_percent": dict(list(share(ops).items())[:10]),
        "pixel_head_ops_percent": share(head_ops),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("graph")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: onnxruntime's choice)")
    args = parser.parse_args()
    print(
        json.dumps(
            {"graph": args.graph, "steps": [profile(args.graph, j, args.reps, args.threads) for j in args.jobs]},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
