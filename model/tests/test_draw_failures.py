import json

import numpy as np

from model.data.shapes64 import Scene, SceneObject
from model.evaluation.draw_failures import main, table, tally_failures
from model.evaluation.score import failure_causes, object_drawn

SQUARE = SceneObject(4, "large", "blue", "square", 0, 0)
CIRCLE = SceneObject(4, "large", "blue", "circle", 0, 0)
SMALL_SQUARE = SceneObject(4, "small", "blue", "square", 0, 0)
RED_DOT = SceneObject(0, "small", "red", "circle", 0, 0)


def test_each_wrong_drawing_names_the_check_it_misses():
    square = Scene((SQUARE,))
    assert failure_causes(square.render(), square) == []
    assert failure_causes(np.full((64, 64, 3), 255, np.uint8), square) == ["missing"]
    assert failure_causes(Scene((CIRCLE,)).render(), square) == ["wrong shape"]
    assert failure_causes(Scene((SMALL_SQUARE,)).render(), square) == ["too small"]
    assert failure_causes(square.render(), Scene((SMALL_SQUARE,))) == ["too large"]
    # paint in a cell the caption does not name
    assert failure_causes(Scene((RED_DOT, SQUARE)).render(), square) == ["stray"]
    assert not object_drawn(Scene((CIRCLE,)).render(), SQUARE) and object_drawn(square.render(), SQUARE)


def test_the_tally_counts_a_wrong_drawing_once_a_cause_by_number_of_objects():
    one, two = Scene((SQUARE,)), Scene((RED_DOT, SQUARE))
    blank = np.full((64, 64, 3), 255, np.uint8)
    tally = tally_failures([one, one, two], [one.render(), blank, blank])
    assert tally == {
        1: {"n": 2, "right": 1, "causes": {"missing": 1}},
        2: {"n": 1, "right": 0, "causes": {"missing": 1}},  # two objects missing: one drawing
    }
    assert "| 1 | 2 | 50.0 % | 1 |" in table(tally)


def test_the_command_scores_the_evaluations_drawings(tmp_path, capsys):
    out = tmp_path / "failures.json"
    main(["--ckpt=packages/tiny", "--n=6", "--steps=1", "--guidance=1", f"--out={out}"])
    assert "| objects | drawings | right |" in capsys.readouterr().out
    tally = json.loads(out.read_text())["tally"]
    assert sum(row["n"] for row in tally.values()) == 6
