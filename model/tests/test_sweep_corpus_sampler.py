"""The sampler sweep tunes on drawings the reported figures never use."""

import numpy as np

from model.data.corpus import Corpus
from model.evaluation.eval_corpus import SEEN_DRAW_SEED, sample
from model.research.sweep_corpus_sampler import tuning_rows


def corpus(concepts: int = 60):
    images, captions, styles, splits = [], [], [], []
    for c in range(concepts):
        for s, style in enumerate(("google", "twitter", "openmoji", "fluent")):
            images.append(np.full((8, 8, 3), c, np.uint8))
            captions.append(f"c{c}")
            styles.append(style)
            # one cell of every tenth concept is validation; fluent is never trained on
            splits.append("eval" if style == "fluent" else "val" if c % 10 == 0 and s == c % 3 else "train")
    return Corpus(np.stack(images), captions, styles, splits)


def test_tuning_cells_are_training_cells_the_evaluation_does_not_draw():
    c = corpus()
    seen, held = tuning_rows(c, n=40, eval_n=50, seed=11)
    train = [i for i in c.indices("train") if c.styles[i] != "fluent"]
    reported = set(sample(train, 50, SEEN_DRAW_SEED))
    assert len(seen) == 40 and len(set(seen)) == 40
    assert set(seen) <= set(train) and not set(seen) & reported
    assert held and all(c.splits[i] == "val" and c.styles[i] != "fluent" for i in held)


def test_without_a_cap_every_unreported_training_cell_is_tuned_on():
    c = corpus(12)
    seen, _ = tuning_rows(c, n=0, eval_n=10, seed=11)
    train = [i for i in c.indices("train") if c.styles[i] != "fluent"]
    assert len(seen) == len(train) - 10
