"""Writes the "Which model?" tables in docs/usage.md from the catalogue, so the manual can't drift from
the models the page, the API and the command line offer.

Each family's line and each model's purpose, fal's fields, price, input limits, what it returns and
what becomes of the clip's sound come from `motion_studio/catalog.py`; a price that is a setting is
named with its variable and default from `motion_studio/settings.py`. Run it from the repository root
after changing a model or an option:

    python -m scripts.model_docs

tests/test_docs.py fails until docs/usage.md holds what this makes.
"""

from __future__ import annotations

from pathlib import Path

from motion_studio.catalog import FAMILIES, OPTIONS, TIERS, Limits, ModelTier, format_price
from motion_studio.settings import PRICE_SETTINGS, Settings
from scripts.settings_docs import spliced, write

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "usage.md"
COMMAND = "python -m scripts.model_docs"
BEGIN = f"<!-- The models' tables: made by `{COMMAND}`; edit the catalogue, not these tables. -->"
END = "<!-- End of the models' tables. -->"
HEAD = (
    "| model | what it is for | fal's fields (besides the image and the clip) | price per second of video "
    "| clip | image | returns besides the video | the clip's sound |",
    "|---|---|---|---|---|---|---|---|",
)


def tables() -> str:
    """One table a family, under its name and its line; one row a model, in the catalogue's order."""
    parts = []
    for family in FAMILIES.values():
        rows = [_row(model) for model in TIERS.values() if model.family == family.name]
        parts.append(f"### {family.short}\n\n{family.help}\n\n" + "\n".join([*HEAD, *rows]))
    return "\n\n".join(parts)


def _row(model: ModelTier) -> str:
    name = f"`{model.name}`: {model.full_title}" + (f", {model.resolution}" if model.resolution else "")
    cells = (
        name,
        model.purpose,
        _fields(model),
        _price(model),
        _clip(model),
        _image(model.limits),
        ", ".join(f"`{field}`" for field in model.returns) or "nothing",
        _sound(model),
    )
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _fields(model: ModelTier) -> str:
    """Its options by fal's names (the API's too); those the studio does itself are marked."""
    fields = [
        f"`{OPTIONS[name].api_name}`" + ("" if model.sends(name) else " (done by the studio)")
        for name in model.options
    ]
    if model.face_binding:
        fields.append("`elements` (a face kept consistent; the API's `face_image`)")
    return ", ".join(fields)


def _price(model: ModelTier) -> str:
    """Its price: a range where one of its options' choices sets it, a default where it is a setting."""
    setting = PRICE_SETTINGS.get(model.name)
    if setting is not None:
        field = Settings.model_fields[setting]
        return f"{format_price(field.default)} by default: a setting, `{field.alias}`"
    low, high = model.price_range()
    if low == high:
        return format_price(low)
    chooser = next(
        OPTIONS[name] for name in model.options if any(c.price_per_second for c in OPTIONS[name].choices)
    )
    each = ", ".join(
        f"{c.value} {format_price(c.price_per_second)}" for c in chooser.choices if c.price_per_second
    )
    return (
        f"{format_price(low).removesuffix('/s')}–{format_price(high)}, set by `{chooser.api_name}` ({each})"
    )


def _clip(model: ModelTier) -> str:
    limits = model.limits
    shorter = [
        f"at most {choice.clip_max_seconds:g} s with `{OPTIONS[name].api_name}` '{choice.value}'"
        for name in model.options
        for choice in OPTIONS[name].choices
        if choice.clip_max_seconds is not None and choice.clip_max_seconds < limits.max_seconds
    ]
    seconds = f"{limits.min_seconds:g}–{limits.max_seconds:g} s" + (
        f" ({'; '.join(shorter)})" if shorter else ""
    )
    return (
        f"{seconds}, each side {limits.video_min_side}–{limits.video_max_side} px, "
        f"at most {limits.video_max_bytes // 2**20} MB"
    )


def _image(limits: Limits) -> str:
    return (
        f"each side at least {limits.image_min_side} px, at most {limits.image_max_aspect:g}:1, "
        f"at most {limits.image_max_bytes // 2**20} MB"
    )


def _sound(model: ModelTier) -> str:
    if not model.takes("keep_sound"):
        return "dropped"
    if model.sends("keep_sound"):
        return "kept by fal (unless `keep_original_sound` is false)"
    return "put back by the studio (unless `keep_original_sound` is false)"


def page() -> str:
    """docs/usage.md with its tables made anew (the rest of the page as it is)."""
    return spliced(PAGE, BEGIN, END, tables())


def outputs() -> dict[Path, str]:
    return {PAGE: page()}


def main() -> None:
    write(outputs())


if __name__ == "__main__":
    main()
