"""Emoji conversations: restyle, every style, several turns and refusals, from training cells only."""

import random

import numpy as np
import pytest

from model.data.corpus import Corpus
from model.data.dialogues import Turn
from model.data.emoji_dialogues import REFUSAL, TRAIN_MIX, EmojiDialogues, out_of_scope_prompt, out_of_scope_prompts
from model.data.examples import augment

STYLES = ["google", "openmoji", "twitter"]


def corpus() -> Corpus:
    """Four concepts in three training styles and outline; one held-out cell (cat x twitter,
    split eval) and a fluent image: neither may ever appear in a training dialogue."""
    images, captions, styles, splits = [], [], [], []
    for k, concept in enumerate(["cat", "dog", "red heart", "snake"]):
        for j, style in enumerate([*STYLES, "outline", "fluent"]):
            images.append(np.full((64, 64, 3), 10 * k + j, np.uint8))  # each cell its own pixel value
            captions.append(concept)
            styles.append(style)
            held = (concept == "cat" and style == "twitter") or style == "fluent"
            splits.append("eval" if held else "train")
    return Corpus(np.stack(images), captions, styles, splits)


def cell_of(c: Corpus, img: np.ndarray) -> tuple[str, str]:
    v = int(img[0, 0, 0])  # 10 * concept + style, the row 5 * concept + style
    row = (v // 10) * 5 + v % 10
    return c.captions[row], c.styles[row]


@pytest.fixture
def source():
    c = corpus()
    return c, EmojiDialogues(c, STYLES, augment, augment_fraction=0.0, style_free_fraction=0.25)


def images_of(d):
    return [p for t in d.turns for p in t.parts if not isinstance(p, str)]


def test_no_held_out_cell_or_fluent_image_is_ever_used(source):
    c, src = source
    held = {int(c.images[i][0, 0, 0]) for i in range(len(c)) if c.splits[i] != "train"}
    for d in src.training_dialogues(400, random.Random(0)):
        for img in images_of(d):
            assert int(img[0, 0, 0]) not in held, d.task


def test_a_restyle_names_what_it_read_then_draws_the_same_concept_in_the_asked_style(source):
    c, src = source
    rng = random.Random(1)
    for _ in range(50):
        d = src.dialogue("restyle", rng)
        (given, asked), (said, answer) = d.turns[0].parts, d.turns[1].parts
        style = asked.removeprefix("draw this in ").removesuffix(" style")
        src_cell, out_cell = cell_of(c, given), cell_of(c, answer)
        assert src_cell[0] == out_cell[0] and out_cell[1] == style and src_cell[1] != style
        assert style in STYLES
        assert said == f"{src_cell[0]} in {style} style"


def test_a_restyle_after_a_drawing_names_it_and_one_after_a_description_does_not_repeat_it(source):
    c, src = source
    rng = random.Random(6)
    kinds = set()
    for _ in range(60):
        d = src.dialogue("multi_turn", rng)
        if d.task != "multi_turn":
            continue
        first_ask, answer = d.turns[0].parts, d.turns[-1].parts
        concept = cell_of(c, answer[-1])[0]
        if isinstance(first_ask[0], str):  # drew first: the restyle names what it redraws
            style = cell_of(c, answer[-1])[1]
            assert answer[0] == f"{concept} in {style} style" and len(answer) == 2
            kinds.add("after drawing")
        else:  # described first: the caption is in the context, the answer is the image alone
            assert d.turns[1].parts == [concept] and len(answer) == 1
            kinds.add("after describing")
    assert kinds == {"after drawing", "after describing"}


def test_every_style_labels_each_image_in_order_and_is_cut_after_its_target(source):
    c, src = source
    rng = random.Random(2)
    seen_complete = False
    for _ in range(40):
        d = src.dialogue("every_style", rng)
        parts = d.turns[1].parts
        labels = [p for p in parts if isinstance(p, str)]
        assert labels == [f"{s}:" for s in STYLES[: len(labels)]]
        assert [cell_of(c, p)[1] for p in parts if not isinstance(p, str)] == STYLES[: len(labels)]
        assert d.complete == (len(labels) == 3)
        seen_complete |= d.complete
    assert seen_complete


def test_multi_turn_and_refusals(source):
    _, src = source
    rng = random.Random(3)
    for _ in range(30):
        d = src.dialogue("multi_turn", rng)
        assert len(d.turns) in (2, 4) and d.target_image is not None
    d = src.dialogue("refuse", rng)
    assert d.turns[-1].parts == [REFUSAL] and d.target_image is None
    asks = out_of_scope_prompts(20, STYLES, ["cat", "dog"])
    assert len(asks) == 20 and all(isinstance(t, str) for t, _ in asks)


def test_held_out_refusal_phrasings_never_reach_training(source):
    _, src = source
    rng = random.Random(7)
    held_out = {out_of_scope_prompt(rng, "eval", STYLES, ["cat"])[0].replace("cat", "") for _ in range(400)}
    trained = set()
    for _ in range(2000):
        parts = src.dialogue("refuse", rng).turns[0].parts
        trained.add((parts[-1], len(parts) == 2))  # (text, with an image)
    assert len(trained) > 60  # many phrasings, so the rule and not the list is what is learned
    for text, _ in trained:
        assert not any(h and h in text for h in held_out if len(h) > 6), text
    valid = {("describe the image", True), *((f"draw this in {s} style", True) for s in STYLES)}
    valid |= {(f"draw {c} in {s} style", False) for c in ["cat", "dog", "red heart", "snake"] for s in STYLES}
    assert not trained & valid
    assert ("draw this in google style", False) in trained  # asked of an image that was not sent


def test_the_mix_follows_its_fractions(source):
    _, src = source
    tasks = [d.task for d in src.training_dialogues(100, random.Random(4))]
    for task, f in TRAIN_MIX.items():
        if task not in ("draw", "multi_turn", "restyle"):  # multi_turn may fall back to a restyle
            assert tasks.count(task) == round(100 * f)
    assert isinstance(Turn("user", []), Turn)


def test_a_task_mix_reshares_the_batch(source):
    from model.data.dialogues import parse_task_mix

    _, src = source
    mix = parse_task_mix("restyle=0.32,every_style=0.12,describe=0.10,multi_turn=0.06", TRAIN_MIX)
    tasks = [d.task for d in src.training_dialogues(100, random.Random(5), mix=mix)]
    assert tasks.count("every_style") == 12 and tasks.count("describe") == 10
    assert tasks.count("restyle") >= 32  # (a multi-turn conversation may fall back to a restyle)


def test_high_noise_levels_go_to_answers_decided_by_their_context(source):
    """Every-style images (words before them) and restyles (an image in the context) may be drawn
    at the top levels; a plain draw keeps the logit-normal levels it was trained on."""
    import torch

    from model.data.dialogue_batch import decided_by_context, make_dialogue_batch
    from model.network.tokenizer import Tokenizer
    from model.network.transformer import ModelConfig
    from model.sampling.diffusion import DiffusionConfig
    from model.train import TrainConfig, pixel_weights

    _, src = source
    rng = random.Random(9)
    dialogues = [src.dialogue(task, rng) for task in ["draw", "every_style", "restyle"] for _ in range(40)]
    by_task = {d.task: decided_by_context(d) for d in dialogues if d.task != "every_style"}
    assert by_task == {"draw": False, "restyle": True}
    assert all(decided_by_context(d) for d in dialogues if d.task == "every_style" and len(d.turns[1].parts) > 1)
    tok = Tokenizer.load("packages/emoji64/tokenizer.json")
    tcfg = TrainConfig(high_noise_from=0.9, high_noise_share=1.0, clean_draw_fraction=0.0)
    b, *_ = make_dialogue_batch(
        tok, ModelConfig(), DiffusionConfig(), tcfg, dialogues, torch.Generator().manual_seed(0), pixel_weights
    )
    levels = b.noise_level.max(dim=1).values
    high = torch.tensor([decided_by_context(d) for d in dialogues])
    assert (levels[high] >= 0.9).all()
    assert (levels[~high] < 0.9).float().mean() > 0.5  # the draws' own levels, mostly lower

    # With a draw share, the plain draws get the top levels too (all of them at 1).
    tcfg = TrainConfig(high_noise_from=0.9, high_noise_share=0.0, high_noise_draw_share=1.0, clean_draw_fraction=0.0)
    b, *_ = make_dialogue_batch(
        tok, ModelConfig(), DiffusionConfig(), tcfg, dialogues, torch.Generator().manual_seed(0), pixel_weights
    )
    levels = b.noise_level.max(dim=1).values
    assert (levels[~high] >= 0.9).all()
    assert (levels[high] < 0.9).float().mean() > 0.5
