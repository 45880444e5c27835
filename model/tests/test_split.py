"""model/distill/split.py: a student that denoises on its teacher's cache trains as it serves,
and its package (model/packaging/join_reader.py) runs the teacher for every other call."""

import copy
import filecmp
import shutil

import numpy as np
import pytest
import torch

from model.distill.split import SplitModel, denoiser_batch, denoiser_loss, load_split
from model.evaluation.eval_onnx import load_ort_runtime
from model.evaluation.evaluate import describe, draw
from model.network.chat import draw_context, training_items
from model.network.sequence import Image, build_row, collate
from model.network.tokenizer import Tokenizer
from model.network.transformer import ModelConfig, UnifiedModel
from model.packaging.export import export_package
from model.packaging.join_reader import join_reader
from model.packaging.manifest import PackageError, load_manifest, write_manifest
from model.packaging.quantize import add_int8_variant
from model.packaging.weights import load_checkpoint
from model.sample import load_runtime
from model.sampling.diffusion import DiffusionConfig
from model.sampling.inference import Runtime

TINY = "packages/tiny"
CAPTIONS = ["a large red circle at the center", "a small blue 7 at the top left and a large green square at the bottom"]


@pytest.fixture(scope="module")
def tiny():
    ck = load_checkpoint(TINY)
    tok = Tokenizer.from_json(ck["tokenizer"])
    reader = UnifiedModel(ModelConfig.from_dict(ck["model_config"]))
    reader.load_state_dict(ck["ema"])
    student = copy.deepcopy(reader)
    with torch.no_grad():  # another model of the same shape, fp16-exact as a slimmed one
        torch.manual_seed(0)
        for p in student.parameters():
            p.add_(0.05 * torch.randn_like(p)).copy_(p.half().float())
    return reader.eval(), student.eval(), tok, DiffusionConfig(**ck["diffusion_config"]), ck


def noisy_rows(tok, cfg, level: float):
    """Two draw conversations of different lengths, their images at `level`, as one batch."""
    g = torch.Generator().manual_seed(1)
    images = [torch.randn(cfg.num_patches, cfg.patch_dim, generator=g).numpy() for _ in CAPTIONS]
    rows = [
        build_row(training_items(tok, "draw", c, x, level, False), 0, cfg.grid, tok.pad, cfg.patch_dim, cfg.image_gap)[
            0
        ]
        for c, x in zip(CAPTIONS, images)
    ]
    return collate(rows, tok.pad, cfg.patch_dim), images


def test_the_student_trains_on_the_cache_the_runtime_gives_it(tiny):
    reader, student, tok, dcfg, _ = tiny
    b, images = noisy_rows(tok, reader.cfg, 0.7)
    new, index, keys, values, past_valid = denoiser_batch(reader, b)
    assert index.shape == (2, reader.cfg.num_patches)
    mask = reader.attention_mask(new.valid, new.image_id, past_valid)
    with torch.no_grad():
        trained = student(new.tokens, new.patches, new.is_image, new.noise_level, new.positions, mask, keys, values)[1]

    def served(model):
        rt = Runtime(model, tok.pad, dcfg)
        cache, _ = rt.prefill([draw_context(tok, c) for c in CAPTIONS])
        return rt.step(cache, [[Image(x, 0.7)] for x in images])[1]

    torch.testing.assert_close(trained, served(SplitModel(reader, student)), atol=2e-5, rtol=1e-4)
    # the reader's cache, not the student's own, is what it sees
    prefixed_by_itself = served(student)
    assert (trained - prefixed_by_itself).abs().max() > 1e-3


def test_only_the_students_weights_that_run_an_image_being_denoised_learn(tiny):
    reader, student, tok, _, _ = tiny
    student = copy.deepcopy(student).train()
    b, _ = noisy_rows(tok, reader.cfg, 1.0)
    x0 = torch.randn_like(b.patches)
    weight = (b.is_image > 0).float()[..., None].expand_as(b.patches).contiguous()
    for huber in (0.0, 0.03):
        student.zero_grad()
        loss = denoiser_loss(student, reader, b, x0, weight, huber)
        loss.backward()
        assert loss.item() > 0
        assert all(p.grad is None for p in reader.parameters())
        assert student.blocks[0].out.weight.grad.abs().sum() > 0
        assert student.lm_head.weight.grad is None or student.lm_head.weight.grad.abs().sum() == 0
        assert student.tok_emb.weight.grad.abs().sum() == 0


def test_a_batch_without_one_image_being_denoised_a_row_is_refused(tiny):
    reader, _, tok, _, _ = tiny
    b, _ = noisy_rows(tok, reader.cfg, 0.0)  # clean images: nothing to denoise
    with pytest.raises(ValueError, match="one image being denoised"):
        denoiser_batch(reader, b)


def test_a_call_mixing_a_noisy_image_with_other_positions_is_refused(tiny):
    reader, student, tok, _, _ = tiny
    b, _ = noisy_rows(tok, reader.cfg, 0.5)
    pk, pv = reader.empty_cache(2)
    with pytest.raises(ValueError, match="mixes"):
        SplitModel(reader, student)(
            b.tokens,
            b.patches,
            b.is_image,
            b.noise_level,
            b.positions,
            reader.attention_mask(b.valid, b.image_id),
            pk,
            pv,
        )


def test_a_checkpoint_with_a_reader_loads_as_the_pair(tiny):
    reader, student, _, _, ck = tiny
    both = load_split({**ck, "ema": student.state_dict(), "reader": reader.state_dict()})
    assert isinstance(both, SplitModel)
    assert torch.equal(both.reader.lm_head.weight, reader.lm_head.weight)
    assert torch.equal(both.denoiser.lm_head.weight, student.lm_head.weight)
    assert isinstance(load_split(ck), UnifiedModel)


@pytest.fixture(scope="module")
def packages(tiny, tmp_path_factory):
    reader, student, tok, dcfg, _ = tiny
    root = tmp_path_factory.mktemp("split")
    for name, model in (("teacher", reader), ("student", student)):
        export_package(str(root / name), "tiny", model, tok, dcfg)
        add_int8_variant(str(root / name))
    return root


def test_the_joined_package_runs_the_teachers_serving_graphs_and_the_students_denoise_graphs(tiny, packages):
    reader, student, tok, dcfg, _ = tiny
    joined = packages / "joined"
    shutil.copytree(packages / "student", joined)
    manifest = join_reader(str(joined), str(packages / "teacher"))
    assert manifest["graph"]["split_weights"] is True
    assert load_manifest(str(joined))["files"] == manifest["files"]  # hashes verified
    for f in ("model.onnx", "model.int8.onnx"):
        assert filecmp.cmp(joined / f, packages / "teacher" / f, shallow=False)
    for f in ("model.denoise.onnx", "model.int8.denoise.onnx"):
        assert filecmp.cmp(joined / f, packages / "student" / f, shallow=False)
    # In onnxruntime as the workers run it: the words are the teacher's, the drawings the pair's.
    rt, _, _ = load_ort_runtime(str(joined), "fp32")
    torch_pair = Runtime(SplitModel(reader, student), tok.pad, dcfg)
    drawn = draw(rt, tok, CAPTIONS, [0, 1], 2, 1.0)
    want = draw(torch_pair, tok, CAPTIONS, [0, 1], 2, 1.0)
    teacher_only = draw(Runtime(reader, tok.pad, dcfg), tok, CAPTIONS, [0, 1], 2, 1.0)
    for a, b, t in zip(drawn, want, teacher_only):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 2
        assert np.abs(a.astype(int) - t.astype(int)).mean() > 1
    assert describe(rt, tok, want) == describe(Runtime(reader, tok.pad, dcfg), tok, want)


def test_a_joined_package_loads_in_pytorch_as_the_pair(tiny, packages):
    """load_checkpoint of a split package: the student from its denoise graph, the teacher from
    the serving graph as `reader`, so sample.py and the evaluations run what the workers run."""
    reader, student, tok, dcfg, _ = tiny
    joined = packages / "joined-pt"
    shutil.copytree(packages / "student", joined)
    join_reader(str(joined), str(packages / "teacher"))
    ck = load_checkpoint(str(joined))
    assert all(torch.equal(ck["reader"][k], v) for k, v in reader.state_dict().items())
    # Every weight the denoise graph runs is the student's; what it never runs (the text head)
    # is filled from the teacher, whose weights say every word.
    differ = {k for k, v in student.state_dict().items() if not torch.equal(ck["ema"][k], v)}
    assert differ == {"lm_head.weight"} and torch.equal(ck["ema"]["lm_head.weight"], reader.lm_head.weight)
    rt, _ = load_runtime(str(joined))
    assert isinstance(rt.model, SplitModel)
    # train.py --init_from: a distillation run goes on from the student; any other from the teacher
    from model.train import TrainConfig, init_checkpoint

    plain = init_checkpoint(TrainConfig(init_from=str(joined)))
    assert "reader" not in plain and all(torch.equal(plain["ema"][k], v) for k, v in reader.state_dict().items())
    distilling = init_checkpoint(TrainConfig(init_from=str(joined), distill_reader=str(packages / "teacher")))
    assert torch.equal(distilling["ema"]["blocks.0.proj.weight"], student.state_dict()["blocks.0.proj.weight"])
    assert not torch.equal(distilling["ema"]["blocks.0.proj.weight"], reader.state_dict()["blocks.0.proj.weight"])
    want = draw(Runtime(SplitModel(reader, student), tok.pad, dcfg), tok, CAPTIONS, [0, 1], 2, 1.0)
    for a, b in zip(draw(rt, tok, CAPTIONS, [0, 1], 2, 1.0), want):
        np.testing.assert_array_equal(a, b)


def test_joining_refuses_a_student_without_a_denoise_graph_or_of_another_shape(tiny, packages, tmp_path):
    reader, _, tok, dcfg, _ = tiny
    bare = tmp_path / "bare"
    export_package(str(bare), "tiny", reader, tok, dcfg)
    with pytest.raises(PackageError, match="no fp32 denoise graph"):
        join_reader(str(bare), str(packages / "teacher"))
    other = UnifiedModel(ModelConfig.from_dict({**reader.cfg.to_dict(), "n_layers": 1}))
    export_package(str(tmp_path / "other"), "tiny", other, tok, dcfg)
    add_int8_variant(str(tmp_path / "other"))
    with pytest.raises(PackageError, match="model.config"):
        join_reader(str(tmp_path / "other"), str(packages / "teacher"))


def rewrite(folder, change):
    """Changes a package's manifest in place (its files' hashes written again)."""
    m = load_manifest(str(folder))
    files = list(m.pop("files"))
    change(m)
    write_manifest(str(folder), m, files)


def test_a_joined_package_declares_what_its_reader_reads_and_says(packages, tmp_path):
    """A student distilled on draws alone must not declare its pairs' mix: the conversation and
    the data card are the reader's; whether an answer ends at its image stays the student's check."""
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    shutil.copytree(packages / "teacher", teacher)
    shutil.copytree(packages / "student", student)

    rewrite(teacher, lambda m: m.update(data_card={"name": "the teacher's data"}))
    rewrite(student, lambda m: m["conversation"].update(tasks=["draw"], image_ends_answer=True))
    rewrite(student, lambda m: m.update(data_card={"name": "the student's pairs"}))
    reader = load_manifest(str(teacher))
    joined = join_reader(str(student), str(teacher))
    assert joined["data_card"] == {"name": "the teacher's data"}
    assert joined["conversation"] == {**reader["conversation"], "image_ends_answer": True}
    rewrite(student, lambda m: m["conversation"].pop("image_ends_answer"))
    rewrite(teacher, lambda m: m["conversation"].update(image_ends_answer=True))
    assert "image_ends_answer" not in join_reader(str(student), str(teacher))["conversation"]


def test_a_reader_written_before_rope_image_gap_existed_joins_a_student_without_a_gap(packages, tmp_path):
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    shutil.copytree(packages / "teacher", teacher)
    shutil.copytree(packages / "student", student)

    rewrite(teacher, lambda m: m["rope"].pop("image_gap", None))  # an older export: no gap, so none
    rewrite(student, lambda m: m["rope"].update(image_gap=0))
    assert join_reader(str(student), str(teacher))["graph"]["split_weights"] is True
    rewrite(student, lambda m: m["rope"].update(image_gap=40))
    with pytest.raises(PackageError, match="rope"):
        join_reader(str(student), str(teacher))
