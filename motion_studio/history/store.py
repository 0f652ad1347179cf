"""`History`, the one class everyone uses: it opens the database and hands each call to the helper
that owns it (reads, writes, leases, the upload cache), all sharing the one `Database`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import StudioError
from ..lifecycle import Status
from .database import Database
from .leasing import Leasing
from .limits import VisitorLimits
from .queries import Queries
from .runs import Run, RunEvent
from .uploads import UploadCache
from .writes import Writes


class History:
    """The runs, their timeline and their leases, in the SQLite file `db_path`; each run's files in
    its own folder under `runs_dir`. A lease not renewed lasts `lease_seconds`."""

    def __init__(self, db_path: Path, runs_dir: Path, *, lease_seconds: float = 600.0) -> None:
        self._db = Database(db_path, runs_dir)
        self._queries = Queries(self._db)
        self._leasing = Leasing(self._db, self._queries, lease_seconds)
        self._writes = Writes(self._db, self._queries, self._leasing)
        self._uploads = UploadCache(self._db)

    # -- where it lives ---------------------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self._db.db_path

    @property
    def runs_dir(self) -> Path:
        return self._db.runs_dir

    @property
    def lease_seconds(self) -> float:
        return self._leasing.lease_seconds

    @property
    def schema_version(self) -> int:
        return self._db.schema_version

    def run_dir(self, run_id: str) -> Path:
        """The run's folder, made if it is not there yet."""
        return self._db.run_dir(run_id)

    # -- reading: `Queries` -----------------------------------------------------------------------

    def get(self, run_id: str) -> Run | None:
        return self._queries.get(run_id)

    def recent(self, limit: int = 100, owner: str | None = None, offset: int = 0) -> list[Run]:
        return self._queries.recent(limit, owner, offset)

    def count(self, owner: str | None = None) -> int:
        return self._queries.count(owner)

    def active_count(self, owner: str | None = None, *, in_flight: bool = False) -> int:
        return self._queries.active_count(owner, in_flight=in_flight)

    def batch(self, batch_id: str) -> list[Run]:
        return self._queries.batch(batch_id)

    def events(self, run_id: str) -> list[RunEvent]:
        return self._queries.events(run_id)

    def unfinished(self) -> list[Run]:
        return self._queries.unfinished()

    def server_spend_since(self, since: float) -> float:
        return self._queries.server_spend_since(since)

    # -- writing: `Writes` ------------------------------------------------------------------------

    def create(
        self,
        run: Run,
        *,
        holder: str | None = None,
        daily_budget: float | None = None,
        visitor_limits: VisitorLimits | None = None,
    ) -> Run:
        return self._writes.create(
            run, holder=holder, daily_budget=daily_budget, visitor_limits=visitor_limits
        )

    def create_many(
        self,
        runs: list[Run],
        *,
        holder: str | None = None,
        daily_budget: float | None = None,
        visitor_limits: VisitorLimits | None = None,
    ) -> list[Run]:
        return self._writes.create_many(
            runs, holder=holder, daily_budget=daily_budget, visitor_limits=visitor_limits
        )

    def fill_reserved(self, run_id: str, run: Run, holder: str | None) -> Run:
        return self._writes.fill_reserved(run_id, run, holder)

    def update(self, run_id: str, **values: object) -> None:
        self._writes.update(run_id, **values)

    def record(self, run_id: str, state: Status | str, detail: str = "", **values: object) -> None:
        self._writes.record(run_id, state, detail, **values)

    def end(self, run_id: str, state: Status, error: StudioError | None = None, **values: object) -> None:
        self._writes.end(run_id, state, error, **values)

    def delete(self, run_id: str) -> None:
        self._writes.delete(run_id)

    # -- leases: `Leasing` ------------------------------------------------------------------------

    def claim(self, run_id: str, holder: str) -> bool:
        return self._leasing.claim(run_id, holder)

    def release(self, run_id: str, holder: str) -> None:
        self._leasing.release(run_id, holder)

    def sweep(self) -> list[Run]:
        return self._leasing.sweep()

    def is_followed(self, run: Run) -> bool:
        return self._leasing.is_followed(run)

    # -- the upload cache: `UploadCache` ----------------------------------------------------------

    def cached_upload(self, sha256: str, max_age_seconds: float, *, alive_for: float = 0.0) -> str | None:
        return self._uploads.cached_upload(sha256, max_age_seconds, alive_for=alive_for)

    def remember_upload(self, sha256: str, url: str, *, expires_at: float | None = None) -> None:
        self._uploads.remember_upload(sha256, url, expires_at=expires_at)
