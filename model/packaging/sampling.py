"""How a package samples, as its manifest's `diffusion` block declares it (docs/model-package.md,
"Diffusion"): `steps` ({"supported": [...]} or {"max": n}) and `guidance` ("adjustable" or
"fixed": the default guidance distilled into the network, which then runs no unconditional
row). A package that declares neither samples as every package did before: any steps, guidance
adjustable. The serving side (shared/runtime/sampling.ts) refuses what a package does not declare.
"""

GUIDANCE_MODES = ("adjustable", "fixed")


def sampling_fields(
    default_steps: int,
    steps: list[int] | None = None,
    max_steps: int | None = None,
    fixed_guidance: bool = False,
) -> dict:
    """The fields to add to `diffusion`; empty when nothing is declared (today's exports)."""
    fields: dict = {}
    if steps is not None and max_steps is not None:
        raise ValueError("declare the supported steps or a maximum, not both")
    if steps is not None:
        fields["steps"] = {"supported": sorted(steps)}
    if max_steps is not None:
        fields["steps"] = {"max": max_steps}
    if fixed_guidance:
        fields["guidance"] = "fixed"
    check_sampling({"default_steps": default_steps, **fields})
    return fields


def check_sampling(diffusion: dict) -> None:
    """Raises ValueError when the declaration contradicts itself (as the TypeScript schema does)."""
    default = diffusion["default_steps"]
    steps = diffusion.get("steps")
    if steps is not None:
        if not isinstance(steps, dict) or set(steps) not in ({"supported"}, {"max"}):
            raise ValueError('diffusion.steps: {"supported": [counts]} or {"max": n}')
        if "supported" in steps:
            counts = steps["supported"]
            if not counts or any(not isinstance(n, int) or n < 1 for n in counts) or len(set(counts)) != len(counts):
                raise ValueError("diffusion.steps.supported: distinct positive step counts")
            if default not in counts:
                raise ValueError(f"diffusion.steps.supported: must include default_steps ({default})")
        elif not isinstance(steps["max"], int) or steps["max"] < default:
            raise ValueError(f"diffusion.steps.max: a step count of at least default_steps ({default})")
    if diffusion.get("guidance", "adjustable") not in GUIDANCE_MODES:
        raise ValueError(f"diffusion.guidance: one of {', '.join(GUIDANCE_MODES)}")


def parse_steps(text: str | None) -> list[int] | None:
    """An export option, "1,2" (None when not given)."""
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"error: --steps: comma-separated step counts, not {text!r}") from None


def sampler_guidance(diffusion: dict) -> float:
    """The guidance scale a runtime applies for a manifest's `diffusion` block by default: 1 (no
    unconditional row) when the guidance is fixed, since the network already carries its
    default; otherwise that default."""
    return 1.0 if diffusion.get("guidance") == "fixed" else float(diffusion["default_guidance"])
