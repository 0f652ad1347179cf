"""What each edge says of an option, from its one description in the catalogue: the API's and the MCP
tools' parameter text, the command line's help, the manual's table. The words differ where the edges
do (the API's `face_image` is the command line's `--face`; a flag that turns a default off says what it
turns off), the facts (choices, bounds, defaults, which models) never do."""

from __future__ import annotations

from typing import Any

from .catalog import OPTIONS, PREVIEW_OPTION, TIERS, Edge, Option, either, model_option, takers

FACE_PARAMETER = {"api": "face_image", "cli": "--face", "page": "the face panel"}


def offered(default_model: str) -> tuple[list[Option], list[Option]]:
    """Every option a caller can set, in the API's order: those that come before the face and the
    batch's parameters (the first release's, the model and the preview), then those added since (so
    a positional caller's arguments never shift)."""
    first = [o for o in OPTIONS.values() if not o.appended]
    return [*first, model_option(default_model), PREVIEW_OPTION], [o for o in OPTIONS.values() if o.appended]


def described(option: Option, edge: Edge, *, facts: bool = True) -> str:
    """One option's text for an edge: what it does, each choice's line, and (`facts`) what it takes,
    its default and which models take it (the manual's table has columns for those)."""
    if edge == "cli" and option.flag_help:
        return option.flag_help  # a flag that turns the default off: what the flag itself does
    parts = [option.help]
    if option.name == "model":
        parts.append(
            "; ".join(
                f"'{c.value}': {c.help}"
                + (f" ({FACE_PARAMETER[edge]})" if TIERS[c.value].face_binding else "")
                for c in option.choices
            )
            + "."
        )
    elif option.choices:
        parts.append("; ".join(f"'{c.value}': {c.help}" for c in option.choices) + ".")
    elif option.kind is not bool and facts:
        parts.append(f"Takes {option.accepts}.")
    if not facts:
        return " ".join(parts)
    default = default_text(option.default)
    if default:
        parts.append(f"Default {default}.")
    only = takers(option.name) if option.name in OPTIONS else list(TIERS)
    if len(only) < len(TIERS):
        parts.append(f"Only for the model {either([repr(m) for m in only])}.")
    return " ".join(parts)


def default_text(default: Any) -> str:
    """A default as a caller writes it: 'video', true, 7; nothing for an empty text."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, str):
        return f"'{default}'" if default else ""
    return "" if default is None else f"{default:g}" if isinstance(default, float) else str(default)
