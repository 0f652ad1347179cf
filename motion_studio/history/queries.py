"""Reading the history back: a run, the gallery's pages and counts, a batch, a run's timeline."""

from __future__ import annotations

from ..lifecycle import ACTIVE, IN_FLIGHT
from .database import Database
from .limits import reserved_since
from .rows import owner_clause, to_run
from .runs import Run, RunEvent

_ACTIVE = tuple(s.value for s in ACTIVE)


class Queries:
    """Reads of the history's database; nothing here writes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, run_id: str) -> Run | None:
        with self._db.connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return to_run(row) if row else None

    def recent(self, limit: int = 100, owner: str | None = None, offset: int = 0) -> list[Run]:
        """Newest first, `limit` runs after skipping `offset`; only `owner`'s runs when one is given
        (private galleries). Runs created in the same instant keep one order (the later row first),
        so pages never repeat or skip a run."""
        where, args = owner_clause(owner)
        with self._db.connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM runs {where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                [*args, max(0, limit), max(0, offset)],
            ).fetchall()
        return [to_run(row) for row in rows]

    def count(self, owner: str | None = None) -> int:
        """How many runs there are (only `owner`'s when one is given): the page's number of pages."""
        where, args = owner_clause(owner)
        with self._db.connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs {where}", args).fetchone()[0])

    def active_count(self, owner: str | None = None, *, in_flight: bool = False) -> int:
        """Runs that are not final (only `owner`'s when one is given), so the page polls only while
        one may still change. `in_flight`: only those a process is working on right now, leaving out
        interrupted runs, which change only when someone resumes them."""
        statuses = [s.value for s in (IN_FLIGHT if in_flight else ACTIVE)]
        where, args = owner_clause(owner)
        marks = ", ".join("?" * len(statuses))
        where = f"{where} AND status IN ({marks})" if where else f"WHERE status IN ({marks})"
        with self._db.connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs {where}", [*args, *statuses]).fetchone()[0])

    def batch(self, batch_id: str) -> list[Run]:
        """The runs of a batch that are still kept, in the batch's order."""
        with self._db.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM runs WHERE batch_id = ? ORDER BY batch_index", (batch_id,)
            ).fetchall()
        return [to_run(row) for row in rows]

    def events(self, run_id: str) -> list[RunEvent]:
        with self._db.connect() as conn:
            rows = conn.execute(
                "SELECT at, state, detail FROM run_events WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [RunEvent(row["at"], row["state"], row["detail"]) for row in rows]

    def unfinished(self) -> list[Run]:
        """Runs fal has an id for but we never saw finish: maybe paid for, so they must be followed."""
        marks = ", ".join("?" * len(_ACTIVE))
        with self._db.connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM runs WHERE status IN ({marks}) AND request_id IS NOT NULL ORDER BY created_at",
                _ACTIVE,
            ).fetchall()
        return [to_run(row) for row in rows]

    def server_spend_since(self, since: float) -> float:
        """What the server's key has committed to since `since`: runs sent to fal, and runs on their
        way there (their reservation)."""
        with self._db.connect() as conn:
            return reserved_since(conn, since)
