"""Run history in an embedded SQLite database inside the data directory: no server to start.

A connection per call keeps it safe from any thread (job runner, Gradio workers, the command line in
another process) at well under a millisecond. Every write that reads before it writes (a status move,
a budget reservation, a lease) takes SQLite's write lock first (`BEGIN IMMEDIATE`), so two processes
can never both pass the same check.

This module opens the database (migrating it first) and hands out those connections; the parts of
`History` (reads, writes, leases, the upload cache) share one `Database`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .schema import migrate


class Database:
    """Where the history lives (the database file, the runs' folders) and how to talk to it."""

    def __init__(self, db_path: Path, runs_dir: Path) -> None:
        self.db_path = Path(db_path)
        self.runs_dir = Path(runs_dir)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            migrate(conn)
        finally:
            conn.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A short read, or a write that needs no read first."""
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    @contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """A read-then-write under SQLite's write lock, committed at the end or rolled back."""
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # never hide the error that got us here
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    @property
    def schema_version(self) -> int:
        with self.connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def run_dir(self, run_id: str) -> Path:
        """The run's folder, made if it is not there yet."""
        path = self.runs_dir / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path
