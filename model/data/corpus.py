"""A corpus of anyone's image-text pairs, read from a JSONL manifest.

One line an example, paths relative to the manifest:

    {"image": "img/cat.png", "caption": "a cat", "style": "photo", "split": "train"}

`style` and `split` ("train" | "val" | "eval", default "train") are optional. Images of any
size and mode (RGBA, LA, palette, grey, 16-bit, EXIF-rotated) are composited on white,
padded to a square on white, resized with an area filter to the model's size and cached
as one uint8 array beside the manifest. A bad row (bad JSON, missing file, undecodable
image, empty caption, unknown split) is reported with its line number and skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

SPLITS = ("train", "val", "eval")
WHITE = (255, 255, 255)


class BadRow(ValueError):
    pass


@dataclass
class Corpus:
    images: np.ndarray  # uint8 [N, size, size, 3]
    captions: list[str]
    styles: list[str | None]
    splits: list[str]
    problems: list[str] = field(default_factory=list)  # "line 12: ..." for each skipped row

    def __len__(self) -> int:
        return len(self.captions)

    def indices(self, split: str, style: str | None = None) -> list[int]:
        return [i for i in range(len(self)) if self.splits[i] == split and (style is None or self.styles[i] == style)]

    def style_names(self) -> list[str]:
        return sorted({s for s in self.styles if s})


def to_rgb_on_white(im: Image.Image) -> Image.Image:
    """Any Pillow image -> RGB, transparency composited on white, EXIF orientation applied."""
    im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit or float grey: scale to 8 bits
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode != "F" and a.max() > 255 else max(1.0, float(a.max()))
        im = Image.fromarray(np.clip(a / top * 255.0, 0, 255).astype(np.uint8), "L")
    if im.mode == "P" or im.mode == "LA" or (im.mode in ("L", "RGB") and "transparency" in im.info):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        canvas = Image.new("RGBA", im.size, WHITE + (255,))
        return Image.alpha_composite(canvas, im).convert("RGB")
    return im.convert("RGB")


def square_on_white(im: Image.Image) -> Image.Image:
    w, h = im.size
    if w == h:
        return im
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), WHITE)
    canvas.paste(im, ((side - w) // 2, (side - h) // 2))
    return canvas


def read_image(path: str, size: int) -> np.ndarray:
    """An image file -> uint8 [size, size, 3]. Raises BadRow when it cannot be read."""
    try:
        with Image.open(path) as im:
            im.load()
            rgb = square_on_white(to_rgb_on_white(im))
    except FileNotFoundError:
        raise BadRow(f"image not found: {path}") from None
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise BadRow(f"image cannot be decoded: {path} ({e})") from None
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.BOX)  # area filter: the mean of the covered pixels
    return np.asarray(rgb, dtype=np.uint8)


def parse_row(line: str) -> dict:
    """One manifest line -> {image, caption, style, split}. Raises BadRow."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadRow(f"not JSON ({e.msg})") from None
    if not isinstance(row, dict):
        raise BadRow("not a JSON object")
    image, caption = row.get("image"), row.get("caption")
    if not isinstance(image, str) or not image:
        raise BadRow('"image" must be a non-empty path')
    if not isinstance(caption, str) or not caption.strip():
        raise BadRow('"caption" must be non-empty text')
    style = row.get("style")
    if style is not None and (not isinstance(style, str) or not style.strip()):
        raise BadRow('"style" must be non-empty text when given')
    split = row.get("split", "train")
    if split not in SPLITS:
        raise BadRow(f'"split" must be one of {", ".join(SPLITS)}, not {split!r}')
    return {"image": image, "caption": caption.strip(), "style": style.strip() if style else None, "split": split}


def cache_key(manifest_path: str, lines: list[str], size: int) -> str:
    """Changes with the manifest's text, the size, and each image file's size and mtime."""
    h = hashlib.sha256(f"{size}\n".encode())
    root = os.path.dirname(os.path.abspath(manifest_path))
    for line in lines:
        h.update(line.encode())
        try:
            path = json.loads(line).get("image")
            st = os.stat(os.path.join(root, path))
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        except Exception:  # a bad row: its text alone is the key
            pass
    return h.hexdigest()[:16]


def load_corpus(manifest_path: str, size: int, use_cache: bool = True, log=print) -> Corpus:
    with open(manifest_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    root = os.path.dirname(os.path.abspath(manifest_path))
    cache = os.path.join(
        root, ".cache", f"{os.path.basename(manifest_path)}.{size}.{cache_key(manifest_path, lines, size)}.npz"
    )
    if use_cache and os.path.exists(cache):
        z = np.load(cache, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        corpus = Corpus(z["images"], meta["captions"], meta["styles"], meta["splits"], meta["problems"])
        report(corpus, manifest_path, log)
        return corpus
    images, captions, styles, splits, problems = [], [], [], [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = parse_row(line)
            images.append(read_image(os.path.join(root, row["image"]), size))
        except BadRow as e:
            problems.append(f"line {number}: {e}")
            continue
        captions.append(row["caption"])
        styles.append(row["style"])
        splits.append(row["split"])
    if not images:
        raise SystemExit(
            f"{manifest_path}: no usable rows ({len(problems)} bad)" + "".join(f"\n  {p}" for p in problems[:20])
        )
    corpus = Corpus(np.stack(images), captions, styles, splits, problems)
    if use_cache:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        meta = json.dumps({"captions": captions, "styles": styles, "splits": splits, "problems": problems})
        tmp = cache + ".tmp.npz"
        np.savez(tmp, images=corpus.images, meta=np.array(meta))
        os.replace(tmp, cache)
    report(corpus, manifest_path, log)
    return corpus


def report(corpus: Corpus, manifest_path: str, log) -> None:
    counts = ", ".join(f"{s} {sum(1 for x in corpus.splits if x == s)}" for s in SPLITS)
    log(f"corpus {manifest_path}: {len(corpus)} examples ({counts}), {len(corpus.problems)} bad rows skipped")
    for p in corpus.problems:
        log(f"  skipped {p}")
