"""model/evaluation/eval_onnx.py runs the exported graph inside inference.Runtime: drawing and
describing through onnxruntime give what PyTorch gives for the same weights."""

import numpy as np
import pytest

from model.data.shapes64 import scene_from_seed
from model.evaluation.eval_onnx import load_ort_runtime
from model.evaluation.evaluate import describe, draw
from model.network.chat import unconditional_context
from model.network.sequence import Image, image_to_patches
from model.packaging.export import export_package, tiny
from model.sampling.diffusion import DiffusionConfig
from model.sampling.inference import Runtime, seeded_noise


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    model, tok, dcfg = tiny(steps=0)
    out = str(tmp_path_factory.mktemp("pkg"))
    export_package(out, "tiny", model, tok, dcfg)
    ort_rt, ort_tok, _ = load_ort_runtime(out, "fp32", threads=1)
    return Runtime(model, tok.pad, dcfg), tok, ort_rt, ort_tok, out


def test_draw_matches_pytorch(both):
    torch_rt, tok, ort_rt, ort_tok, _ = both
    captions = [scene_from_seed(s).caption() for s in range(3)]
    want = draw(torch_rt, tok, captions, [0, 1, 2], 4, 2.5)
    got = draw(ort_rt, ort_tok, captions, [0, 1, 2], 4, 2.5)
    for w, g in zip(want, got):
        assert np.abs(w.astype(int) - g.astype(int)).max() <= 1


def test_describe_matches_pytorch(both):
    torch_rt, tok, ort_rt, ort_tok, _ = both
    images = [scene_from_seed(s).render() for s in range(3)]
    assert describe(ort_rt, ort_tok, images, max_tokens=12) == describe(torch_rt, tok, images, max_tokens=12)


def test_settings_come_from_the_manifest_unless_overridden(both):
    _, _, ort_rt, _, out = both
    assert ort_rt.diffusion.guidance_interval == (0.3, 0.9)  # tiny's, from its manifest
    assert ort_rt.diffusion.time_shift == 2.0
    narrowed, _, _ = load_ort_runtime(out, "fp32", interval=(0.5, 1.0), threads=1)
    assert narrowed.diffusion.guidance_interval == (0.5, 1.0)
    assert isinstance(narrowed.diffusion, DiffusionConfig)


def test_an_edit_samples_as_in_pytorch_with_the_manifest_image_gap(both):
    torch_rt, tok, ort_rt, _, _ = both
    assert ort_rt.cfg.image_gap == torch_rt.cfg.image_gap == 40  # read back from the manifest's model config
    image = image_to_patches(scene_from_seed(5).render(), torch_rt.cfg.patch_size)
    instruction = tok.encode("remove the circle at the top left")
    context = [tok.bos, tok.user, tok.boi, Image(image), tok.eoi, *instruction, tok.assistant, tok.boi]
    noise = seeded_noise(9, torch_rt.cfg.num_patches, torch_rt.cfg.patch_dim)[None]
    images = []
    for rt in (torch_rt, ort_rt):
        cond, _ = rt.prefill([context])
        assert cond.cursors[0].last_image == 3  # the user's image; the answer's goes to 3 + 40
        uncond, _ = rt.prefill([unconditional_context(tok)])
        images.append(rt.sample_images(cond, uncond, noise, 4, 2.5))
    assert (images[0] - images[1]).abs().max() < 1e-3
