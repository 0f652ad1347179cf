"""The history's schema and its migrations, each applied with its version bump in one transaction.

`PRAGMA user_version` is part of the database file, so a migration and its bump commit together or
not at all: a crash in between, or the app and the command line starting at once, can never leave a
database half-migrated. The version is read inside the write lock, so a second process that waited
for the first finds the work done.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

from ..lifecycle import Status

_STATUSES = ", ".join(f"'{s.value}'" for s in Status)
_RUN_COLUMNS_V2 = (
    "id, created_at, updated_at, status, tier, endpoint, orientation, prompt, keep_sound, key_source, "
    "image_path, video_path, image_url, video_url, clip_seconds, estimated_cost, request_id, output_path, "
    "output_url, thumbnail_path, error_kind, error_message, submitted_at, finished_at, owner"
)

# The columns every version since v5 keeps as they are (v6 folds the options into one JSON value).
_BOOKKEEPING = (
    "id, created_at, updated_at, status, endpoint, key_source, "
    "image_path, video_path, image_url, video_url, clip_seconds, estimated_cost, request_id, output_path, "
    "output_url, thumbnail_path, error_kind, error_message, submitted_at, finished_at, owner, "
    "source_image, source_video, lease_holder, lease_until, "
    "face_frontal, face_angles, face_frontal_url, face_angle_urls, batch_id, batch_index, batch_size"
)

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
    # v3: the lifecycle's statuses enforced by a CHECK; the files a run started from (Run again);
    # the lease of the one process that follows the run. SQLite adds a CHECK only by rebuilding.
    f"""
    CREATE TABLE runs_v3 (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        status TEXT NOT NULL CHECK (status IN ({_STATUSES})),
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
        submitted_at REAL, finished_at REAL,
        owner TEXT,
        source_image TEXT, source_video TEXT,
        lease_holder TEXT, lease_until REAL
    );
    INSERT INTO runs_v3 ({_RUN_COLUMNS_V2}) SELECT {_RUN_COLUMNS_V2} FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v3 RENAME TO runs;
    CREATE INDEX runs_created ON runs(created_at DESC);
    CREATE INDEX runs_owner ON runs(owner, created_at DESC);
    CREATE INDEX runs_status ON runs(status);
    """,
    # v4: the face a v3 run keeps consistent (fal's `elements`): its images as the run keeps them and
    # their URLs on fal, the angles as JSON lists ('[]': none), so Run again and the gallery restore them.
    """
    ALTER TABLE runs ADD COLUMN face_frontal TEXT;
    ALTER TABLE runs ADD COLUMN face_angles TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE runs ADD COLUMN face_frontal_url TEXT;
    ALTER TABLE runs ADD COLUMN face_angle_urls TEXT NOT NULL DEFAULT '[]';
    """,
    # v5: batches (several characters on one clip, or one character on several clips): the runs of
    # one batch share its id, and each knows its place in it ("batch 2/3"), so the gallery groups them
    # and the batch's grid puts their results in order.
    """
    ALTER TABLE runs ADD COLUMN batch_id TEXT;
    ALTER TABLE runs ADD COLUMN batch_index INTEGER;
    ALTER TABLE runs ADD COLUMN batch_size INTEGER;
    CREATE INDEX runs_batch ON runs(batch_id, batch_index);
    """,
    # v6: what a run asked fal for is one JSON value (`Options`, validated when read) beside the
    # bookkeeping columns, so an option fal gains needs no migration. The old columns fold into it.
    f"""
    CREATE TABLE runs_v6 (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        status TEXT NOT NULL CHECK (status IN ({_STATUSES})),
        options TEXT NOT NULL DEFAULT '{{}}',
        endpoint TEXT NOT NULL,
        key_source TEXT NOT NULL DEFAULT 'server',
        image_path TEXT, video_path TEXT, image_url TEXT, video_url TEXT,
        clip_seconds REAL, estimated_cost REAL,
        request_id TEXT, output_path TEXT, output_url TEXT, thumbnail_path TEXT,
        error_kind TEXT, error_message TEXT,
        submitted_at REAL, finished_at REAL,
        owner TEXT,
        source_image TEXT, source_video TEXT,
        lease_holder TEXT, lease_until REAL,
        face_frontal TEXT,
        face_angles TEXT NOT NULL DEFAULT '[]',
        face_frontal_url TEXT,
        face_angle_urls TEXT NOT NULL DEFAULT '[]',
        batch_id TEXT, batch_index INTEGER, batch_size INTEGER
    );
    INSERT INTO runs_v6 (options, {_BOOKKEEPING})
        SELECT json_object(
            'orientation', orientation, 'prompt', prompt,
            'keep_sound', json(CASE WHEN keep_sound THEN 'true' ELSE 'false' END), 'model', tier
        ), {_BOOKKEEPING}
        FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v6 RENAME TO runs;
    CREATE INDEX runs_created ON runs(created_at DESC);
    CREATE INDEX runs_owner ON runs(owner, created_at DESC);
    CREATE INDEX runs_status ON runs(status);
    CREATE INDEX runs_batch ON runs(batch_id, batch_index);
    """,
    # v7: when fal deletes each upload (its expiry, sent with it), so the cache never hands fal a
    # dead URL. Older rows have none: they were sent without an expiry.
    """
    ALTER TABLE uploads ADD COLUMN expires_at REAL;
    """,
    # v8: a preview keeps the whole clip for its full run, and a full run names its preview.
    """
    ALTER TABLE runs ADD COLUMN full_clip_path TEXT;
    ALTER TABLE runs ADD COLUMN preview_of TEXT;
    """,
    # v9: what fal's result told besides the video, kept as JSON (Wan: the prompt it made, the seed
    # it used, so a run can be made again the same); and whether the studio put the clip's sound back
    # on a result that came without it (NULL: nothing to do; 1: put back; 0: it could not be).
    """
    ALTER TABLE runs ADD COLUMN returned TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE runs ADD COLUMN sound_added INTEGER;
    """,
]


def statements(script: str) -> Iterator[str]:
    """Split a script into whole statements (sqlite3's own test), so they run inside our transaction:
    `executescript` would commit first."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def _is_busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and error.sqlite_errorcode & 0xFF in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


@retry(
    retry=retry_if_exception(_is_busy),
    wait=wait_random_exponential(multiplier=0.01, max=0.5),
    stop=stop_after_delay(30),
    reraise=True,
)
def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new database to WAL, retried: when processes open a fresh file together, SQLite
    answers the switch with BUSY at once (it skips the busy timeout there, to avoid a deadlock), and
    the app and the command line starting at the same moment must both come up."""
    conn.execute("PRAGMA journal_mode = WAL")


def migrate(conn: sqlite3.Connection, migrations: list[str] | None = None) -> int:
    """Bring the database to the newest version; `conn` must be in autocommit mode, foreign keys off
    (a table rebuild must not cascade-delete the timeline)."""
    migrations = MIGRATIONS if migrations is None else migrations
    conn.execute("PRAGMA foreign_keys = OFF")  # so a table rebuild can never cascade-delete the timeline
    _use_wal(conn)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version >= len(migrations):
                conn.execute("COMMIT")
                return version
            for statement in statements(migrations[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # never hide the error that got us here
                conn.execute("ROLLBACK")
            raise
