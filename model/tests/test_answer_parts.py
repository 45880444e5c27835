"""model/sampling/conversation.py: an answer of text and several images, as the worker gives it.

The runtime here is scripted (what it says next, given how many images the answer holds so
far), so that the loop's bookkeeping is what is tested: each image is put back into the
context as its 8-bit picture followed by <eoi>, each image of a row draws its own noise, and
the answer stops at <eos> or at max_images."""

from types import SimpleNamespace

import numpy as np
import torch

from model.data.dialogues import Turn
from model.network.sequence import Image, image_to_patches, patches_to_image
from model.network.tokenizer import train_default
from model.sampling.conversation import IMAGE_SEED_STRIDE, answer_parts, text_and_first_image
from model.sampling.inference import seeded_noise

TOK = train_default()
CFG = SimpleNamespace(patch_size=8, image_size=64, num_patches=64, patch_dim=192)


class ScriptedRuntime:
    """Says script[k] once the answer holds k images; draws the noise it is given (clipped)."""

    def __init__(self, script: list[list[int]]):
        self.cfg, self.script, self.contexts_seen, self.noise_seen = CFG, script, [], []

    def answer_images(self, context: list) -> int:
        start = len(context) - context[::-1].index(TOK.assistant)  # after the last <assistant>
        return sum(isinstance(item, Image) for item in context[start:])

    def decode_greedy(self, contexts, max_tokens, stop_ids):
        self.contexts_seen += [list(c) for c in contexts]
        return [self.script[self.answer_images(c)] for c in contexts]

    def prefill(self, contexts):
        return contexts, None

    def sample_images(self, cond, uncond, noise, steps, guidance):
        self.noise_seen.append(noise.clone())
        return noise.clamp(-1, 1)


def every_style_script() -> list[list[int]]:
    return [
        TOK.encode("google:") + [TOK.boi],
        TOK.encode("openmoji:") + [TOK.boi],
        TOK.encode("twitter:") + [TOK.boi],
        [TOK.eos],
    ]


def conv(text: str) -> list[Turn]:
    return [Turn("user", [text])]


def test_text_and_images_come_back_in_order_until_eos():
    rt = ScriptedRuntime(every_style_script())
    (parts,) = answer_parts(rt, TOK, [conv("draw snake in every style")], [5], steps=10, guidance=6.0)
    assert [p if isinstance(p, str) else "IMAGE" for p in parts] == [
        "google:",
        "IMAGE",
        "openmoji:",
        "IMAGE",
        "twitter:",
        "IMAGE",
    ]
    for p in parts:
        if not isinstance(p, str):
            assert p.dtype == np.uint8 and p.shape == (64, 64, 3)


def test_each_image_goes_back_into_the_context_as_its_picture_then_eoi():
    rt = ScriptedRuntime(every_style_script())
    (parts,) = answer_parts(rt, TOK, [conv("draw snake in every style")], [5], steps=10, guidance=6.0)
    last = rt.contexts_seen[-1]  # the context the text resumed from after the third image
    images = [item for item in last if isinstance(item, Image)]
    assert len(images) == 3
    for item, picture in zip(images, [p for p in parts if not isinstance(p, str)]):
        np.testing.assert_array_equal(item.patches, image_to_patches(picture, 8))
        assert item.noise_level == 0.0
        i = next(k for k, x in enumerate(last) if x is item)
        assert last[i - 1] == TOK.boi and last[i + 1] == TOK.eoi


def test_each_image_of_a_row_draws_its_own_seeded_noise():
    rt = ScriptedRuntime(every_style_script())
    answer_parts(rt, TOK, [conv("a"), conv("b")], [5, 9], steps=10, guidance=6.0)
    for k, noise in enumerate(rt.noise_seen):
        for row, seed in enumerate([5, 9]):
            want = seeded_noise(seed + k * IMAGE_SEED_STRIDE, CFG.num_patches, CFG.patch_dim)
            torch.testing.assert_close(noise[row], want)
    assert not torch.equal(rt.noise_seen[0][0], rt.noise_seen[1][0])


def test_a_text_answer_has_no_image_and_max_images_stops_the_answer():
    rt = ScriptedRuntime([TOK.encode("i draw emoji") + [TOK.eos]])
    (parts,) = answer_parts(rt, TOK, [conv("hello")], [0], steps=10, guidance=6.0)
    assert parts == ["i draw emoji"] and text_and_first_image(parts) == ("i draw emoji", None)
    rt = ScriptedRuntime(every_style_script())
    (parts,) = answer_parts(rt, TOK, [conv("x")], [0], steps=10, guidance=6.0, max_images=1)
    text, image = text_and_first_image(parts)
    assert text == "google:" and image is not None and len(parts) == 2
    np.testing.assert_array_equal(image, patches_to_image(seeded_noise(0, 64, 192).clamp(-1, 1).numpy(), 8, 64))
