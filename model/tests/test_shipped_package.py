"""Behaviour of the shipped package (packages/shapes64) through its ONNX graphs, as served: a
drawn image's answer ends at the image. The worker puts the finished image back in the
context at noise level 0, then `<eoi>`, then decodes the rest of the answer; a model that
read a clean image as a user's input would caption it there instead (it did, before
train.py's clean draws)."""

import os

import numpy as np
import pytest

from model.data.shapes64 import scene_from_seed
from model.evaluation.eval_onnx import load_ort_runtime
from model.evaluation.evaluate import draw
from model.network.chat import draw_context
from model.network.sequence import Image, image_to_patches

PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "shapes64")


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_answer_ends_after_a_drawn_image(precision):
    rt, tok, _ = load_ort_runtime(PACKAGE, precision, threads=1)
    captions = [scene_from_seed(2_000_000_000 + s).caption() for s in range(4)]
    images = draw(rt, tok, captions, list(range(4)), rt.diffusion.default_steps, rt.diffusion.default_guidance)
    contexts = [
        [*draw_context(tok, c), Image(image_to_patches(img, rt.cfg.patch_size).astype(np.float32), 0.0), tok.eoi]
        for c, img in zip(captions, images)
    ]
    answers = rt.decode_greedy(contexts, max_tokens=8, stop_ids={tok.eos})
    assert answers == [[tok.eos]] * 4
