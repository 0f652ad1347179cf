"""`History`, the one object everyone opens: it opens the database once and builds its parts on it,
and callers use the part that owns what they need (reads, writes, leases, the upload cache).
"""

from __future__ import annotations

from pathlib import Path

from .database import Database
from .leasing import Leasing
from .queries import Queries
from .uploads import UploadCache
from .writes import Writes


class History:
    """The runs, their timeline and their leases, in the SQLite file `db_path`; each run's files in
    its own folder under `runs_dir`. A lease not renewed lasts `lease_seconds`.

    Its parts, all on the one `db` (where it lives: `db_path`, `runs_dir`, `run_dir`, `schema_version`):
    `reads` (a run, the recent ones, counts, a batch, a timeline, the unfinished, the server's spend),
    `writes` (create or reserve, update, record a move, end, delete), `leases` (claim, release, sweep,
    whether a run is followed) and `uploads` (the files already on fal's storage).
    """

    def __init__(self, db_path: Path, runs_dir: Path, *, lease_seconds: float = 600.0) -> None:
        self.db = Database(db_path, runs_dir)
        self.reads = Queries(self.db)
        self.leases = Leasing(self.db, self.reads, lease_seconds)
        self.writes = Writes(self.db, self.reads, self.leases)
        self.uploads = UploadCache(self.db)
