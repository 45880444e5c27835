"""`"move=3,add=0.5"`: the NAME=NUMBER lists training's command line takes (edit weights,
task shares), parsed in one place so that every such flag refuses bad input the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def parse_named_numbers(
    text: str,
    names: Iterable[str],
    what: str,
    value_label: str,
    valid: Callable[[float], bool],
    range_text: str,
    names_text: str | None = None,
) -> dict[str, float]:
    """{name: number} of a comma-separated `text`; a ValueError naming `what` and the item for an
    unknown name (`names_text` says which are known; default: the list), a value that is no
    number, or one `valid` refuses (`range_text` says what is). `value_label`: what the number
    is, as the message's NAME=VALUE spells it ("WEIGHT")."""
    names = list(names)
    known = names_text or f"one of {', '.join(names)}"
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or name not in names:
            raise ValueError(f"{what} {item!r}: want NAME={value_label}, NAME {known}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{what} {item!r}: {value!r} is not a number") from None
        if not valid(number):
            raise ValueError(f"{what} {item!r}: want {range_text}")
        out[name] = number
    return out
