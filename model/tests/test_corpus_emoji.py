"""The emoji corpus's joins and splits (model/data/corpus_emoji.py), on made-up concepts: no npm."""

from collections import Counter

from model.data.corpus_emoji import (
    EXTRA_STYLES,
    TRAIN_STYLES,
    assign_splits,
    card,
    conversations_card,
    corpus_rows,
    key,
    manifests,
    slug,
)


def test_fluent_slugs_and_codepoint_keys():
    assert slug("A button (blood type)") == "a-button-blood-type"
    assert slug("flag: France") == "flag-france"
    assert slug("woman’s hat") == "womans-hat"
    assert slug("1st place medal") == "1st-place-medal"
    assert key("2764-fe0f") == key("2764") == "2764"
    assert key("1F3F3-FE0F-200D-1F308") == "1F3F3-200D-1F308"


def test_held_out_cells_are_balanced_over_styles_and_subgroups():
    items = [
        {"caption": f"c{g}-{s}-{i}", "group": f"g{g}", "subgroup": f"s{s}"}
        for g in range(3)
        for s in range(4)
        for i in range(25)
    ]  # 300 concepts, 12 subgroups
    held = assign_splits(items)
    splits = Counter(split for split, _ in held.values())
    assert splits == {"eval": 30, "val": 15}  # 10 % and 5 %
    styles = Counter(style for split, style in held.values() if split == "eval")
    assert set(styles) == set(TRAIN_STYLES) and max(styles.values()) - min(styles.values()) <= 1
    per_subgroup = Counter(c.split("-")[0] + c.split("-")[1] for c, (split, _) in held.items() if split == "eval")
    assert len(per_subgroup) == 12 and max(per_subgroup.values()) <= 4, "every subgroup gives its share"
    assert assign_splits(list(reversed(items))) == held, "the split does not depend on input order"


def test_the_outline_style_only_trains_and_leaves_every_evaluation_set_as_it_was():
    items = [
        {
            "caption": f"c{i}",
            "hexcode": f"{i:04X}",
            "group": "animals-nature" if i % 2 else "flags",
            "subgroup": "s",
            "files": {s: f"{s}.png" for s in (*TRAIN_STYLES, "fluent", *(EXTRA_STYLES if i % 3 else ()))},
        }
        for i in range(40)
    ]
    rows = corpus_rows(items, assign_splits(items))
    m = manifests(rows)
    outline = [r for r in m["emoji+outline.jsonl"] if r["style"] == "outline"]
    assert len(outline) == 26 and {r["split"] for r in outline} == {"train"}
    assert all(r["image"] == f"img/outline/{r['image'][-8:]}" for r in outline)
    for base, extended in (("emoji.jsonl", "emoji+outline.jsonl"), ("emoji-core.jsonl", "emoji-core+outline.jsonl")):
        assert not any(r["style"] == "outline" for r in m[base])
        assert [r for r in m[extended] if r["style"] != "outline"] == m[base]
    assert {r["group"] for r in m["emoji-core+outline.jsonl"]} == {"animals-nature"}
    assert {r["split"] for r in m["emoji.jsonl"]} == {"train", "val", "eval"}


def test_the_card_names_the_styles_its_rows_train_on():
    rows = [
        {"caption": "snake", "style": s, "group": "animals-nature"} for s in ("google", "twitter", "openmoji", "fluent")
    ]
    assert "in the google, twitter or openmoji style" in card(rows)["description"]
    rows.append({"caption": "snake", "style": "outline", "group": "animals-nature"})
    assert "in the google, twitter, openmoji or outline style" in card(rows)["description"]


def test_a_conversation_models_card_draws_in_the_training_styles_and_restyles_from_outline():
    rows = [
        {"caption": "snake", "style": s, "group": "animals-nature"}
        for s in ("google", "twitter", "openmoji", "fluent", "outline")
    ]
    c = conversations_card(rows)
    assert "in the google, twitter or openmoji style" in c["description"]
    assert "outline style" not in c["description"]
    assert c["data_card"]["prompts"]["restyle"] == "an image + draw this in <style> style"
    assert c["data_card"]["prompts"]["every_style"] == "draw <caption> in every style"
    assert "outline" in c["data_card"]["restyle_sources"]
    assert c["licenses"] == card(rows)["licenses"]
