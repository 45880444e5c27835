"""The attention rule: text is causal, the patches of one image see each other, earlier text
never sees a later image, padding is never seen."""

import numpy as np
import torch

from model.network.sequence import Image, attention_mask, build_row, collate

GRID, PD, PAD = 2, 12, 0


def layout(items, start=0):
    row, _ = build_row(items, start, GRID, PAD, PD)
    return row


def img():
    return Image(np.zeros((GRID * GRID, PD), np.float32))


def allowed(rows, past_valid=None):
    b = collate(rows, PAD, PD)
    return attention_mask(b.valid, b.image_id, past_valid) == 0, b


def test_text_never_sees_the_future():
    ok, _ = allowed([layout([1, 2, 3, 4])])
    assert torch.equal(ok[0], torch.tril(torch.ones(4, 4, dtype=torch.bool)))


def test_patches_of_one_image_see_each_other_but_earlier_text_not_later_images():
    ok, b = allowed([layout([1, 2, img(), 3, img(), 4])])
    first, second = range(2, 6), range(7, 11)
    for i in first:
        for j in first:
            assert ok[0, i, j]
        for j in second:
            assert not ok[0, i, j]  # an image does not see a later image
    for j in list(first) + list(second):
        assert not ok[0, 0, j] and not ok[0, 1, j]  # earlier text never sees later images
    for i in second:
        assert ok[0, i, 6] and ok[0, i, 2]  # later positions see earlier text and images
    assert ok[0, 11, 10] and ok[0, 6, 5]


def test_padding_is_never_seen_and_past_keys_are():
    ok, _ = allowed([layout([1, 2, 3]), layout([1])])
    assert not ok[1, :, 1:].any()  # row 1 is padded after its first position
    past = torch.tensor([[True, True, False], [True, False, False]])
    ok, _ = allowed([layout([5], 3), layout([5], 2)], past)
    assert ok[0, 0].tolist() == [True, True, False, True]
    assert ok[1, 0].tolist() == [True, False, False, True]


def test_positions_are_multimodal_rotary():
    row = layout([1, img(), 2])
    assert row.positions[0] == (0, 0, 0)
    assert row.positions[1:5] == [(1, 1, 1), (1, 1, 2), (1, 2, 1), (1, 2, 2)]
    assert row.positions[5] == (1 + GRID, 1 + GRID, 1 + GRID)


def test_a_batch_and_its_mask_move_to_the_training_device():
    # "meta" stands in for a GPU: any tensor made on the CPU along the way fails to combine with it
    b = collate([layout([1, 2, img()]), layout([3])], PAD, PD).to("meta")
    assert {t.device.type for t in vars(b).values()} == {"meta"}
    past = torch.ones(2, 3, dtype=torch.bool, device="meta")
    mask = attention_mask(b.valid, b.image_id, past)
    assert mask.device.type == "meta" and mask.shape == (2, b.tokens.shape[1], 3 + b.tokens.shape[1])
