"""model/packaging/set_sampler.py: a package's sampler changes in its manifest only; the graphs stay
byte for byte, the package still verifies, and a quality record measured with the old
sampler is dropped."""

import json
import os
import shutil

import pytest

from model.packaging.manifest import PackageError, load_manifest, write_manifest
from model.packaging.set_sampler import set_sampler

TINY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "tiny")


@pytest.fixture
def package(tmp_path):
    out = str(tmp_path / "tiny")
    shutil.copytree(TINY, out)
    return out


def test_changes_the_sampler_and_eval_keeping_the_graph(package, tmp_path):
    before = load_manifest(package)
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"results": {"draw/all": {"accuracy": 0.5}}}))
    set_sampler(package, default_guidance=5, time_shift=2.5, guidance_interval=(0.8, 1.0), eval_json=str(results))
    after = load_manifest(package)  # verifies every file's sha256
    assert after["diffusion"] == {
        **before["diffusion"],
        "default_guidance": 5,
        "time_shift": 2.5,
        "guidance_interval": [0.8, 1.0],
    }
    graph = before["graph"]["file"]
    assert after["files"][graph] == before["files"][graph]
    assert json.load(open(os.path.join(package, "eval.json"))) == {"results": {"draw/all": {"accuracy": 0.5}}}
    assert "eval.json" in after["files"]


def with_a_quality_record(package: str) -> tuple[dict, dict]:
    """The package's manifest before, and the int8 variant (with a quality record) it now has."""
    m = load_manifest(package)
    variant = {"file": m["graph"]["file"], "quality": {"accepted": True}}
    write_manifest(
        package,
        {**{k: v for k, v in m.items() if k != "files"}, "graph": {**m["graph"], "variants": {"int8": variant}}},
        list(m["files"]),
    )
    return m, variant


def test_drops_a_quality_record_measured_with_the_old_sampler(package):
    m, _ = with_a_quality_record(package)
    set_sampler(package, time_shift=2)
    assert load_manifest(package)["graph"]["variants"] == {"int8": {"file": m["graph"]["file"]}}


def test_declares_that_answers_end_at_their_image_from_a_report_keeping_quality(package, tmp_path):
    m, variant = with_a_quality_record(package)
    report = tmp_path / "ends.json"
    report.write_text(json.dumps({"checkpoint": package, "image_ends_answer": True, "went_on": 0}))
    set_sampler(package, ends_at_image=str(report))
    after = load_manifest(package)
    assert after["conversation"] == {**m["conversation"], "image_ends_answer": True}
    assert after["graph"]["variants"] == {"int8": variant}  # the same images: the record stands
    assert after["diffusion"] == m["diffusion"]
    report.write_text(json.dumps({"checkpoint": package, "image_ends_answer": False, "went_on": 2}))
    set_sampler(package, ends_at_image=str(report))  # a later check that found answers going on withdraws it
    assert "image_ends_answer" not in load_manifest(package)["conversation"]


def test_refuses_bad_settings_and_a_package_that_does_not_verify(package):
    with pytest.raises(PackageError, match="guidance interval"):
        set_sampler(package, guidance_interval=(0.9, 0.8))
    with pytest.raises(PackageError, match="time shift"):
        set_sampler(package, time_shift=0)
    with pytest.raises(PackageError, match="guidance"):
        set_sampler(package, default_guidance=0.5)
    with open(os.path.join(package, "tokenizer.json"), "a") as f:
        f.write(" ")
    with pytest.raises(PackageError, match="tokenizer.json"):
        set_sampler(package, time_shift=2)


def test_sets_and_clears_guidance_per_step_count_keeping_quality(package):
    _, variant = with_a_quality_record(package)
    set_sampler(package, guidance_by_steps="1=2, 4=3")
    after = load_manifest(package)
    assert after["diffusion"]["guidance_by_steps"] == {"1": 2.0, "4": 3.0}
    assert after["graph"]["variants"]["int8"] == variant  # the default steps' record stands
    for bad in ("0=3", "4=-1", "four=3", "4"):
        with pytest.raises(PackageError, match="guidance by steps"):
            set_sampler(package, guidance_by_steps=bad)
    set_sampler(package, guidance_by_steps="")
    assert "guidance_by_steps" not in load_manifest(package)["diffusion"]


def test_refuses_guidance_per_step_count_for_fixed_guidance(package):
    m = load_manifest(package)
    fixed = {**m["diffusion"], "guidance": "fixed"}
    write_manifest(package, {**{k: v for k, v in m.items() if k != "files"}, "diffusion": fixed}, list(m["files"]))
    with pytest.raises(PackageError, match="needs adjustable guidance"):
        set_sampler(package, guidance_by_steps="1=2")
