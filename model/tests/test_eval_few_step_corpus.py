"""eval_few_step_corpus: an Emoji64 student's figures beside its teacher's, and the must's verdict."""

import numpy as np

from model.data.corpus import Corpus
from model.evaluation.eval_few_step_corpus import figures, verdict, with_speckle


def test_speckle_is_measured_against_each_drawn_cells_real_image():
    flat = np.full((64, 64, 3), 255, np.uint8)
    flat[8:56, 8:56] = (200, 40, 40)  # one flat fill
    corpus = Corpus(np.stack([flat, flat]), ["red", "red"], ["google", "twitter"], ["train", "eval"])
    grainy = flat.copy()
    grainy[16:48:2, 16:48] = (170, 40, 40)  # stripes inside the fill
    results = with_speckle({}, {"seen": [(0, flat, True)], "heldout": [(1, grainy, False)]}, corpus)
    assert results["speckle_seen"] == 0.0 and results["speckle_heldout"] > 2


def test_the_verdict_takes_the_worst_draw_gap_and_any_worse_speckle():
    def fig(seen, held, speckle):
        results = {
            "draw_seen_top1": {"n": 100, "accuracy": seen},
            "draw_heldout_top5": {"n": 50, "accuracy": held},
            "speckle_seen": speckle,
            "speckle_heldout": speckle,
        }
        return figures(results, 1)

    teacher = fig(0.95, 0.38, 3.0)
    assert verdict(teacher, fig(0.93, 0.36, 2.0)) == {
        "gaps_points": {"draw seen top-1": -2.0, "draw held-out top-5": -2.0},
        "worst_gap_points": -2.0,
        "speckle_worse_by": {},
        "within_must": True,
    }
    assert not verdict(teacher, fig(0.95, 0.34, 2.0))["within_must"]  # 4 points below on held-out cells
    worse = verdict(teacher, fig(0.96, 0.40, 3.5))
    assert worse["speckle_worse_by"] == {"speckle, seen draws": 0.5, "speckle, held-out draws": 0.5}
    assert not worse["within_must"]
