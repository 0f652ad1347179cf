"""Run history in an embedded SQLite database inside the data directory: no server to start.

A connection per call keeps it safe from any thread (job runner loop, Gradio workers, CLI) at a cost
of well under a millisecond. The schema is versioned with `PRAGMA user_version`; a later issue adds a
migration by appending to `MIGRATIONS`.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

# "interrupted": fal stopped answering after submit; the run can still finish there, so it is resumable.
ACTIVE_STATES = (
    "checking",
    "uploading",
    "submitted",
    "queued",
    "running",
    "downloading",
    "cancelling",
    "interrupted",
)
FINAL_STATES = ("done", "failed", "cancelled")

MIGRATIONS: list[str] = [
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        status TEXT NOT NULL,
        tier TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        orientation TEXT NOT NULL,
        prompt TEXT NOT NULL DEFAULT '',
        keep_sound INTEGER NOT NULL DEFAULT 1,
        key_source TEXT NOT NULL DEFAULT 'server',
        image_path TEXT, video_path TEXT, image_url TEXT, video_url TEXT,
        clip_seconds REAL, estimated_cost REAL,
        request_id TEXT, output_path TEXT, output_url TEXT, thumbnail_path TEXT,
        error_kind TEXT, error_message TEXT,
        submitted_at REAL, finished_at REAL
    );
    CREATE INDEX runs_created ON runs(created_at DESC);
    CREATE TABLE run_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        at REAL NOT NULL,
        state TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX run_events_run ON run_events(run_id, id);
    CREATE TABLE uploads (
        sha256 TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        uploaded_at REAL NOT NULL
    );
    """,
    # v2: whose browser started a run, so a public Space can give each visitor their own gallery.
    """
    ALTER TABLE runs ADD COLUMN owner TEXT;
    CREATE INDEX runs_owner ON runs(owner, created_at DESC);
    """,
]


@dataclass
class Run:
    """One generation, from the first check to the downloaded video (or the reason it failed)."""

    tier: str
    endpoint: str
    orientation: str
    prompt: str = ""
    keep_sound: bool = True
    key_source: str = "server"
    id: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    status: str = "checking"
    image_path: str | None = None
    video_path: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    clip_seconds: float | None = None
    estimated_cost: float | None = None
    request_id: str | None = None
    output_path: str | None = None
    output_url: str | None = None
    thumbnail_path: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    owner: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATES


@dataclass(frozen=True)
class RunEvent:
    at: float
    state: str
    detail: str


_COLUMNS = [f.name for f in fields(Run)]


class History:
    def __init__(self, db_path: Path, runs_dir: Path) -> None:
        self.db_path = Path(db_path)
        self.runs_dir = Path(runs_dir)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._migrate()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def _migrate(self) -> None:
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                conn.executescript(script)
                conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def run_dir(self, run_id: str) -> Path:
        path = self.runs_dir / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def create(self, run: Run) -> Run:
        now = time.time()
        run.id = run.id or time.strftime("%Y%m%d-%H%M%S-", time.gmtime(now)) + uuid.uuid4().hex[:6]
        run.created_at = run.created_at or now
        run.updated_at = now
        row = asdict(run)
        with self._connect() as conn:
            conn.execute(
                f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                [row[c] for c in _COLUMNS],
            )
            conn.execute(
                "INSERT INTO run_events (run_id, at, state) VALUES (?, ?, ?)", (run.id, now, run.status)
            )
        return run

    def update(self, run_id: str, **values: object) -> None:
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown run fields: {sorted(unknown)}")
        values["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._connect() as conn:
            conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])

    def record(self, run_id: str, state: str, detail: str = "", **values: object) -> None:
        """Move a run to `state`, add it to the timeline and store `values`, in one transaction."""
        now = time.time()
        values.update(status=state, updated_at=now)
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._connect() as conn:
            conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])
            conn.execute(
                "INSERT INTO run_events (run_id, at, state, detail) VALUES (?, ?, ?, ?)",
                (run_id, now, state, detail),
            )

    def get(self, run_id: str) -> Run | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _to_run(row) if row else None

    def recent(self, limit: int = 100, owner: str | None = None) -> list[Run]:
        """Newest first; only `owner`'s runs when one is given (private galleries)."""
        where, args = ("WHERE owner = ? ", [owner]) if owner is not None else ("", [])
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM runs {where}ORDER BY created_at DESC LIMIT ?", [*args, limit]
            ).fetchall()
        return [_to_run(row) for row in rows]

    def events(self, run_id: str) -> list[RunEvent]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT at, state, detail FROM run_events WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [RunEvent(row["at"], row["state"], row["detail"]) for row in rows]

    def unfinished(self) -> list[Run]:
        """Runs fal has an id for but we never saw finish: paid for, so they must be resumed."""
        marks = ", ".join("?" * len(ACTIVE_STATES))
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM runs WHERE status IN ({marks}) AND request_id IS NOT NULL ORDER BY created_at",
                ACTIVE_STATES,
            ).fetchall()
        return [_to_run(row) for row in rows]

    def server_spend_since(self, since: float) -> float:
        """Estimated cost of the runs submitted on the server's key since `since` (the daily budget)."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(estimated_cost), 0) FROM runs "
                "WHERE key_source = 'server' AND request_id IS NOT NULL AND created_at >= ?",
                (since,),
            ).fetchone()
        return float(row[0])

    def delete(self, run_id: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)

    def cached_upload(self, sha256: str, max_age_seconds: float) -> str | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT url FROM uploads WHERE sha256 = ? AND uploaded_at >= ?",
                (sha256, time.time() - max_age_seconds),
            ).fetchone()
        return row["url"] if row else None

    def remember_upload(self, sha256: str, url: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO uploads (sha256, url, uploaded_at) VALUES (?, ?, ?)",
                (sha256, url, time.time()),
            )


def _to_run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["keep_sound"] = bool(data["keep_sound"])
    return Run(**data)
