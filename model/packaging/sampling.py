"""How a package samples, as its manifest's `diffusion` block declares it (docs/model-package.md,
"Diffusion"): `steps` ({"supported": [...]} or {"max": n}) and `guidance` ("adjustable" or
"fixed": the default guidance distilled into the network, which then runs no unconditional
row), and `guidance_by_steps` ({"4": 3}: the default guidance of a request for that many
steps, where the one chosen for the default steps overshoots). A package that declares none
samples as every package did before: any steps, guidance adjustable, one default. The serving
side (shared/runtime/sampling.ts) refuses what a package does not declare.
"""

from model.data.named_numbers import parse_named_numbers

GUIDANCE_MODES = ("adjustable", "fixed")
MAX_API_STEPS = 100  # the API's bound on steps (shared/runtime/sampling.ts)
STEP_COUNTS = [str(n) for n in range(1, MAX_API_STEPS + 1)]  # guidance_by_steps' keys


def sampling_fields(
    default_steps: int,
    steps: list[int] | None = None,
    max_steps: int | None = None,
    fixed_guidance: bool = False,
    guidance_by_steps: dict[str, float] | None = None,
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
    if guidance_by_steps:
        fields["guidance_by_steps"] = dict(guidance_by_steps)
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
    by_steps = diffusion.get("guidance_by_steps")
    if by_steps is not None:
        if diffusion.get("guidance") == "fixed":
            raise ValueError("diffusion.guidance_by_steps: needs adjustable guidance (fixed guidance has one value)")
        well_formed = isinstance(by_steps, dict) and by_steps
        if not well_formed or any(k not in STEP_COUNTS or not _is_guidance(v) for k, v in by_steps.items()):
            raise ValueError('diffusion.guidance_by_steps: {"<step count>": guidance >= 0}, at least one')


def _is_guidance(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def parse_guidance_by_steps(text: str) -> dict[str, float]:
    """`"1=2,4=3"` -> {"1": 2.0, "4": 3.0}: a request's default guidance for those step counts."""
    known = f"a step count from 1 to {MAX_API_STEPS}"
    return parse_named_numbers(
        text, STEP_COUNTS, "guidance by steps", "GUIDANCE", lambda g: g >= 0, "a guidance of 0 or more", known
    )


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
