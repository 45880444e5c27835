"""model/distill/: teacher pairs for a few-step student, and the batches a student trains on."""

import dataclasses
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from model.data.dialogue_batch import make_dialogue_batch
from model.data.shapes64_dialogues import training_dialogues
from model.distill.pairs import load_pairs, student_levels
from model.distill.pairs import main as make_pairs
from model.distill.source import DistillSource
from model.distill.split import SplitModel
from model.network.sequence import image_to_patches
from model.network.tokenizer import Tokenizer
from model.network.transformer import ModelConfig
from model.packaging.weights import load_checkpoint
from model.sample import load_runtime
from model.sampling.diffusion import DiffusionConfig, shift_level
from model.sampling.inference import seeded_noise
from model.train import TrainConfig, pixel_weights

TINY = "packages/tiny"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("pairs"))
    make_pairs([f"--teacher={TINY}", "--conversations=shapes64", "--n=6", "--shard=4", "--steps=2", f"--out={out}"])
    return out


def test_the_student_learns_each_step_counts_levels():
    assert student_levels("1", 2.0) == (1.0,)
    assert student_levels("1,2", 2.0) == (1.0, pytest.approx(shift_level(0.5, 2.0), abs=1e-6))


def test_pairs_are_written_in_shards_and_a_rerun_resumes_with_the_same_pairs(pairs):
    meta, p = load_pairs(pairs)
    assert len(p["index"]) == 6 and p["image"].shape == (6, 64, 64, 3) and p["image"].dtype == np.uint8
    assert meta["conversations"] == "shapes64" and meta["levels"][0] == 1.0
    second = os.path.join(pairs, "pairs-00001.npz")
    before = np.load(second)["image"].copy()
    os.remove(second)
    make_pairs([f"--teacher={TINY}", "--conversations=shapes64", "--n=6", "--shard=4", "--steps=2", f"--out={pairs}"])
    np.testing.assert_array_equal(np.load(second)["image"], before)


def test_a_pair_is_its_dialogue_with_the_teachers_image_its_noise_and_the_students_levels(pairs):
    src = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0)
    for j in range(len(src)):
        d = src.pair(j)
        np.testing.assert_array_equal(d.target_image, src.pairs["image"][j])
        seed, i = int(src.pairs["chunk_seed"][j]), int(src.pairs["index"][j])
        original = training_dialogues(64, random.Random(seed))[i]
        assert [t.role for t in d.turns] == [t.role for t in original.turns]
        assert d.turns[-1].parts[:-1] == original.turns[-1].parts[:-1]
        np.testing.assert_array_equal(d.noise, seeded_noise(seed * 64 + i, 64, 192).numpy())
        assert d.levels == tuple(src.meta["levels"])


def test_a_students_batch_puts_the_image_on_the_line_from_its_noise_to_the_teachers_image(pairs):
    ck = load_checkpoint(TINY)
    tok = Tokenizer.from_json(ck["tokenizer"])
    mcfg = ModelConfig.from_dict(ck["model_config"])
    dcfg = DiffusionConfig(**ck["diffusion_config"])
    tcfg = TrainConfig(cond_dropout=1.0, clean_draw_fraction=0.0)  # a pair keeps its condition whatever this says
    src = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0)
    for level in src.levels:
        d = dataclasses.replace(src.pair(0), levels=(level,))
        b, _, x0_target, weight = make_dialogue_batch(
            tok, mcfg, dcfg, tcfg, [d], torch.Generator().manual_seed(0), pixel_weights
        )
        at = weight[0].sum(-1) > 0
        x0 = torch.from_numpy(image_to_patches(d.target_image, 8))
        torch.testing.assert_close(x0_target[0, at], x0)
        torch.testing.assert_close(b.patches[0, at], (1 - level) * x0 + level * torch.from_numpy(d.noise))
        assert b.noise_level[0, at].unique().tolist() == [pytest.approx(level)]
        # the condition is kept (a dropped one is 6 tokens round the image: <bos> <user> <assistant> <boi> <eoi> <eos>)
        assert int((b.is_image[0] == 0).sum()) > 6
    # --ink_weight weighs the teacher image's ink, as it weighs a training image's
    inked = dataclasses.replace(tcfg, ink_weight=3.0)
    _, _, _, weight = make_dialogue_batch(tok, mcfg, dcfg, inked, [src.pair(0)], torch.Generator(), pixel_weights)
    at = weight[0].sum(-1) > 0
    torch.testing.assert_close(weight[0, at], torch.from_numpy(pixel_weights(src.pair(0).target_image, 0.0, 8, 3.0)))
    assert weight[0, at].max() == 4.0


def test_a_batch_mixes_the_mixes_text_answers_in(pairs):
    src = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.5)
    batch = src.examples(0, 0, 1, 8, torch.Generator().manual_seed(3))
    assert len(batch) == 8
    assert sum(d.noise is not None for d in batch) == 4
    assert all(d.target_image is None for d in batch if d.noise is None)


def test_a_judge_keeps_only_the_pairs_the_teacher_got_right(pairs):
    images = load_pairs(pairs)[1]["image"]
    # A judge that calls only the first pair's teacher image right
    only_first = DistillSource(
        pairs, training_dialogues, patch_size=8, text_fraction=0.0, judge=lambda d, img: np.array_equal(img, images[0])
    )
    assert only_first.kept == [0] and len(only_first) == 1
    batch = only_first.examples(0, 0, 1, 4, torch.Generator().manual_seed(0))
    assert len(batch) == 4 and all(np.array_equal(d.target_image, images[0]) for d in batch)
    with pytest.raises(SystemExit, match="keeps none"):
        DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, judge=lambda d, img: False)


def test_task_weights_change_each_tasks_share_of_a_batch_and_refuse_an_unknown_task(tmp_path):
    pairs = str(tmp_path)  # a chunk's pairs: draws, edits and later turns
    make_pairs([f"--teacher={TINY}", "--conversations=shapes64", "--n=40", "--shard=40", "--steps=1", f"--out={pairs}"])
    plain = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0)
    tasks = {plain.pair(j).task for j in plain.kept}
    assert "draw" in tasks and len(tasks) > 1
    only_draws = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, task_weights="draw=1")
    # every other task weighs 1 too: the same chances as no weights
    assert torch.allclose(only_draws.weights, torch.ones(len(plain), dtype=torch.float64))
    others = ",".join(f"{t}=0" for t in sorted(tasks - {"draw"}))
    draws = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, task_weights=others)
    batch = draws.examples(0, 0, 1, 16, torch.Generator().manual_seed(0))
    assert len(batch) == 16 and all(d.task == "draw" for d in batch)
    with pytest.raises(SystemExit, match="NAME one of"):
        DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, task_weights="paint=2")
    with pytest.raises(SystemExit, match="every pair weighs 0"):
        zero = ",".join(f"{t}=0" for t in sorted(tasks))
        DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, task_weights=zero)


def test_the_shapes64_judge_scores_the_teachers_image_against_the_target_caption():
    from model.data.shapes64_dialogues import dialogue
    from model.distill.judges import shapes64_right

    d = dialogue("edit", 7)
    assert d.target_caption and shapes64_right(d, d.target_image)  # the true target is right
    assert not shapes64_right(d, np.full_like(d.target_image, 255))  # a blank canvas is not
    with pytest.raises(ValueError, match="target caption"):
        shapes64_right(dataclasses.replace(d, target_caption=""), d.target_image)


def test_target_rules_train_on_the_datas_image_where_exact_and_the_redrawn_teacher_elsewhere(pairs):
    from model.distill.targets import TargetRules

    src = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0)
    first = src.pair(0).target_caption
    white = np.full((64, 64, 3), 255, np.uint8)
    rules = TargetRules(exact=lambda d: d.target_caption == first, redraw=lambda d, img: white)
    exact = DistillSource(
        pairs,
        training_dialogues,
        patch_size=8,
        text_fraction=0.0,
        judge=lambda d, img: False,  # the teacher got nothing right: only exact pairs are kept
        rules=rules,
    )
    assert exact.kept == sorted(exact.exact) and 0 in exact.exact and not exact.redrawn
    for j in exact.kept:
        d, original = exact.pair(j), src._dialogue(j)
        np.testing.assert_array_equal(d.target_image, original.target_image)  # the data's, not the teacher's
        assert not np.array_equal(d.target_image, src.pairs["image"][j])
        np.testing.assert_array_equal(d.noise, src.pair(j).noise)  # same noise and levels as the teacher's pair
        assert d.levels == src.pair(j).levels
    redrawn = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, rules=rules, redrawn=True)
    others = [j for j in redrawn.kept if j not in redrawn.exact]
    assert others and sorted(redrawn.redrawn) == others
    assert all(np.array_equal(redrawn.pair(j).target_image, white) for j in others)
    assert all(np.array_equal(redrawn.pair(j).target_image, src._dialogue(j).target_image) for j in redrawn.exact)
    with pytest.raises(ValueError, match="target rules"):
        DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, redrawn=True)


def test_a_shapes64_edit_is_exact_but_for_an_adds_fresh_offset():
    from model.data.shapes64 import scene_from_seed
    from model.data.shapes64_dialogues import dialogue
    from model.data.shapes64_edits import random_edit
    from model.distill.targets import shapes64_exact

    kinds = set()
    for seed in range(60):
        kind = random_edit(scene_from_seed(seed), random.Random(f"edit:{seed}")).kind
        kinds.add(kind)
        assert shapes64_exact(dialogue("edit", seed)) == (kind != "add"), kind
    assert {"add", "move", "recolour"} <= kinds
    turns = [dialogue("multi_turn", seed) for seed in range(30)]
    assert any(shapes64_exact(d) for d in turns)  # a later turn's edit
    assert all(shapes64_exact(d) == (not d.turns[-2].parts[-1].startswith("add ")) for d in turns)
    assert not any(shapes64_exact(dialogue(task, 3)) for task in ("draw", "describe", "refuse"))


def test_a_redrawn_shapes64_target_keeps_the_teachers_layout_on_the_renderers_pixels():
    from model.data.shapes64 import Scene, scene_from_seed
    from model.data.shapes64_dialogues import dialogue
    from model.distill.targets import fit_layout, shapes64_redraw

    for seed in range(40):  # the offsets of a rendered scene are found again from its pixels
        scene = scene_from_seed(seed)
        centred = Scene(tuple(dataclasses.replace(o, dx=0, dy=0) for o in scene.objects))
        assert fit_layout(centred, scene.render()) == scene
    d = dialogue("draw", 11)
    true = d.target_image
    grainy = np.clip(true.astype(np.int16) + np.random.default_rng(0).integers(-25, 26, true.shape), 0, 255)
    np.testing.assert_array_equal(shapes64_redraw(d, grainy.astype(np.uint8)), true)  # the grain is gone
    with pytest.raises(ValueError, match="target caption"):
        shapes64_redraw(dataclasses.replace(d, target_caption=""), true)


def test_distill_steps_trains_only_the_chosen_step_counts_levels(pairs):
    meta, _ = load_pairs(pairs)
    shift = DiffusionConfig(**load_checkpoint(TINY)["diffusion_config"]).time_shift
    assert meta["student_steps"] == "1,2" and len(meta["levels"]) == 2
    one = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, steps="1", time_shift=shift)
    assert one.levels == (1.0,) and one.pair(0).levels == (1.0,)
    both = DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, steps="2", time_shift=shift)
    assert both.levels == pytest.approx(tuple(meta["levels"]), abs=1e-5)  # two steps start at t = 1 too
    with pytest.raises(SystemExit, match="made for 1,2 steps"):
        DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, steps="4", time_shift=shift)
    with pytest.raises(SystemExit, match="want step counts"):
        DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, steps="one", time_shift=shift)
    with pytest.raises(SystemExit, match="not the pairs'"):
        DistillSource(pairs, training_dialogues, patch_size=8, text_fraction=0.0, steps="2", time_shift=shift + 1)


def test_a_student_trains_to_denoise_on_the_readers_cache_and_keeps_the_reader(pairs, tmp_path):
    """train.py --distill_reader: the batches are pairs alone, the reader's weights are stored
    beside the student's and never change, and the checkpoint samples as the pair."""
    out = str(tmp_path / "student")
    common = [
        sys.executable, "-m", "model.train", f"--out_dir={out}", f"--init_from={TINY}", "--conversations=shapes64",
        f"--distill_pairs={pairs}", f"--distill_reader={TINY}", "--batch_size=4", "--bf16=false",
        "--eval_every=1000", "--eval_n=1", "--log_every=1", "--ckpt_every=2", "--max_steps=2",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    refused = subprocess.run(common, capture_output=True, text=True, timeout=300, env=env)
    assert refused.returncode != 0 and "--distill_text_fraction=0" in refused.stderr
    unknown = subprocess.run(
        [*common, "--distill_text_fraction=0", "--distill_targets=sharp"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert unknown.returncode != 0 and "one of teacher, exact, redrawn" in unknown.stderr
    exact = ["--distill_text_fraction=0", "--distill_targets=redrawn", "--distill_huber=0.03"]
    run = subprocess.run([*common, *exact], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "on the data's image" in run.stdout
    ck = torch.load(os.path.join(out, "ckpt.pt"), weights_only=False)
    teacher = load_checkpoint(TINY)["ema"]
    assert ck["step"] == 2 and ck["reader"].keys() == teacher.keys()
    assert all(torch.equal(ck["reader"][k].float(), teacher[k].float()) for k in teacher)
    assert any(not torch.equal(ck["model"][k].float(), teacher[k].float()) for k in teacher)
    rt, _ = load_runtime(os.path.join(out, "ckpt.pt"))
    assert isinstance(rt.model, SplitModel)


DRAWS_ONLY = "draw=1,describe=0,edit=0,multi_turn=0,refuse=0"  # Shapes64's TRAIN_MIX, draws alone


def test_pairs_of_a_task_mix_keep_it_and_train_only_with_the_same_mix(pairs, tmp_path):
    import functools

    from model.data.shapes64_dialogues import TRAIN_MIX
    from model.train import distill_source

    assert set(TRAIN_MIX) == {"draw", "describe", "edit", "multi_turn", "refuse"}
    out = str(tmp_path)
    make_pairs(
        [
            f"--teacher={TINY}",
            "--conversations=shapes64",
            f"--task_mix={DRAWS_ONLY}",
            "--n=4",
            "--steps=1",
            f"--out={out}",
        ]
    )
    meta, _ = load_pairs(out)
    assert meta["task_mix"] == DRAWS_ONLY
    cfg = ModelConfig.from_dict(load_checkpoint(TINY)["model_config"])
    same = TrainConfig(conversations="shapes64", distill_pairs=out, task_mix=DRAWS_ONLY, distill_text_fraction=0.0)
    source = distill_source(same, None, cfg, 2.0)
    assert len(source) == 4 and all(source.pair(j).task == "draw" for j in source.kept)
    # the same seeds give other dialogues under another mix: refused, either way round
    with pytest.raises(SystemExit, match="made from"):
        distill_source(dataclasses.replace(same, task_mix=""), None, cfg, 2.0)
    with pytest.raises(SystemExit, match="made from"):
        distill_source(dataclasses.replace(same, distill_pairs=pairs), None, cfg, 2.0)
    # a text share from a mix with no text answers would never fill: refused
    draws = functools.partial(
        training_dialogues, mix={"draw": 1.0, "describe": 0, "edit": 0, "multi_turn": 0, "refuse": 0}
    )
    with pytest.raises(SystemExit, match="no text answers"):
        DistillSource(out, draws, patch_size=8, text_fraction=0.25)


def test_an_emoji_draw_that_names_its_style_is_exact_and_one_without_is_the_teachers_choice():
    from model.data.corpus import Corpus
    from model.data.emoji_dialogues import EmojiDialogues
    from model.data.examples import augment
    from model.distill.targets import TARGET_RULES

    styles = ["google", "openmoji", "twitter"]
    images, captions, cell_styles = [], [], []
    for k, concept in enumerate(["cat", "red heart", "snake"]):
        for j, style in enumerate(styles):
            images.append(np.full((64, 64, 3), 10 * k + j, np.uint8))
            captions.append(concept)
            cell_styles.append(style)
    corpus = Corpus(np.stack(images), captions, cell_styles, ["train"] * len(images))
    source = EmojiDialogues(corpus, styles, augment, augment_fraction=0.5, style_free_fraction=0.5)
    rules = TARGET_RULES["corpus"]
    assert rules.redraw is None  # no renderer: `redrawn` is refused for a corpus
    rng = random.Random(0)
    answers: dict[str, set[int]] = {}
    for _ in range(200):
        d = source.dialogue("draw", rng)
        prompt = d.turns[0].parts[0]
        assert rules.exact(d) == prompt.endswith(" style"), prompt
        answers.setdefault(prompt, set()).add(int(d.target_image[0, 0, 0]))
    # the rule's premise: a prompt naming its style has one answer, one without has several
    assert all(len(v) == 1 for p, v in answers.items() if p.endswith(" style"))
    assert any(len(v) > 1 for p, v in answers.items() if not p.endswith(" style"))
    assert not any(
        rules.exact(source.dialogue(task, rng)) for task in ("describe", "restyle", "every_style", "multi_turn")
    )


def test_redrawn_targets_are_refused_for_a_data_set_without_a_renderer(pairs):
    from model.distill.targets import TARGET_RULES

    with pytest.raises(SystemExit, match="no renderer"):
        DistillSource(
            pairs, training_dialogues, patch_size=8, text_fraction=0.0, rules=TARGET_RULES["corpus"], redrawn=True
        )
