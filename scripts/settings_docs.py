"""Writes docs/settings.md and .env.example from the `Settings` model, so neither can drift from the code.

A setting's name, default, accepted values and description all come from `motion_studio/settings.py`;
this file only groups them and lays them out. Run it from the repository root after changing a setting:

    python -m scripts.settings_docs

tests/test_docs.py fails until both files are what this makes.
"""

from __future__ import annotations

import textwrap
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from motion_studio.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "settings.md"
ENV_EXAMPLE = ROOT / ".env.example"
COMMAND = "python -m scripts.settings_docs"


@dataclass(frozen=True)
class Group:
    """Settings a user looks up together, with a line (Markdown) that says where the subject is explained."""

    title: str
    intro: str
    fields: tuple[str, ...]


GROUPS = (
    Group(
        "The key and the data",
        "Who pays, and where everything is kept (see [the data directory](#the-data-directory) below).",
        ("fal_key", "data_dir"),
    ),
    Group(
        "Models and prices",
        "Every model, what it is for and what it costs: [Which model?](usage.md#which-model).",
        ("default_tier", "v3_pro_price", "v3_standard_price", "dreamactor_price"),
    ),
    Group(
        "Following a run on fal",
        "How a run is followed once fal has it, and when the studio gives up: see "
        "[A paid run is never lost](paid-runs.md).",
        (
            "poll_interval",
            "status_stream",
            "request_timeout",
            "status_retry_seconds",
            "cancel_grace_seconds",
            "lease_seconds",
        ),
    ),
    Group(
        "Inputs and uploads",
        "What the studio accepts, and how it gets files to fal: see [Performance](performance.md).",
        (
            "upload_ahead",
            "upload_part_mb",
            "upload_cache_hours",
            "fal_cdn_hosts",
            "scratch_mb",
            "max_image_pixels",
            "max_upload_mb",
        ),
    ),
    Group(
        "The people check",
        "What it reads and says: see [The people check](people-check.md).",
        ("people_check",),
    ),
    Group(
        "The page and batches",
        "Where the page listens, and how much it does at once (see [Batches](batches.md)).",
        ("gallery_page_size", "server_name", "server_port", "concurrency", "queue_size", "batch_parallel"),
    ),
    Group(
        "A public server: spending, visitors, privacy",
        "What to set before lending your key to strangers: see [Publishing on a Space](space.md).",
        (
            "max_run_cost",
            "daily_budget",
            "visitor_active_runs",
            "visitor_runs_per_hour",
            "visitor_daily_dollars",
            "hf_sign_in",
            "sign_in_for_own_keys",
            "api_checks_per_minute",
            "trusted_proxies",
            "visitors_bring_own_key",
            "private_galleries",
            "browser_secret",
            "fal_input_expiry_hours",
            "fal_output_expiry_days",
            "fal_store_io",
        ),
    ),
)

PAGE_HEAD = f"""# Settings

<!-- Made by `{COMMAND}` from motion_studio/settings.py: change the descriptions there, not here. -->

The app reads settings from the environment, or from a `.env` file in the working directory
([`.env.example`](../.env.example) lists them all, each with its default). The environment wins over
`.env`, which wins over the defaults; an empty value counts as unset. A value the app can't use stops
it at start with one sentence naming the variable.
"""

PAGE_TAIL = """## The data directory

The data directory (`MOTION_STUDIO_DATA_DIR`) holds `history.sqlite3` (an SQLite database; no server
needed) and one folder per run, `runs/<id>/`, with the image and clip as they were uploaded (and a v3
run's face images, `face-0.*`, `face-1.*`…), `output.mp4` and `thumb.jpg`; and one folder per
[batch](batches.md), `batches/<id>/`, with its `grid.mp4`. It also keeps `browser-secret` (unless
`MOTION_STUDIO_BROWSER_SECRET` is set), and files fetched from URLs and trimmed copies (under
`MOTION_STUDIO_SCRATCH_MB`).
"""

ENV_HEAD = f"""# Copy to .env (never commit .env) and fill in what you need. Environment variables win over this file,
# and an empty value means the default. docs/settings.md describes every setting.
# Made by `{COMMAND}` from motion_studio/settings.py: change the descriptions there, not here.
"""


def grouped_fields() -> list[tuple[Group, list[tuple[str, FieldInfo]]]]:
    """Every setting in exactly one group, so a new setting can't be left out of the documents."""
    fields = Settings.model_fields
    placed = [name for group in GROUPS for name in group.fields]
    missing = sorted(set(fields) - set(placed))
    unknown = sorted(set(placed) - set(fields))
    doubled = sorted({name for name in placed if placed.count(name) > 1})
    if missing or unknown or doubled:
        raise SystemExit(
            f"scripts/settings_docs.py GROUPS: put every setting in one group "
            f"(missing {missing}, unknown {unknown}, in two groups {doubled})."
        )
    undescribed = sorted(name for name, field in fields.items() if not field.description)
    if undescribed:
        raise SystemExit(f"Give these settings a Field(description=...) in settings.py: {undescribed}")
    return [(group, [(name, fields[name]) for name in group.fields]) for group in GROUPS]


def _variants(field: FieldInfo) -> tuple[object, bool]:
    """The field's type without None, and whether it may be left unset."""
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        return rest[0], len(rest) < len(args)
    return annotation, False


def is_secret(field: FieldInfo) -> bool:
    return _variants(field)[0] is SecretStr


def env_value(field: FieldInfo) -> str:
    """The default as one would write it in `.env`; empty when it is unset, and always for a secret."""
    value = field.default
    if value is None or is_secret(field):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def _bounds(field: FieldInfo) -> str:
    """The field's bounds (pydantic keeps `gt=0` as an `annotated_types.Gt` carrying a `gt` attribute)."""
    signs = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
    words = [
        f" {sign} {getattr(item, name)}"
        for item in field.metadata
        for name, sign in signs.items()
        if getattr(item, name, None) is not None
    ]
    return " and".join(words)  # both bounds: "≥ 1 and ≤ 10000"


def accepts(field: FieldInfo) -> str:
    """What the variable takes, read from the field's type and bounds."""
    kind, optional = _variants(field)
    if get_origin(kind) is Literal:
        text = ", ".join(f"`{choice}`" for choice in get_args(kind))
    elif kind is bool:
        text = "`true` / `false`"
    else:
        names: dict[object, str] = {
            int: "whole number",
            float: "number",
            str: "text",
            Path: "path",
            SecretStr: "secret",
        }
        text = "comma-separated list" if get_origin(kind) is tuple else names.get(kind, str(kind))
        text += _bounds(field)
    return f"{text}, or unset" if optional else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default_cell(field: FieldInfo) -> str:
    if is_secret(field):
        return "*unset (secret)*"
    value = env_value(field)
    return f"`{value}`" if value else "*unset*"


def settings_page() -> str:
    """docs/settings.md: one table per group."""
    parts = [PAGE_HEAD]
    for group, fields in grouped_fields():
        rows = [
            f"| `{field.alias}` | {_default_cell(field)} | {_cell(accepts(field))} | "
            f"{_cell(field.description or '')} |"
            for _, field in fields
        ]
        table = "| variable | default | accepts | what it does |\n|---|---|---|---|\n" + "\n".join(rows)
        parts.append(f"## {group.title}\n\n{group.intro}\n\n{table}\n")
    parts.append(PAGE_TAIL)
    return "\n".join(parts)


def _comment(text: str) -> str:
    lines = textwrap.wrap(
        text,
        width=106,
        initial_indent="# ",
        subsequent_indent="# ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines)


def env_example() -> str:
    """.env.example: every setting, described, set to its default (empty when unset or secret)."""
    parts = [ENV_HEAD]
    for group, fields in grouped_fields():
        parts.append(f"# ---- {group.title} ----\n")
        for _, field in fields:
            parts.append(f"{_comment(field.description or '')}\n{field.alias}={env_value(field)}\n")
    return "\n".join(parts)


def outputs() -> dict[Path, str]:
    """Each generated file and what it should hold now."""
    return {PAGE: settings_page(), ENV_EXAMPLE: env_example()}


def spliced(path: Path, begin: str, end: str, body: str) -> str:
    """`path`'s text with what lies between its two markers made anew (the rest as it is): a table
    made from the code inside a page written by hand (`option_docs`', `model_docs`')."""
    text = path.read_text(encoding="utf-8")
    before, rest = text.split(begin, 1)
    _, after = rest.split(end, 1)
    return f"{before}{begin}\n{body}\n{end}{after}"


def write(files: dict[Path, str]) -> None:
    """Each generated file written (this script's, `option_docs`' and `model_docs`')."""
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    write(outputs())


if __name__ == "__main__":
    main()
