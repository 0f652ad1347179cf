"""A run database as an older release left it: migrated only so far, holding one run of its time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from motion_studio.history.schema import MIGRATIONS, migrate


def old_database(folder: Path, version: int, *, status: str = "done", request_id: str | None = None) -> Path:
    """`old.sqlite3` in `folder`, at schema `version`, with the run `old-run` (`pro`, `video`)."""
    db = folder / "old.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        migrate(conn, MIGRATIONS[:version])
        if version >= 6:  # the options are one JSON value from v6 on
            conn.execute(
                "INSERT INTO runs (id, created_at, updated_at, status, options, endpoint, request_id) "
                """VALUES ('old-run', 1, 1, ?, '{"model": "pro", "orientation": "video"}', 'e', ?)""",
                (status, request_id),
            )
            return db
        conn.execute(
            "INSERT INTO runs (id, created_at, updated_at, status, tier, endpoint, orientation, request_id) "
            "VALUES ('old-run', 1, 1, ?, 'pro', 'e', 'video', ?)",
            (status, request_id),
        )
    finally:
        conn.close()
    return db


def old_upload_cache(folder: Path, sha256: str, url: str, uploaded_at: float) -> Path:
    """`old.sqlite3` at schema 6 (before uploads had expiries), with one cached upload."""
    db = folder / "old.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        migrate(conn, MIGRATIONS[:6])
        conn.execute(
            "INSERT INTO uploads (sha256, url, uploaded_at) VALUES (?, ?, ?)", (sha256, url, uploaded_at)
        )
    finally:
        conn.close()
    return db
