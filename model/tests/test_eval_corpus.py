"""The retrieval that scores a corpus model's drawings and its pixel-space baselines."""

import numpy as np

from model.data.corpus import Corpus
from model.evaluation.eval_corpus import Pools, copy_baseline, nearest, retrieval_features, topk_concepts


def blob(colour, at):
    img = np.full((64, 64, 3), 255, np.uint8)
    img[at[0] : at[0] + 24, at[1] : at[1] + 24] = colour
    return img


def corpus():
    concepts = {"red": (220, 30, 30), "blue": (30, 70, 220), "green": (30, 160, 50)}
    images, captions, styles, splits = [], [], [], []
    for style, at in (("left", (20, 4)), ("right", (20, 36))):
        for cap, colour in concepts.items():
            images.append(blob(colour, at))
            captions.append(cap)
            styles.append(style)
            splits.append("train")
    return Corpus(np.stack(images), captions, styles, splits)


def test_features_blur_and_shrink_to_16x16():
    f = retrieval_features(np.stack([blob((0, 0, 0), (0, 0))]))
    assert f.shape == (1, 16 * 16 * 3) and 0 <= f.min() and f.max() <= 1


def test_nearest_and_distinct_concepts():
    pool = np.array([[0.0], [1.0], [2.0], [10.0]])
    assert nearest(np.array([[0.9]]), pool, 2).tolist() == [[1, 0]]
    assert topk_concepts(np.array([[0, 1, 2, 3]]), ["a", "a", "b", "c"], 2) == [["a", "b"]]


def test_a_drawing_is_retrieved_among_its_style_and_copies_across_styles_are_scored():
    c = corpus()
    pools = Pools(c)
    drawn = np.stack([blob((200, 40, 40), (22, 6)), blob((40, 60, 200), (18, 38))])  # near red/left, blue/right
    assert [r[0] for r in pools.retrieve(drawn[:1], "left", 1)] == ["red"]
    assert [r[0] for r in pools.retrieve(drawn[1:], "right", 1)] == ["blue"]
    # the same concept drawn in the other style: colour still names it among three
    hits = copy_baseline(pools, c, [0, 1, 2], ["left", "right"])
    assert hits == [1.0, 1.0, 1.0]
