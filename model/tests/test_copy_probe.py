"""The copy probe's yardsticks: what a blank canvas and the unedited input score against edit targets."""

import math

import pytest

from model.evaluation.copy_probe import baselines, psnr_from_mse


def test_psnr_of_values_in_minus_one_to_one():
    assert psnr_from_mse(4 / 100) == pytest.approx(20.0)
    assert psnr_from_mse(4.0) == pytest.approx(0.0)


def test_the_unedited_input_beats_a_blank_canvas_and_is_no_perfect_edit():
    base = baselines(16)
    assert base["input"] > base["white"]
    assert math.isfinite(base["input"])  # every edit changes some pixel
