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
            f"--grid={tmp_path / 'grid.png'}",
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
    assert "pictures" not in report["samplers"][teacher]  # the pictures go to the grid only
    # the grid: input, target and the three samplers across; the 2 draws and 5 edits (one a kind) down
    from PIL import Image

    width, height = Image.open(tmp_path / "grid.png").size
    assert (width, height) == (5 * (128 + 4) + 4, 7 * (128 + 12 + 4) + 12 + 4)


def test_the_first_edit_of_each_kind_is_picked_for_the_grid():
    ex = [(f"make the 1 at the top {c}", None, None, None, None) for c in ("red", "small", "blue")]
    ex.append(("remove the 1 at the top", None, None, None, None))
    picked = eval_few_step.first_of_each_kind(ex)
    assert [p[0] for p in picked] == [
        "make the 1 at the top red",
        "make the 1 at the top small",
        "remove the 1 at the top",
    ]
