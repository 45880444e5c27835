"""The second-turn measure counts each figure overall and by edit kind, on the same edits
(on the tiny package: the figures are meaningless, their bookkeeping is what is tested)."""

from model.data.shapes64_dialogues import val_edit_split
from model.data.shapes64_edits import EDIT_KINDS
from model.evaluation.eval_onnx import load_scored_runtime
from model.evaluation.evaluate_conversations import evaluate_second_turn


def test_each_figure_is_reported_overall_and_by_edit_kind():
    rt, tok = load_scored_runtime("packages/tiny", None)
    split = val_edit_split(2)
    report = evaluate_second_turn(rt, tok, split, steps=1, guidance=1.0, batch_size=4)
    assert set(report) == {"second_turn", "one_turn_own_drawing", "one_turn", "first_drawing"}
    for figure in report.values():
        assert figure["n"] == len(split)
        assert set(figure["by_kind"]) == set(EDIT_KINDS)
        # two edits a kind: the overall rate is the mean of the kinds'
        overall = sum(figure["by_kind"].values()) / len(EDIT_KINDS)
        assert abs(figure["accuracy"] - overall) < 1e-9
