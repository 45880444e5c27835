"""The corpus pipeline: any image mode read onto white, bad rows reported with their line and
skipped, the cache, and a tiny corpus taken end to end (train, export, ONNX, TypeScript)."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from model.data.corpus import BadRow, load_corpus, parse_row, read_image, to_rgb_on_white
from model.data.examples import (
    STYLE_HUE_DEGREES,
    CorpusSource,
    augment,
    augment_parts,
    augment_style,
    corpus_tokenizer,
    draw_text,
    is_white,
    names_a_colour,
    recolour_parts,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
COLOURS = {"red square": (220, 30, 30), "blue square": (30, 70, 220), "green square": (30, 160, 50)}


def square(colour, size=40, mode="RGBA", alpha=255) -> Image.Image:
    """A coloured square on a transparent canvas (or opaque, for modes without alpha)."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    im.paste(Image.new("RGBA", (size // 2, size // 2), (*colour, alpha)), (size // 4, size // 4))
    return im if mode == "RGBA" else im.convert(mode)


def write_corpus(root, extra_lines=()) -> str:
    os.makedirs(os.path.join(root, "img"), exist_ok=True)
    lines = []
    for k, (cap, colour) in enumerate(COLOURS.items()):
        for style, save in (
            ("flat", lambda im, p: im.save(p)),
            ("wide", lambda im, p: im.crop((-10, 0, 50, 40)).save(p)),  # not square
            ("jpeg", lambda im, p: to_rgb_on_white(im).save(p, quality=95)),
        ):
            path = f"img/{k}-{style}.{'jpg' if style == 'jpeg' else 'png'}"
            save(square(colour), os.path.join(root, path))
            lines.append(
                {
                    "image": path,
                    "caption": cap,
                    "style": style,
                    "split": "eval" if (k, style) == (2, "jpeg") else "train",
                }
            )
    manifest = os.path.join(root, "corpus.jsonl")
    with open(manifest, "w") as f:
        for row in lines:
            f.write(json.dumps(row) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return manifest


def test_every_mode_is_composited_on_white_and_resized(tmp_path):
    red = (220, 30, 30)
    cases = {
        "rgba.png": square(red),
        "la.png": square(red).convert("LA"),
        "palette.png": square(red).convert("P"),
        "grey.png": to_rgb_on_white(square(red)).convert("L"),
    }
    for name, im in cases.items():
        im.save(tmp_path / name)
    grey16 = np.full((40, 40), 65535, np.uint16)
    grey16[10:30, 10:30] = 8000
    Image.fromarray(grey16).save(tmp_path / "grey16.png")
    for name in [*cases, "grey16.png"]:
        img = read_image(str(tmp_path / name), 16)
        assert img.shape == (16, 16, 3) and img.dtype == np.uint8, name
        assert (img[0, 0] == 255).all(), f"{name}: the transparent or white corner must read as white"
        assert img[8, 8].mean() < 200, f"{name}: the square must survive"
    assert tuple(read_image(str(tmp_path / "rgba.png"), 16)[8, 8]) == red


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (40, 20), (255, 255, 255))
    im.paste((0, 0, 0), (0, 0, 20, 20))  # black on the left half
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    im.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    img = read_image(str(tmp_path / "rot.jpg"), 20)
    assert img[2, 10].mean() < 60 and img[18, 10].mean() > 200, "black must end up at the top"


def test_bad_rows_are_reported_with_their_line_and_skipped(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    manifest = write_corpus(
        tmp_path,
        [
            '{"image": "img/missing.png", "caption": "x"}',
            '{"image": "img/broken.png", "caption": "x"}',
            '{"image": "img/0-flat.png", "caption": "   "}',
            '{"image": "img/0-flat.png", "caption": "x", "split": "test"}',
            "not json",
            "",
        ],
    )
    logged = []
    corpus = load_corpus(manifest, 16, use_cache=False, log=logged.append)
    assert len(corpus) == 9
    assert [p.split(":")[0] for p in corpus.problems] == ["line 10", "line 11", "line 12", "line 13", "line 14"]
    assert "not found" in corpus.problems[0] and "cannot be decoded" in corpus.problems[1]
    assert "caption" in corpus.problems[2] and "split" in corpus.problems[3] and "JSON" in corpus.problems[4]
    assert any("5 bad rows skipped" in line for line in logged)
    assert corpus.indices("eval") == [8] and corpus.style_names() == ["flat", "jpeg", "wide"]


def test_parse_row_refuses_what_it_cannot_use():
    assert parse_row('{"image": "a.png", "caption": " cat "}') == {
        "image": "a.png",
        "caption": "cat",
        "style": None,
        "split": "train",
    }
    for bad in (
        "[1]",
        '{"caption": "x"}',
        '{"image": "a.png", "caption": 3}',
        '{"image": "a.png", "caption": "x", "style": ""}',
    ):
        with pytest.raises(BadRow):
            parse_row(bad)


def test_the_cache_is_reused_and_refreshed_when_an_image_changes(tmp_path):
    manifest = write_corpus(tmp_path)
    first = load_corpus(manifest, 16, log=lambda *_: None)
    cached = os.listdir(tmp_path / ".cache")
    assert len(cached) == 1
    again = load_corpus(manifest, 16, log=lambda *_: None)
    assert np.array_equal(first.images, again.images) and first.captions == again.captions
    square(COLOURS["green square"]).save(tmp_path / "img" / "0-flat.png")  # red becomes green
    os.utime(tmp_path / "img" / "0-flat.png", ns=(1, 1))
    changed = load_corpus(manifest, 16, log=lambda *_: None)
    assert not np.array_equal(first.images[0], changed.images[0])


def test_source_draw_prompts_name_the_style_or_leave_it_open(tmp_path):
    import torch

    corpus = load_corpus(write_corpus(tmp_path), 16, use_cache=False, log=lambda *_: None)
    source = CorpusSource(corpus, style_free_fraction=0.5)
    examples = source.examples(0, 0, 1, 200, torch.Generator().manual_seed(0))
    texts = {e.draw_text for e in examples}
    assert "red square in flat style" in texts and "red square" in texts
    assert all(e.caption in COLOURS for e in examples)
    assert not any(e.caption == "green square" and e.draw_text.endswith("jpeg style") for e in examples), (
        "eval rows never train"
    )
    tok = corpus_tokenizer(corpus, 50)
    assert tok.decode(tok.encode("draw " + draw_text("blue square", "wide"))) == "draw blue square in wide style"


def test_augment_keeps_the_image_shape_and_its_colours():
    img = np.full((64, 64, 3), 255, np.uint8)
    img[16:48, 16:48] = (220, 30, 30)
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = augment(img, rng)
        assert out.shape == img.shape and out.dtype == np.uint8
        reds = (out[..., 0] > 150) & (out[..., 1] < 120)
        assert reds.sum() > 300, "the object stays, in its colour"
        assert (out[..., 2] <= out[..., 0]).all(), "no hue change: never bluer than red"


def red_square_with_blue_mark() -> np.ndarray:
    img = np.full((64, 64, 3), 255, np.uint8)
    img[16:48, 16:48] = (220, 30, 30)
    img[28:36, 40:48] = (30, 70, 220)  # a blue mark on the right: no flip may move it left
    return img


def red_hue_turns(caption: str, n: int = 60, augmentation=augment_style) -> np.ndarray:
    """The median hue turn (degrees) of the red object in n style augmentations, checking on
    the way what every augmentation must keep: the size, the white ground, the object and the
    side its mark is on."""
    img = red_square_with_blue_mark()
    rng = np.random.default_rng(0)
    turns = []
    for _ in range(n):
        out = augmentation(img, rng, caption)
        assert out.shape == img.shape and out.dtype == np.uint8
        assert not np.array_equal(out, img)
        assert (out[:3, :3] >= 240).all() and (out[-3:, -3:] >= 240).all(), "the ground stays white"
        r, g, b = out.astype(int).transpose(2, 0, 1)
        reds = (r > 100) & (r > g) & (r > b)
        assert reds.sum() > 250, "the object stays"
        blues = (b > 120) & (b > 2 * r)
        if blues.any():
            assert np.nonzero(blues)[1].mean() > 32, "the mark stays on the right"
        hsv = np.asarray(Image.fromarray(out).convert("HSV")).astype(int)
        hue = hsv[..., 0][reds & (hsv[..., 1] > 100)] * 360 / 256
        turns.append(np.median(np.minimum(hue, 360 - hue)))  # red is at 0 degrees
    return np.array(turns)


def test_style_augmentation_turns_hue_only_where_the_caption_names_no_colour():
    assert red_hue_turns("red square").max() <= 3, "a named colour keeps its hue"
    free = red_hue_turns("stop sign")
    assert free.max() <= STYLE_HUE_DEGREES + 3, "never more than the styles' own spread"
    assert free.max() > 6, "other captions do turn"
    assert names_a_colour("flag: Green Island") and names_a_colour("large orange diamond")
    assert not names_a_colour("grinning face") and not names_a_colour("redhead")


def test_parts_augmentation_keeps_the_main_colours_rules():
    assert red_hue_turns("red square", augmentation=augment_parts).max() <= 3, "a named colour keeps its hue"
    assert red_hue_turns("stop sign", augmentation=augment_parts).max() <= STYLE_HUE_DEGREES + 3


def test_recolouring_changes_small_parts_only_and_never_into_the_main_colour():
    img = red_square_with_blue_mark()
    rng = np.random.default_rng(0)
    marks = []
    for _ in range(40):
        out = recolour_parts(img, rng)
        assert (out[is_white(img)] == 255).all(), "the ground stays white"
        assert (np.abs(out[20, 20].astype(int) - (220, 30, 30)) <= 8).all(), "the largest part keeps its colour"
        mark = out[30, 44].astype(float)
        assert np.linalg.norm(mark - (220, 30, 30)) >= 0.8 * 80 - 8, "a part never fades into the main colour"
        marks.append(mark)
    changed = [np.linalg.norm(m - (30, 70, 220)) > 30 for m in marks]
    assert 5 < sum(changed) < 35, "about half of the draws recolour the mark"
    assert np.array_equal(recolour_parts(np.full((8, 8, 3), 255, np.uint8), rng), np.full((8, 8, 3), 255, np.uint8))


def test_an_unknown_augmentation_is_refused_by_name(tmp_path):
    corpus = load_corpus(write_corpus(tmp_path / "corpus"), 16)
    with pytest.raises(SystemExit, match="unknown augmentation 'sepia'"):
        CorpusSource(corpus, augment_fraction=0.5, augmentation="sepia")


def test_a_tiny_corpus_trains_exports_and_loads_in_typescript(tmp_path):
    manifest = write_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    py = sys.executable
    subprocess.run(
        [
            py,
            "-m",
            "model.train",
            f"--corpus={manifest}",
            f"--out_dir={run}",
            "--max_steps=4",
            "--batch_size=6",
            "--eval_every=1000",
            "--eval_n=3",
            "--bf16=false",
            "--merges=40",
            "--model.d_model=32",
            "--model.n_layers=1",
            "--model.expansion=64",
            "--model.qk_dim=16",
            "--model.time_freq_dim=16",
            "--model.image_size=16",
            "--model.pixel_width=4",
            "--augment_fraction=0.5",
        ],
        check=True,
        capture_output=True,
    )
    pkg = tmp_path / "pkg"
    subprocess.run(
        [py, "-m", "model.packaging.export", f"--ckpt={run}/ckpt.pt", f"--out={pkg}"],
        check=True,
        capture_output=True,
    )
    m = json.load(open(pkg / "manifest.json"))
    assert m["name"] == "corpus" and m["image"]["width"] == 16
    assert m["conversation"]["styles"] == ["flat", "jpeg", "wide"]
    assert m["conversation"]["draw_template"] == "draw {caption} in {style} style"
    assert m["data_card"] == {"corpus": "corpus.jsonl", "styles": ["flat", "jpeg", "wide"], "concepts": 3}

    from model.evaluation.eval_onnx import load_ort_runtime
    from model.evaluation.evaluate import describe

    rt, tok, _ = load_ort_runtime(str(pkg))
    assert isinstance(describe(rt, tok, [np.full((16, 16, 3), 255, np.uint8)], max_tokens=4)[0], str)

    tsx = os.path.join(ROOT, "node_modules", ".bin", "tsx")
    if not os.path.exists(tsx) or not shutil.which("node"):
        pytest.skip("node_modules not installed: the TypeScript half is checked by npm test")
    out = subprocess.run(
        [tsx, os.path.join(ROOT, "scripts", "check-package.ts"), str(pkg), "draw red square in flat style"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ONNXRUNTIME_NODE_INSTALL": "skip"},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {**result, "name": "corpus", "drawn_values": 16 * 16 * 3, "finite": True}
