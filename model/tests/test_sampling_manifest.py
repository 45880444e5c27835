"""A package declares how it samples (model/packaging/sampling.py): today's exports declare
nothing and stay as they were; a few-step student declares its step counts and fixed guidance,
and a declaration that contradicts itself is refused, on export and on load."""

import json
import os

import pytest

from model.packaging.export import export_package, tiny
from model.packaging.manifest import PackageError, load_manifest
from model.packaging.sampling import check_sampling, parse_steps, sampler_guidance, sampling_fields
from model.packaging.weights import load_checkpoint


def test_nothing_declared_by_default():
    assert sampling_fields(10) == {}


def test_a_student_declares_its_steps_and_fixed_guidance():
    assert sampling_fields(1, [2, 1], fixed_guidance=True) == {"steps": {"supported": [1, 2]}, "guidance": "fixed"}
    assert sampling_fields(2, max_steps=8) == {"steps": {"max": 8}}
    assert parse_steps("1,2") == [1, 2]


def test_guidance_chosen_per_step_count_is_declared():
    from model.packaging.sampling import parse_guidance_by_steps

    by_steps = parse_guidance_by_steps("1=2,4=3")
    assert by_steps == {"1": 2.0, "4": 3.0}
    assert sampling_fields(10, guidance_by_steps=by_steps) == {"guidance_by_steps": {"1": 2.0, "4": 3.0}}
    with pytest.raises(ValueError, match="a step count from 1 to 100"):
        parse_guidance_by_steps("101=2")


@pytest.mark.parametrize(
    "diffusion",
    [
        {"default_steps": 10, "steps": {"supported": [1, 2]}},
        {"default_steps": 10, "steps": {"max": 4}},
        {"default_steps": 1, "steps": {"supported": [1, 1]}},
        {"default_steps": 1, "steps": {"supported": [1], "max": 1}},
        {"default_steps": 1, "guidance": "sometimes"},
        {"default_steps": 10, "guidance": "fixed", "guidance_by_steps": {"1": 2}},
        {"default_steps": 10, "guidance_by_steps": {}},
        {"default_steps": 10, "guidance_by_steps": {"0": 2}},
        {"default_steps": 10, "guidance_by_steps": {"4": -1}},
        {"default_steps": 10, "guidance_by_steps": {"4": True}},
        {"default_steps": 10, "guidance_by_steps": [3]},
    ],
)
def test_a_contradiction_is_refused(diffusion):
    with pytest.raises(ValueError):
        check_sampling(diffusion)


def test_export_writes_the_declaration_and_load_checks_it(tmp_path):
    model, tok, dcfg = tiny(steps=0)
    plain = str(tmp_path / "plain")
    manifest = export_package(plain, "tiny", model, tok, dcfg)
    assert "steps" not in manifest["diffusion"] and "guidance" not in manifest["diffusion"]
    dcfg.default_steps = 1
    student = str(tmp_path / "student")
    manifest = export_package(
        student, "student", model, tok, dcfg, sampling=sampling_fields(1, [1, 2], fixed_guidance=True)
    )
    assert manifest["diffusion"]["steps"] == {"supported": [1, 2]}
    assert manifest["diffusion"]["guidance"] == "fixed"
    assert load_manifest(student)["diffusion"]["default_steps"] == 1
    # Python samples it as the worker does: its guidance is in the network, so no unconditional row
    assert sampler_guidance(manifest["diffusion"]) == 1.0
    assert load_checkpoint(student)["diffusion_config"]["default_guidance"] == 1.0
    assert load_checkpoint(plain)["diffusion_config"]["default_guidance"] == dcfg.default_guidance
    path = os.path.join(student, "manifest.json")
    broken = {**manifest, "diffusion": {**manifest["diffusion"], "steps": {"supported": [2]}}}
    with open(path, "w") as f:
        json.dump(broken, f)
    with pytest.raises(PackageError, match="must include default_steps"):
        load_manifest(student)
