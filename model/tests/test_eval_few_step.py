"""The few-step comparison runs the teacher and the student on the same conversations and
reports the student's gaps per figure (on the tiny package, both roles: the figures are
meaningless, the form is what is tested)."""

import json

from model.evaluation import eval_few_step
from model.packaging.manifest import load_manifest


def test_teacher_and_student_are_scored_side_by_side(tmp_path):
    out = tmp_path / "eval"
    eval_few_step.main(
        [
            "--teacher=packages/tiny",
            "--student=packages/tiny",
            "--student_steps=1,2",
            "--n_draw=2",
            "--n_per_kind=1",
            "--n_turns=1",
            "--n_refusals=2",
            f"--out={out}",
        ]
    )
    report = json.loads((out / "results.json").read_text())
    d = load_manifest("packages/tiny")["diffusion"]
    teacher = f"teacher, {d['default_steps']} steps"
    assert list(report["figures"]) == [teacher, "student, 1 step", "student, 2 steps"]
    # the teacher pays its unconditional rows; the student none
    assert report["figures"][teacher]["network rows an image"] > d["default_steps"]
    assert report["figures"]["student, 1 step"]["network rows an image"] == 1
    assert report["samplers"]["student, 2 steps"]["guidance"] == 1.0
    # second turns beside the same edit of the model's own drawing, of the true image, and the drawing itself
    turns = {f"second turn {k}" for k in ("second_turn", "one_turn_own_drawing", "one_turn", "first_drawing")}
    assert turns <= set(report["figures"][teacher])
    for name in ("student, 1 step", "student, 2 steps"):
        gaps = report["verdicts"][name]["gaps_points"]
        assert {"draw all", "edit all", "edit move", "second turn second_turn"} <= set(gaps)
        must = {k: v for k, v in gaps.items() if k in eval_few_step.MUST_FIGURES}
        assert {"draw all", "edit all", "second turn second_turn"} <= set(must)  # (2 draws: not every object count)
        assert report["verdicts"][name]["worst_gap_points"] == min(must.values())
    assert "| student minus teacher, points |" in (out / "table.md").read_text()
