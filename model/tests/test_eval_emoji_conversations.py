"""model/evaluation/evaluate_emoji_conversations.py: which restyles are asked, and how a drawing counts."""

import numpy as np

from model.data.corpus import Corpus
from model.evaluation.eval_corpus import Pools
from model.evaluation.evaluate_emoji_conversations import heldout_restyles, hits_in_style

STYLES = ["google", "openmoji", "twitter"]
CONCEPTS = ["cat", "dog", "red heart", "snake", "sun"]


def corpus() -> Corpus:
    """Five concepts in three training styles, outline and fluent, each cell its own random
    picture; held out: cat x twitter (eval) and dog x google (val), and every fluent image."""
    rng = np.random.default_rng(0)
    images, captions, styles, splits = [], [], [], []
    for concept in CONCEPTS:
        for style in [*STYLES, "outline", "fluent"]:
            images.append(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
            captions.append(concept)
            styles.append(style)
            split = "train"
            if style == "fluent" or (concept, style) == ("cat", "twitter"):
                split = "eval"
            elif (concept, style) == ("dog", "google"):
                split = "val"
            splits.append(split)
    return Corpus(np.stack(images), captions, styles, splits)


def test_a_held_out_cell_is_asked_from_its_concept_in_each_other_training_style():
    c = corpus()
    cell = lambda i: (c.captions[i], c.styles[i], c.splits[i])  # noqa: E731
    pairs = heldout_restyles(c, "eval", 0)
    assert sorted((cell(s), cell(t)) for s, t in pairs) == [
        (("cat", "google", "train"), ("cat", "twitter", "eval")),
        (("cat", "openmoji", "train"), ("cat", "twitter", "eval")),
    ]
    (pair,) = heldout_restyles(c, "val", 1)
    assert cell(pair[1]) == ("dog", "google", "val") and c.splits[pair[0]] == "train"


def test_a_drawing_counts_for_the_concept_whose_real_image_of_the_asked_style_it_is_nearest():
    c = corpus()
    pools = Pools(c)
    twitter_cat = next(i for i in range(len(c)) if (c.captions[i], c.styles[i]) == ("cat", "twitter"))
    google_cat = next(i for i in range(len(c)) if (c.captions[i], c.styles[i]) == ("cat", "google"))
    images = c.images[[twitter_cat, twitter_cat, google_cat]]
    # the twitter cat itself, asked in twitter: found; asked as a dog: not; the google cat's
    # pixels asked in twitter: random pictures, so its nearest twitter image is chance
    hits = hits_in_style(pools, images, ["twitter", "twitter", "google"], ["cat", "dog", "cat"], 1)
    assert hits == [True, False, True]
    assert hits_in_style(pools, images[:1], ["twitter"], ["dog"], len(CONCEPTS)) == [True]
