"""Multimodal rotary positions: text (n, n, n), patches (n, n + row, n + col), and the image gap
between consecutive images (docs/model-package.md, "Positions")."""

import numpy as np

from model.network.sequence import Cursor, Image, build_row

GRID, PD, PAD = 2, 12, 0


def test_image_gap_starts_an_image_at_the_earlier_image_start_plus_gap():
    a, b = Image(np.zeros((GRID * GRID, PD), np.float32)), Image(np.ones((GRID * GRID, PD), np.float32))
    row, cursor = build_row([1, a, 2, 3, b, 4], 0, GRID, PAD, PD, image_gap=20)
    starts = [p[0] for p, im in zip(row.positions, row.is_image) if im]
    assert starts[0] == 1 and starts[-1] == 21  # the text between sat at 1 + GRID, 2 + GRID
    assert row.positions[-1] == (21 + GRID,) * 3 and cursor == Cursor(22 + GRID, 21)
    # a later call places its image from the cursor's latest image; text longer than the gap wins
    later, _ = build_row([b], cursor, GRID, PAD, PD, image_gap=20)
    assert later.positions[0][0] == 41
    long_text, _ = build_row([a, *range(30), b], 0, GRID, PAD, PD, image_gap=20)
    assert long_text.positions[-1][0] == GRID + 30
    # gap 0 (packages trained before it): the running index
    plain, _ = build_row([a, 2, b], 0, GRID, PAD, PD)
    assert plain.positions[-1][0] == GRID + 1
