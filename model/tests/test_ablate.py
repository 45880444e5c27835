"""model/research/ablate.py: arms map to the model's research settings, the summary's spread over seeds
is right, and the smoke mode runs the Shapes64 half end to end (tokenizers, equal-budget
runs, evaluation, tables, grids). The numbers themselves are not tested: a smoke run measures nothing."""

import json
import os

import pytest

from model.research import ablate


def test_arms_map_to_model_settings():
    assert ablate.arm_overrides("raw") == {}
    assert ablate.arm_overrides("causal") == {"image_attention": "causal"}
    assert ablate.arm_overrides("vq1024") == {"image_input": "vq", "codebook_size": 1024, "vq_embed": "table"}
    assert ablate.arm_overrides("vqp256") == {"image_input": "vq", "codebook_size": 256, "vq_embed": "project"}
    with pytest.raises(SystemExit):
        ablate.arm_overrides("vq")
    assert sorted(["causal", "vq4096", "vqp256", "raw", "vq256"], key=ablate.arm_order) == [
        "raw",
        "vq256",
        "vqp256",
        "vq4096",
        "causal",
    ]


def record(arm, seed, describe, draw):
    results = {"describe/all": {"n": 10, "accuracy": describe}, "draw/all": {"n": 10, "accuracy": draw}}
    return {"data": "shapes64", "arm": arm, "seed": seed, "parameters": 100, "results": results}


def test_summary_reports_mean_and_sample_spread_per_study():
    records = [
        record("raw", 1, 0.9, 0.5),
        record("raw", 2, 0.7, 0.3),
        record("vq256", 1, 0.4, 0.5),
        record("vq256", 2, 0.6, 0.5),
        record("causal", 1, 0.8, 0.1),
        record("causal", 2, 0.8, 0.2),
    ]
    s = ablate.summarize(records, {}, ablate.SMOKE, smoke=True)
    inp, att = s["studies"]["input"]["shapes64"], s["studies"]["attention"]["shapes64"]
    assert list(inp) == ["raw", "vq256"] and list(att) == ["raw", "causal"]
    assert inp["raw"]["describe/all"]["mean"] == pytest.approx(0.8)
    assert inp["raw"]["describe/all"]["std"] == pytest.approx(0.1414, abs=1e-3)  # sample std (n - 1)
    assert att["causal"]["draw/all"]["values"] == [0.1, 0.2]
    md = ablate.tables_md(s)
    assert md.startswith("**SMOKE RUN") and "80.0 ± 14.1" in md


def test_smoke_runs_the_shapes64_half_end_to_end(tmp_path):
    out, runs = str(tmp_path / "results"), str(tmp_path / "runs")
    args = [
        "--smoke",
        "--data=shapes64",
        "--arms=raw,vq256,causal",
        "--seeds=1",
        "--eval_shapes=2",
        f"--out={out}",
        f"--runs={runs}",
    ]
    ablate.main(args)
    summary = json.load(open(os.path.join(out, "summary-4x4.json")))
    assert summary["smoke"] is True
    assert set(summary["studies"]["input"]["shapes64"]) == {"raw", "vq256"}
    assert set(summary["studies"]["attention"]["shapes64"]) == {"raw", "causal"}
    rec = summary["tokenizers"]["shapes64"]["256"]["reconstruction"]
    assert all(r["psnr_db"] > 0 for r in rec.values())
    runs_written = sorted(os.listdir(os.path.join(out, "runs")))
    assert runs_written == ["shapes64-causal-s1-4x4.json", "shapes64-raw-s1-4x4.json", "shapes64-vq256-s1-4x4.json"]
    one = [json.load(open(os.path.join(out, "runs", n))) for n in runs_written]
    assert len({(r["steps"], r["batch"]) for r in one}) == 1  # equal budget
    assert {r["model_config"].get("image_attention", "bidirectional") for r in one} == {"bidirectional", "causal"}
    for f in ("digit_identity", "shape_identity", "describe/digit_scenes", "draw/all"):
        assert f in one[0]["results"]
    assert os.path.exists(os.path.join(out, "grids", "shapes64-tokenizers.png"))
    assert os.path.exists(os.path.join(out, "grids", "shapes64-draw-raw-causal-4x4.png"))
    # a second invocation reuses every finished piece
    mtime = os.path.getmtime(os.path.join(out, "runs", "shapes64-raw-s1-4x4.json"))
    ablate.main(args)
    assert os.path.getmtime(os.path.join(out, "runs", "shapes64-raw-s1-4x4.json")) == mtime


def test_sizes_name_runs_and_the_summary_keeps_one_size_apart():
    assert ablate.size_name(ablate.Budget().model) == "full"
    assert ablate.size_name(ablate.SIZES["small"]) == "small"
    assert ablate.size_name({**ablate.SIZES["small"], "n_layers": 3}) == "custom"
    small = ablate.SIZES["small"]
    # a saved config holds every field; the check reads the ones the size sets
    saved = {**small, "vocab_size": 300, "image_size": 64, "image_attention": "causal"}
    assert ablate.same_size(saved, small)
    assert not ablate.same_size(saved, ablate.Budget().model)


def test_one_seed_shows_no_spread():
    s = ablate.summarize([record("raw", 1, 0.5, 0.25), record("vq256", 1, 0.125, 0.0)], {}, ablate.SMOKE, smoke=False)
    md = ablate.tables_md(s)
    rows = [line for line in md.splitlines() if line.startswith("| raw") or line.startswith("| vq256")]
    assert rows[0].endswith("| 50.0 |") and rows[1].endswith("| 12.5 |") and not any("±" in r for r in rows)
