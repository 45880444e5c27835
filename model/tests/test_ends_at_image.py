"""The check behind `conversation.image_ends_answer` and the export that declares it."""

import json

import numpy as np
import pytest

from model.evaluation.ends_at_image import main, went_on
from model.packaging.manifest import image_ends_answer

IMG = np.zeros((64, 64, 3), np.uint8)


def test_an_answer_goes_on_when_anything_follows_its_first_image():
    assert not went_on([IMG])
    assert not went_on(["here it is", IMG])
    assert not went_on(["no image, only words"])
    assert went_on([IMG, "and more"])
    assert went_on([IMG, IMG])


def test_the_command_counts_each_kind_and_exits_by_its_verdict(tmp_path):
    out = tmp_path / "ends.json"
    with pytest.raises(SystemExit) as exit_:
        main(["--ckpt=packages/tiny", "--n=2", "--steps=1", f"--out={out}"])
    report = json.loads(out.read_text())
    assert set(report["kinds"]) == {"draw", "edit", "second_turn"}
    assert all(k["n"] == 2 and 0 <= k["went_on"] <= k["with_image"] <= 2 for k in report["kinds"].values())
    assert report["went_on"] == sum(k["went_on"] for k in report["kinds"].values())
    assert exit_.value.code == (0 if report["image_ends_answer"] else 1)


def test_the_export_declares_it_only_from_a_passing_report_of_the_same_checkpoint(tmp_path):
    report = tmp_path / "ends.json"

    def write(**fields):
        report.write_text(json.dumps({"checkpoint": str(tmp_path / "slim.pt"), **fields}))
        return str(report)

    assert image_ends_answer(None, "x.pt") is False
    assert image_ends_answer(write(image_ends_answer=True, went_on=0), str(tmp_path / "slim.pt")) is True
    assert image_ends_answer(write(image_ends_answer=False, went_on=3), str(tmp_path / "slim.pt")) is False
    with pytest.raises(SystemExit, match="checked"):
        image_ends_answer(write(image_ends_answer=True, went_on=0), str(tmp_path / "other.pt"))


def test_a_corpus_models_check_asks_draws_of_training_cells_and_of_the_splits_held_out_cells(tmp_path):
    from PIL import Image

    from model.evaluation.ends_at_image import corpus_conversations

    rows = []
    for k, cap in enumerate(["red heart", "snake"]):
        for style in ("google", "twitter"):
            Image.new("RGB", (16, 16), (40 * k, 90, 200)).save(tmp_path / f"{k}-{style}.png")
            split = "eval" if (cap, style) == ("snake", "twitter") else "train"
            rows.append({"image": f"{k}-{style}.png", "caption": cap, "style": style, "split": split})
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    asked = corpus_conversations(str(tmp_path / "corpus.jsonl"), 16, "eval", 5)
    prompts = {kind: sorted(c[0].parts[0] for c in convs) for kind, convs in asked.items()}
    assert prompts == {
        "draw": ["draw red heart in google style", "draw red heart in twitter style", "draw snake in google style"],
        "draw_heldout": ["draw snake in twitter style"],
    }
