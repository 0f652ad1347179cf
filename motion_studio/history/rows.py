"""A run's row in the database: the columns, and turning a `Run` into a row and back."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields

from ..order import Options
from .runs import Run

COLUMNS = [f.name for f in fields(Run)]
_JSON_LISTS = ("face_angles", "face_angle_urls")  # tuples in `Run`, JSON text in the database
# `returned` (a dict in `Run`) is JSON text too.


def owner_clause(owner: str | None) -> tuple[str, list[object]]:
    return ("WHERE owner = ?", [owner]) if owner is not None else ("", [])


def encoded(values: dict[str, object]) -> dict[str, object]:
    """`values` as columns: the lists of `_JSON_LISTS`, what fal returned and the options as JSON text."""
    return {name: _column(name, value) for name, value in values.items()}


def _column(name: str, value: object) -> object:
    if name in _JSON_LISTS and isinstance(value, list | tuple):
        return json.dumps(list(value))
    if name == "returned" and isinstance(value, dict):
        return json.dumps(value)
    if name == "options":
        return (value if isinstance(value, Options) else Options.model_validate(value)).model_dump_json()
    return value


def to_run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["options"] = Options.model_validate_json(data["options"])
    for name in _JSON_LISTS:
        data[name] = tuple(json.loads(data[name] or "[]"))
    data["returned"] = json.loads(data["returned"] or "{}")
    if data["sound_added"] is not None:  # SQLite keeps a flag as 0 or 1
        data["sound_added"] = bool(data["sound_added"])
    return Run(**data)
