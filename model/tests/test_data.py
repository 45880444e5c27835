"""The generator follows the Shapes64 card to the pixel and the grammar to the character."""

import re

import numpy as np

from model.data.shapes64 import (
    CELLS,
    COLOURS,
    EDGES,
    EVAL_SEEDS,
    KINDS,
    SIZES,
    TRAIN_SEEDS,
    VAL_SEEDS,
    Scene,
    SceneObject,
    conversation_from_seed,
    eval_split,
    scene_from_seed,
    val_split,
)
from model.evaluation.score import colour_mask, score_caption, score_image

COLOUR = "|".join(COLOURS)
KIND = "|".join(KINDS)
CELL = "|".join(sorted(CELLS, key=len, reverse=True))
OBJECT = rf"a (small|large) ({COLOUR}) ({KIND}) at the ({CELL})"
CAPTION = re.compile(rf"^{OBJECT}( and {OBJECT})*$")


def test_cell_edges_match_the_card():
    assert EDGES == [0, 21, 43, 64]


def test_captions_follow_the_grammar_and_reading_order():
    for seed in range(500):
        scene = scene_from_seed(seed)
        caption = scene.caption()
        assert CAPTION.match(caption), caption
        cells = [o.cell for o in scene.objects]
        assert cells == sorted(cells) and len(set(cells)) == len(cells)
        assert 1 <= len(scene.objects) <= 3


def test_generation_is_deterministic_per_seed():
    a, b = scene_from_seed(42), scene_from_seed(42)
    assert a == b and np.array_equal(a.render(), b.render())
    assert scene_from_seed(43) != a


def test_images_are_64x64_rgb_on_white_with_palette_colours():
    for seed in range(50):
        img = scene_from_seed(seed).render()
        assert img.shape == (64, 64, 3) and img.dtype == np.uint8
        assert tuple(img[0, 0]) == (255, 255, 255) or any(o.cell == 0 for o in scene_from_seed(seed).objects)


def test_shapes_have_exact_sizes_and_colours():
    for kind, area in (("square", lambda s: s * s), ("circle", None), ("triangle", None)):
        for size, s in SIZES.items():
            scene = Scene((SceneObject(cell=4, size=size, colour="blue", kind=kind, dx=0, dy=0),))
            img = scene.render()
            ys, xs = np.nonzero(colour_mask(img, "blue"))
            assert ys.max() - ys.min() + 1 == s, (kind, size)  # height equals the size
            assert xs.max() - xs.min() + 1 in (s, s - 1), (kind, size)
            exact = (img == np.array(COLOURS["blue"], np.uint8)).all(-1)
            assert exact.sum() == len(ys)  # no anti-aliasing on shapes
            if area:
                assert len(ys) == area(s)


def test_digits_have_ink_height_equal_to_size_and_are_centred():
    for size, s in SIZES.items():
        for d in "0123456789":
            obj = SceneObject(cell=4, size=size, colour="black", kind=d, dx=1, dy=-2)
            img = Scene((obj,)).render()
            ink = (img < 250).any(-1)
            ys, xs = np.nonzero(ink)
            assert ys.max() - ys.min() + 1 == s, (d, size)
            cx, cy = obj.centre
            assert abs((ys.min() + ys.max() + 1) / 2 - cy) <= 1
            assert abs((xs.min() + xs.max() + 1) / 2 - cx) <= 1


def test_objects_stay_in_their_cells_give_or_take_a_pixel():
    # The card's centres (cell centre +-2) let an 18 px object cross its cell's edge by one
    # pixel row or column (e.g. 53.5 - 2 - 9 = 42.5 < 43); never by more.
    for seed in range(300):
        scene = scene_from_seed(seed)
        img = scene.render()
        ink = (img != 255).any(-1)
        allowed = np.zeros_like(ink)
        for o in scene.objects:
            col, row = o.cell % 3, o.cell // 3
            allowed[max(0, EDGES[row] - 1) : EDGES[row + 1] + 1, max(0, EDGES[col] - 1) : EDGES[col + 1] + 1] = True
        assert not (ink & ~allowed).any(), seed


def test_splits_do_not_overlap_and_alternate_directions():
    ranges = sorted([TRAIN_SEEDS, VAL_SEEDS, EVAL_SEEDS])
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))
    assert val_split(3)[0].scene != eval_split(3)[0].scene
    split = eval_split(10)
    assert [c.direction for c in split[:4]] == ["draw", "describe", "draw", "describe"]
    assert conversation_from_seed(0).direction == "draw" and conversation_from_seed(1).direction == "describe"
    assert conversation_from_seed(0).user_text.startswith("draw a ")


def test_scorer_accepts_the_truth_and_refuses_the_wrong():
    for seed in range(100):
        scene = scene_from_seed(seed)
        assert score_image(scene.render(), scene)["right"]
        assert score_caption(scene.caption(), scene)["right"]
    scene = scene_from_seed(1)
    blank = np.full((64, 64, 3), 255, np.uint8)
    assert not score_image(blank, scene)["right"]
    wrong = Scene(
        tuple(
            SceneObject(o.cell, o.size, "red" if o.colour != "red" else "blue", o.kind, o.dx, o.dy)
            for o in scene.objects
        )
    )
    assert not score_image(wrong.render(), scene)["right"]
    assert score_caption(scene.caption() + " and a small red 1 at the top", scene)["objects_right"] == len(
        scene.objects
    )


def test_scorer_tells_sizes_and_shapes_apart():
    def one(**kw):
        base = dict(cell=4, size="large", colour="red", kind="circle", dx=0, dy=0)
        return Scene((SceneObject(**{**base, **kw}),))

    asked = one()
    assert not score_image(one(size="small").render(), asked)["right"]
    assert not score_image(one(kind="square").render(), asked)["right"]
    assert not score_image(one(kind="triangle").render(), asked)["right"]
    assert not score_image(one(cell=0).render(), asked)["right"]
