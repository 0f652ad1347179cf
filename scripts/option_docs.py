"""Writes the options' table in docs/api.md from the catalogue, so the manual can't drift from what
the API, the MCP tools and the command line take.

Each option's parameter, flag, values, default, models and text come from `motion_studio/catalog.py`
(through `option_help`, which the API's and the command line's own help use). Run it from the
repository root after changing an option or a model:

    python -m scripts.option_docs

tests/test_docs.py fails until docs/api.md holds what this makes.
"""

from __future__ import annotations

from pathlib import Path

from motion_studio.catalog import OPTIONS, TIERS, Option, either, takers
from motion_studio.option_help import default_text, described, offered
from scripts.settings_docs import spliced, write

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "api.md"
COMMAND = "python -m scripts.option_docs"
BEGIN = f"<!-- The options' table: made by `{COMMAND}`; edit the catalogue, not this table. -->"
END = "<!-- End of the options' table. -->"


def table() -> str:
    """One row an option, in the API's order (the model's default is the server's setting)."""
    first, added = offered("pro")
    rows = [
        "| parameter | command line | takes | default | models | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for option in (*first, *added):
        rows.append(
            f"| `{option.api_name}` | `{'`, `'.join(option.cli_flags)}` | {option.accepts} | "
            f"{_default(option)} | {_models(option)} | {_cell(described(option, 'api', facts=False))} |"
        )
    return "\n".join(rows)


def _default(option: Option) -> str:
    if option.name == "model":
        return "`MOTION_STUDIO_DEFAULT_TIER`"
    shown = default_text(option.default)
    return f"`{shown}`" if shown else "empty"


def _models(option: Option) -> str:
    names = takers(option.name) if option.name in OPTIONS else list(TIERS)
    return "all" if len(names) == len(TIERS) else either([f"`{name}`" for name in names])


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def page() -> str:
    """docs/api.md with its table made anew (the rest of the page as it is)."""
    return spliced(PAGE, BEGIN, END, table())


def outputs() -> dict[Path, str]:
    return {PAGE: page()}


def main() -> None:
    write(outputs())


if __name__ == "__main__":
    main()
