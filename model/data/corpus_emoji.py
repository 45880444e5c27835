"""Build the emoji corpus (docs/data/emoji.md) from npm registry packages only.

    python -m model.data.corpus_emoji                       # -> .cache/emoji/corpus/emoji.jsonl (+ emoji-core.jsonl)
    python -m model.data.corpus_emoji --out=/tmp/emoji      # elsewhere

Also written: `emoji+outline.jsonl` and `emoji-core+outline.jsonl`, the same rows plus a
fourth training style, `outline` (OpenMoji's black line-art set, same package and licence),
every one of its cells a training cell: for a run that wants one more style to learn
concepts apart from colour and rendering. The held-out cells, the fluent rows and so every
evaluation set are the same in both.

Sources, fetched with `npm pack` into the cache folder (never committed):
  emoji-datasource-google@16.0.0   Noto art, 64 x 64 PNGs        Apache-2.0
  emoji-datasource-twitter@16.0.0  Twemoji art, 64 x 64 PNGs     CC-BY-4.0
  openmoji@17.0.0                  colour SVGs + annotations      CC-BY-SA-4.0
  fluentui-emoji@1.3.0             flat SVGs: the held-out style  MIT

A concept is an OpenMoji annotation (its caption, as it is) present in all three training
styles, joined by codepoint with FE0F dropped; skin-tone variants and the Component group
are left out. Fluent joins by the slug of the caption. Splits: fluent is evaluation only.
Of the training cells (concept x style), one style of 10 % of the concepts is held out as
the draw evaluation set and one of another 5 % as validation, balanced over styles and
subgroups; everything else trains.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tarfile
from collections import Counter, defaultdict
from dataclasses import dataclass

from model.cli import parse

SOURCES = {
    "google": "emoji-datasource-google@16.0.0",
    "twitter": "emoji-datasource-twitter@16.0.0",
    "openmoji": "openmoji@17.0.0",
    "fluent": "fluentui-emoji@1.3.0",
}
LICENSES = [
    {
        "name": "Noto Emoji (Google)",
        "spdx": "Apache-2.0",
        "source": SOURCES["google"],
        "attribution": "Noto Emoji by Google, Apache License 2.0.",
    },
    {
        "name": "Twemoji (Twitter)",
        "spdx": "CC-BY-4.0",
        "source": SOURCES["twitter"],
        "attribution": "Twemoji graphics by Twitter, Inc. and other contributors, CC-BY 4.0.",
    },
    {
        "name": "OpenMoji",
        "spdx": "CC-BY-SA-4.0",
        "source": SOURCES["openmoji"],
        "attribution": (
            "All emojis designed by OpenMoji, the open-source emoji and icon project. License: CC BY-SA 4.0."
        ),
    },
    {
        "name": "Fluent Emoji (Microsoft)",
        "spdx": "MIT",
        "source": SOURCES["fluent"],
        "attribution": "Fluent Emoji by Microsoft, MIT License (evaluation only, never trained on).",
    },
]
TRAIN_STYLES = ("google", "twitter", "openmoji")
# Training styles that only the "+outline" manifests carry; never held out, so the
# evaluation sets do not depend on them.
EXTRA_STYLES = ("outline",)
HELD_OUT_STYLE = "fluent"
# The subset that emoji64 is trained on, chosen by whole groups before any evaluation
# (everyday pictures: faces, animals and plants, food, activities): see docs/data/emoji.md.
CORE_GROUPS = ("smileys-emotion", "animals-nature", "food-drink", "activities")
SIZE = 64


def fetch(spec: str, cache: str) -> str:
    """`npm pack` a package into the cache once; returns the unpacked package folder."""
    name, version = spec.rsplit("@", 1)
    folder = os.path.join(cache, f"{name}-{version}")
    if os.path.isdir(os.path.join(folder, "package")):
        return os.path.join(folder, "package")
    os.makedirs(cache, exist_ok=True)
    tgz = os.path.join(cache, f"{name}-{version}.tgz")
    if not os.path.exists(tgz):
        print(f"npm pack {spec}", flush=True)
        subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", cache], check=True, stdout=subprocess.DEVNULL
        )
    with tarfile.open(tgz) as t:
        t.extractall(folder, filter="data")
    return os.path.join(folder, "package")


def slug(caption: str) -> str:
    """Fluent's file names: 'A button (blood type)' -> 'a-button-blood-type'."""
    s = caption.lower().replace("’", "").replace("'", "").replace("&", "")
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def key(codepoints: str) -> str:
    return "-".join(p for p in codepoints.upper().split("-") if p != "FE0F")


def stable_rank(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def concepts(pkgs: dict[str, str]) -> list[dict]:
    """Every concept with its caption, group, subgroup and the source file of each style."""
    data = json.load(open(os.path.join(pkgs["google"], "emoji.json"), encoding="utf-8"))
    by_key = {key(e["unified"]): e for e in data}
    fluent_dir = os.path.join(pkgs["fluent"], "icons", "flat")
    out = []
    for e in json.load(open(os.path.join(pkgs["openmoji"], "data", "openmoji.json"), encoding="utf-8")):
        if e["skintone"] or e["group"] == "component":
            continue
        d = by_key.get(key(e["hexcode"]))
        if not d or not (d.get("has_img_google") and d.get("has_img_twitter")):
            continue
        files = {
            "google": os.path.join(pkgs["google"], "img", "google", "64", d["image"]),
            "twitter": os.path.join(pkgs["twitter"], "img", "twitter", "64", d["image"]),
            "openmoji": os.path.join(pkgs["openmoji"], "color", "svg", f"{e['hexcode']}.svg"),
        }
        if not all(os.path.exists(p) for p in files.values()):
            continue
        outline = os.path.join(pkgs["openmoji"], "black", "svg", f"{e['hexcode']}.svg")
        if os.path.exists(outline):
            files["outline"] = outline
        s = slug(e["annotation"])
        for name in (f"{s}.svg", f"{s}-default.svg"):
            if os.path.exists(os.path.join(fluent_dir, name)):
                files["fluent"] = os.path.join(fluent_dir, name)
                break
        out.append(
            {
                "caption": e["annotation"],
                "hexcode": key(e["hexcode"]),
                "group": e["group"],
                "subgroup": e["subgroups"],
                "files": files,
            }
        )
    captions = Counter(c["caption"] for c in out)
    dupes = [c for c, n in captions.items() if n > 1]
    if dupes:
        raise SystemExit(f"captions must name one concept each; repeated: {dupes[:5]}")
    return out


def assign_splits(items: list[dict]) -> dict[str, tuple[str, str]]:
    """caption -> (split, held-out style) for the concepts with a held-out cell. Concepts are
    ordered by subgroup and a stable hash, so every subgroup gives its share; the held-out
    style rotates, so the styles are balanced."""
    ordered = sorted(items, key=lambda c: (c["group"], c["subgroup"], stable_rank(c["caption"])))
    held: dict[str, tuple[str, str]] = {}
    rotation = {"eval": 0, "val": 0}
    for i, c in enumerate(ordered):
        r = i % 20
        split = "eval" if r in (0, 10) else "val" if r == 5 else None
        if split:
            held[c["caption"]] = (split, TRAIN_STYLES[rotation[split] % len(TRAIN_STYLES)])
            rotation[split] += 1
    return held


def render_svg(path: str, size: int) -> bytes:
    import cairosvg

    return cairosvg.svg2png(url=path, output_width=size, output_height=size)


def split_of(caption: str, style: str, held: dict[str, tuple[str, str]]) -> str:
    """fluent: eval; an extra style: train; a training style: its held-out split, if any."""
    if style == HELD_OUT_STYLE:
        return "eval"
    if style in EXTRA_STYLES:
        return "train"
    h = held.get(caption)
    return h[0] if h and h[1] == style else "train"


def image_path(concept: dict, style: str) -> str:
    """Where a concept's image of a style is cached, relative to the manifests."""
    return os.path.join("img", style, f"{concept['hexcode']}.png")


def corpus_rows(items: list[dict], held: dict[str, tuple[str, str]]) -> list[dict]:
    """One manifest row per concept x style that has an image (every style, the extra ones too)."""
    rows = []
    for c in items:
        for style in (*TRAIN_STYLES, HELD_OUT_STYLE, *EXTRA_STYLES):
            if style not in c["files"]:
                continue
            rows.append(
                {
                    "image": image_path(c, style),
                    "caption": c["caption"],
                    "style": style,
                    "split": split_of(c["caption"], style, held),
                    "group": c["group"],
                    "subgroup": c["subgroup"],
                }
            )
    return rows


def manifests(rows: list[dict]) -> dict[str, list[dict]]:
    """File name -> rows: the full set and the core groups, each without and with the extra styles."""
    base = [r for r in rows if r["style"] not in EXTRA_STYLES]
    core = lambda rs: [r for r in rs if r["group"] in CORE_GROUPS]  # noqa: E731
    return {
        "emoji.jsonl": base,
        "emoji-core.jsonl": core(base),
        "emoji+outline.jsonl": rows,
        "emoji-core+outline.jsonl": core(rows),
    }


def build(out: str, cache: str) -> None:
    pkgs = {style: fetch(spec, cache) for style, spec in SOURCES.items()}
    items = concepts(pkgs)
    for c in items:
        for style, src in c["files"].items():
            dst = os.path.join(out, image_path(c, style))
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                data = render_svg(src, SIZE) if src.endswith(".svg") else open(src, "rb").read()
                with open(dst, "wb") as f:
                    f.write(data)
    rows = corpus_rows(items, assign_splits(items))
    parts = manifests(rows)
    for name, part in parts.items():
        write(os.path.join(out, name), part)
    cards = {
        "card.json": card(parts["emoji-core.jsonl"]),
        "card+outline.json": card(parts["emoji-core+outline.jsonl"]),
        "card+conversations.json": conversations_card(parts["emoji-core+outline.jsonl"]),
    }
    for name, content in cards.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2)
    summary(rows)


def card(rows: list[dict]) -> dict:
    """What the emoji64 package's manifest says of its data (model/packaging/export.py --card)."""
    styles = [s for s in (*TRAIN_STYLES, *EXTRA_STYLES) if any(r["style"] == s for r in rows)]
    return {
        "description": (
            f"Emoji artwork at 64 x 64: draws an emoji from its name in the {', '.join(styles[:-1])} or {styles[-1]} "
            "style, and names an emoji from its picture. Trained on the everyday groups "
            f"({', '.join(CORE_GROUPS)}): {len({r['caption'] for r in rows})} concepts."
        ),
        "licenses": LICENSES,
        "data_card": {
            "name": "Emoji64",
            "doc": "docs/data/emoji.md",
            "sources": SOURCES,
            "groups": list(CORE_GROUPS),
            "held_out_style": HELD_OUT_STYLE,
            "caption": "OpenMoji's annotation, as it is (e.g. 'snake', 'grinning face')",
            "prompts": {
                "draw": "draw <caption> in <style> style, or draw <caption>",
                "describe": "an image + describe the image",
            },
        },
    }


def conversations_card(rows: list[dict]) -> dict:
    """The card of a model trained on conversations (train.py --conversations=corpus) over
    `rows`: it draws in the training styles only; OpenMoji's outline is a restyle source."""
    base = card([r for r in rows if r["style"] not in EXTRA_STYLES])
    styles = [s for s in TRAIN_STYLES if any(r["style"] == s for r in rows)]
    base["description"] = (
        f"Emoji artwork at 64 x 64, in conversation: draws an emoji from its name in the {', '.join(styles[:-1])} "
        f"or {styles[-1]} style (or all of them at once), names an emoji from its picture, and redraws a given "
        "emoji in another style, whatever style it comes in. Trained on the everyday groups "
        f"({', '.join(CORE_GROUPS)}): {len({r['caption'] for r in rows})} concepts."
    )
    base["data_card"]["prompts"] |= {
        "restyle": "an image + draw this in <style> style",
        "every_style": "draw <caption> in every style",
        "follow_up": "after a description: draw it in <style> style; after a drawing: draw this in <style> style",
    }
    base["data_card"]["restyle_sources"] = [*TRAIN_STYLES, *EXTRA_STYLES]
    return base


def write(path: str, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {path}: {len(rows)} rows, {len({r['caption'] for r in rows})} concepts")


def summary(rows: list[dict]) -> None:
    table = defaultdict(Counter)
    for r in rows:
        table[r["style"]][r["split"]] += 1
    for style, counts in table.items():
        print(f"  {style:9s} " + "  ".join(f"{k} {v}" for k, v in sorted(counts.items())))


ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


@dataclass
class CorpusEmojiArgs:
    out: str = os.path.join(ROOT, ".cache", "emoji", "corpus")  # the corpus folder to write
    cache: str = os.path.join(ROOT, ".cache", "emoji", "npm")  # downloaded npm packages


def main(argv: list[str] | None = None) -> None:
    args = parse(CorpusEmojiArgs, argv, description=__doc__)
    build(args.out, args.cache)


if __name__ == "__main__":
    main()
