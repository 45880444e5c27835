"""Shapes64 edits and conversations: the edit grammar, the multi-turn layout, the training batch."""

import json
import random

import numpy as np
import pytest
import torch

from model.data.dialogues import Dialogue, Turn, assistant_text_targets, context_items, training_items
from model.data.shapes64 import CELLS, Scene, scene_from_seed
from model.data.shapes64_dialogues import (
    _DRAW_ASKS,
    _GREETINGS,
    _OUTSIDE,
    _QUESTIONS,
    REFUSAL,
    TRAIN_MIX,
    dialogue,
    eval_edit_split,
    out_of_scope_prompt,
    training_dialogues,
)
from model.data.shapes64_edits import EDIT_KINDS, apply_instruction, random_edit
from model.network.sequence import Image, build_row, image_to_patches
from model.network.tokenizer import train_default

TOK = train_default()


def patches(img):
    return image_to_patches(img, 8)


@pytest.mark.parametrize("kind", EDIT_KINDS)
def test_an_edit_changes_only_its_cells_and_its_instruction_parses_back(kind):
    rng = random.Random(0)
    for seed in range(200):
        scene = scene_from_seed(seed)
        try:
            edit = random_edit(scene, rng, kind)
        except ValueError:
            continue
        before, after = scene.render(), edit.after.render()
        untouched = np.ones((64, 64), bool)
        for cell in edit.touched:
            untouched[(cell // 3) * 21 : (cell // 3) * 21 + 23, (cell % 3) * 21 : (cell % 3) * 21 + 23] = False
        assert (before[untouched] == after[untouched]).all(), edit.instruction
        assert not (before == after).all(), f"{edit.instruction} changed nothing"
        assert 1 <= len(edit.after.objects) <= 3
        if kind != "add":  # an added object's offset is not in the words
            assert apply_instruction(scene, edit.instruction) == edit.after


def test_the_cards_example_edit():
    scene = Scene(tuple(sorted([o for o in (scene_from_seed(0).objects[0],)], key=lambda o: o.cell)))
    obj = scene.objects[0]
    other = "green" if obj.colour != "green" else "red"
    out = apply_instruction(scene, f"make the {obj.kind} at the {CELLS[obj.cell]} {other}")
    assert out.objects[0].colour == other and out.objects[0].dx == obj.dx


def test_instructions_that_do_not_apply_are_refused():
    scene = scene_from_seed(3)
    obj = scene.objects[0]
    empty = next(c for c in range(9) if all(o.cell != c for o in scene.objects))
    assert apply_instruction(scene, f"make the {obj.kind} at the {CELLS[empty]} red") is None
    assert apply_instruction(scene, f"make the {obj.kind} at the {CELLS[obj.cell]} {obj.colour}") is None
    assert apply_instruction(scene, "make it prettier") is None


def test_a_single_turn_draw_and_describe_lay_out_as_before():
    from model.network.chat import training_items as one_turn

    scene = scene_from_seed(5)
    img = scene.render()
    p = patches(img)
    draw = Dialogue([Turn("user", ["draw " + scene.caption()]), Turn("assistant", [img])])
    new = training_items(TOK, draw, patches, p, 0.5)
    old = one_turn(TOK, "draw", scene.caption(), p, 0.5, False)
    assert [x if isinstance(x, int) else "img" for x in new] == [x if isinstance(x, int) else "img" for x in old]
    describe = Dialogue([Turn("user", [img, "describe the image"]), Turn("assistant", [scene.caption()])])
    new = training_items(TOK, describe, patches)
    old = one_turn(TOK, "describe", scene.caption(), p, 0.0, False)
    assert [x if isinstance(x, int) else "img" for x in new] == [x if isinstance(x, int) else "img" for x in old]


def test_multi_turn_context_ends_each_answer_with_eos_and_positions_run_on():
    d = dialogue("multi_turn", 11)
    items = context_items(TOK, d.turns[:-1], patches)
    assert items[0] == TOK.bos and items[-1] == TOK.assistant
    assert items.count(TOK.eos) == len(d.turns) // 2 - 1
    row, n = build_row(items, 0, 8, TOK.pad, 192)
    assert n.index == row.positions[-1][0] + 1


def test_text_targets_cover_every_assistant_turn_and_no_user_text():
    img = scene_from_seed(1).render()
    d = Dialogue(
        [
            Turn("user", [img, "describe the image"]),
            Turn("assistant", ["a cap"]),
            Turn("user", ["remove it"]),
            Turn("assistant", [img]),
        ]
    )
    items = training_items(TOK, d, patches, patches(img), 0.3)
    row, _ = build_row(items, 0, 8, TOK.pad, 192)
    tg = assistant_text_targets(row.tokens, row.is_image, TOK)
    trained = [row.tokens[i + 1] for i, t in enumerate(tg) if t != -100]
    assert TOK.decode([t for t in trained if t < 256 + len(TOK.merges)]) == "a cap"
    assert trained.count(TOK.eos) == 2 and trained.count(TOK.boi) == 1
    assert TOK.user not in trained


def test_a_dropped_condition_is_the_unconditional_context():
    d = dialogue("edit", 2)
    items = training_items(TOK, d, patches, patches(d.target_image), 0.9, drop_condition=True)
    assert items[:4] == [TOK.bos, TOK.user, TOK.assistant, TOK.boi] and isinstance(items[4], Image)
    assert sum(isinstance(x, Image) for x in items) == 1


def test_training_mix_and_batch():
    from model.data.dialogue_batch import make_dialogue_batch
    from model.network.transformer import ModelConfig
    from model.sampling.diffusion import DiffusionConfig
    from model.train import TrainConfig, pixel_weights

    ds = training_dialogues(50, random.Random(0))
    tasks = [d.task for d in ds]
    for task, f in TRAIN_MIX.items():
        assert tasks.count(task) == round(50 * f) or task == "draw"
    b, tgt, x0, w = make_dialogue_batch(
        TOK, ModelConfig(), DiffusionConfig(), TrainConfig(), ds, torch.Generator().manual_seed(0), pixel_weights
    )
    for i, d in enumerate(ds):
        weighted = (w[i].sum(-1) > 0).sum().item()
        assert weighted == (64 if d.target_image is not None else 0)
        if d.target_image is not None:  # the weighted patches are the answer's image, not the user's
            pos = (w[i].sum(-1) > 0).nonzero().squeeze(-1)
            torch.testing.assert_close(x0[i, pos], torch.from_numpy(patches(d.target_image)))


def test_refusal_phrasings_are_split():
    assert not set(_GREETINGS["train"]) & set(_GREETINGS["eval"])
    assert not set(_QUESTIONS["train"]) & set(_QUESTIONS["eval"])
    assert not set(_OUTSIDE["train"]) & set(_OUTSIDE["eval"])
    rng = random.Random(0)
    for _ in range(100):
        kind, text, _ = out_of_scope_prompt(rng, "eval")
        assert text
    assert dialogue("refuse", 4).turns[-1].parts == [REFUSAL]
    assert _DRAW_ASKS["eval"]


def test_the_evaluation_split_has_every_kind():
    split = eval_edit_split(5)
    assert [k for _, k in split] == [k for k in EDIT_KINDS for _ in range(5)]


def test_edit_weights_tilt_the_kinds_and_leave_the_unweighted_draw_as_it_was():
    from model.data.shapes64_edits import parse_edit_weights

    assert parse_edit_weights("move=3, add=0.5") == {"move": 3.0, "add": 0.5}
    assert parse_edit_weights("") == {}
    for bad in ("move", "teleport=2", "move=0", "move=-1", "move=x", "move=inf"):
        with pytest.raises(ValueError, match="edit weight"):
            parse_edit_weights(bad)
    scenes = [scene_from_seed(s) for s in range(400)]
    plain = [random_edit(s, random.Random(i)).kind for i, s in enumerate(scenes)]
    unweighted = [random_edit(s, random.Random(i), weights={}).kind for i, s in enumerate(scenes)]
    assert plain == unweighted  # pairs made before the flag still match their seeds
    tilted = [random_edit(s, random.Random(i), weights={"move": 4.0}).kind for i, s in enumerate(scenes)]
    assert tilted.count("move") > 2 * plain.count("move")
    assert set(tilted) == set(EDIT_KINDS)  # the others still come
    ds = training_dialogues(60, random.Random(1), edit_weights={"move": 4.0})
    assert [d.task for d in ds] == [d.task for d in training_dialogues(60, random.Random(1))]


def test_edit_weights_need_the_shapes64_mix():
    from model.train import TrainConfig, conversation_source

    with pytest.raises(SystemExit, match="edit_weights"):
        conversation_source(TrainConfig(conversations="shapes64", edit_weights="fly=2"))
    assert conversation_source(TrainConfig(conversations="shapes64", edit_weights="move=3")) is not None


def test_task_mix_replaces_named_shares_and_must_add_up_to_one():
    from model.data.dialogues import parse_task_mix

    assert parse_task_mix("", TRAIN_MIX) == TRAIN_MIX
    mix = parse_task_mix("multi_turn=0.30, edit=0.25", TRAIN_MIX)
    assert mix["multi_turn"] == 0.30 and mix["edit"] == 0.25 and mix["draw"] == TRAIN_MIX["draw"]
    for bad in ("multi_turn", "juggle=0.1", "edit=x", "edit=-0.1", "edit=1.5", "multi_turn=0.5"):
        with pytest.raises(ValueError, match="task share"):
            parse_task_mix(bad, TRAIN_MIX)
    tasks = [d.task for d in training_dialogues(100, random.Random(2), mix=mix)]
    assert tasks.count("multi_turn") == 30 and tasks.count("edit") == 25 and tasks.count("draw") == 33


def test_task_mix_is_checked_by_train_and_must_be_the_mix_of_the_pairs(tmp_path):
    from model.train import TrainConfig, conversation_source, distill_source

    with pytest.raises(SystemExit, match="--task_mix: task shares add up"):
        conversation_source(TrainConfig(conversations="shapes64", task_mix="multi_turn=0.5"))
    source = conversation_source(TrainConfig(conversations="shapes64", task_mix="multi_turn=0.30,edit=0.25"))
    assert [d.task for d in source.make(100, random.Random(3))].count("multi_turn") == 30
    with pytest.raises(SystemExit, match="needs --conversations"):
        conversation_source(TrainConfig(task_mix="multi_turn=0.30,edit=0.25"))
    cfg = TrainConfig(conversations="shapes64", task_mix="multi_turn=0.30,edit=0.25", distill_pairs=str(tmp_path))
    with pytest.raises(SystemExit, match="no meta.json"):
        distill_source(cfg, None, None, 2.0)
    # pairs made from the plain mix: the same seeds would give other dialogues under this one
    (tmp_path / "meta.json").write_text(json.dumps({"conversations": "shapes64", "corpus": "", "task_mix": ""}))
    with pytest.raises(SystemExit, match="was made from"):
        distill_source(cfg, None, None, 2.0)
