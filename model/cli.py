"""Command lines built from config dataclasses with tyro: `--help` lists every field with its
type, default and the comment above it.

They also accept the spellings the project's scripts have always used, so no caller changes:
`--key=value`, `--flag=true|false` (tyro's own: `--flag` / `--no-flag`), JSON-quoted strings
(`--conversations="shapes64"`) and JSON lists (`--diffusion.guidance_interval=[0.7,1]`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from collections.abc import Sequence
from typing import TypeVar

import tyro

from model.sampling.diffusion import parse_interval

T = TypeVar("T")

TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no")


def parse(config: type[T], argv: Sequence[str] | None = None, description: str | None = None) -> T:
    """The config dataclass filled from argv (default: sys.argv[1:])."""
    args = list(sys.argv[1:] if argv is None else argv)
    return tyro.cli(config, args=compatible(config, args), description=description)


def compatible(config: type, args: list[str]) -> list[str]:
    """args with the older spellings rewritten to tyro's."""
    out = []
    for arg in args:
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            if field_type(config, key) is bool and value.lower() in TRUE + FALSE:
                group, _, name = key.rpartition(".")
                arg = f"--{group + '.' if group else ''}{'' if value.lower() in TRUE else 'no-'}{name}"
            elif len(value) >= 2 and value[0] == value[-1] == '"':
                arg = f"--{key}={json.loads(value)}"
            elif value.startswith("[") and value.endswith("]"):  # a JSON list: tyro takes its items apart
                out += [f"--{key}", *(str(v) for v in json.loads(value))]
                continue
        out.append(arg)
    return out


def field_type(config: type, key: str) -> object:
    """The type of a dotted option (model.d_model) of a config dataclass; None if it has none."""
    cls: object = config
    for name in key.replace("-", "_").split("."):
        if not dataclasses.is_dataclass(cls):
            return None
        hints = typing.get_type_hints(cls, include_extras=False)
        if name not in hints:
            return None
        cls = hints[name]
    return cls


def overrides(config: type) -> type:
    """A dataclass with config's fields, each optional with None for "not given": a command line's
    overrides of a config that comes from elsewhere (a checkpoint), as `given()` turns them into."""
    hints = typing.get_type_hints(config)
    fields = [(f.name, hints[f.name] | None, dataclasses.field(default=None)) for f in dataclasses.fields(config)]
    return dataclasses.make_dataclass(f"{config.__name__}Overrides", fields)


def given(overrides_or_dict: object) -> dict:
    """The overrides that were given, as a dict (a checkpoint's train_config stores this form)."""
    if isinstance(overrides_or_dict, dict):
        return dict(overrides_or_dict)
    return {k: v for k, v in dataclasses.asdict(overrides_or_dict).items() if v is not None}


def interval(text: str | None) -> tuple[float, float] | None:
    """A guidance interval option, "lo,hi" (None when not given); a bad one ends the command."""
    if text is None:
        return None
    try:
        return parse_interval(text)
    except argparse.ArgumentTypeError as e:
        raise SystemExit(f"error: {e}") from None
