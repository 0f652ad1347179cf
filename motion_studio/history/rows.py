"""A run's row in the database: the columns, and turning a `Run` into a row and back."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields

from .runs import Run

COLUMNS = [f.name for f in fields(Run)]
_JSON_LISTS = ("face_angles", "face_angle_urls")  # tuples in `Run`, JSON text in the database


def owner_clause(owner: str | None) -> tuple[str, list[object]]:
    return ("WHERE owner = ?", [owner]) if owner is not None else ("", [])


def encoded(values: dict[str, object]) -> dict[str, object]:
    """`values` as columns: the lists of `_JSON_LISTS` as JSON text."""
    return {
        name: json.dumps(list(value)) if name in _JSON_LISTS and isinstance(value, list | tuple) else value
        for name, value in values.items()
    }


def to_run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["keep_sound"] = bool(data["keep_sound"])
    for name in _JSON_LISTS:
        data[name] = tuple(json.loads(data[name] or "[]"))
    return Run(**data)
