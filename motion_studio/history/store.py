"""Run history in an embedded SQLite database inside the data directory: no server to start.

A connection per call keeps it safe from any thread (job runner, Gradio workers, the command line in
another process) at well under a millisecond. Every write that reads before it writes (a status move,
a budget reservation, a lease) takes SQLite's write lock first (`BEGIN IMMEDIATE`), so two processes
can never both pass the same check.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .. import leases
from ..errors import (
    BudgetError,
    FollowerStoppedError,
    RunGoneError,
    StoppedBeforeSubmitError,
    StudioError,
    SubmitUnconfirmedError,
    VisitorLimitError,
)
from ..lifecycle import ACTIVE, BEFORE_SUBMIT, FINAL, IN_FLIGHT, Status, check_move
from .runs import Run, RunEvent
from .schema import migrate

log = logging.getLogger("motion_studio.history")
_COLUMNS = [f.name for f in fields(Run)]
_ACTIVE = tuple(s.value for s in ACTIVE)
_JSON_LISTS = ("face_angles", "face_angle_urls")  # tuples in `Run`, JSON text in the database
_FINAL = tuple(s.value for s in FINAL)


class History:
    def __init__(self, db_path: Path, runs_dir: Path, *, lease_seconds: float = 600.0) -> None:
        self.db_path = Path(db_path)
        self.lease_seconds = lease_seconds
        self.runs_dir = Path(runs_dir)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            migrate(conn)
        finally:
            conn.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
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
    def _locked(self) -> Iterator[sqlite3.Connection]:
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
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def run_dir(self, run_id: str) -> Path:
        path = self.runs_dir / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- creating and moving runs ----------------------------------------------------------------

    def create(
        self,
        run: Run,
        *,
        holder: str | None = None,
        daily_budget: float | None = None,
        visitor_limits: VisitorLimits | None = None,
    ) -> Run:
        """Insert a run, its lease and, on a budget, its cost reservation, in one transaction: runs
        started at the same moment can never pass the daily budget, or a visitor's limits, together."""
        return self.create_many(
            [run], holder=holder, daily_budget=daily_budget, visitor_limits=visitor_limits
        )[0]

    def create_many(
        self,
        runs: list[Run],
        *,
        holder: str | None = None,
        daily_budget: float | None = None,
        visitor_limits: VisitorLimits | None = None,
    ) -> list[Run]:
        """`create` for several runs (a batch's), in one transaction: all are inserted, in this order,
        or none is. The budget and the limits are checked for all of them together, so a batch that
        does not fit is refused whole, before anything is uploaded."""
        now = time.time()
        for run in runs:
            # The time for sorting by eye; 122 random bits so that no one can guess another run's id.
            run.id = run.id or time.strftime("%Y%m%d-%H%M%S-", time.gmtime(now)) + uuid.uuid4().hex
            run.created_at = run.created_at or now
            run.updated_at = now
            run.lease_holder = holder
            run.lease_until = now + self.lease_seconds if holder else None
        rows = [_encoded(asdict(run)) for run in runs]
        with self._locked() as conn:
            if visitor_limits is not None:  # a run without an owner counts as one visitor: "anonymous"
                for run in runs:
                    run.owner = run.owner or "anonymous"
                for owner, count in Counter(run.owner for run in runs).items():
                    visitor_limits.check(conn, owner or "anonymous", now, runs=count)
            if daily_budget is not None:
                spent = _reserved_since(conn, now - 86400)
                cost = sum(run.estimated_cost or 0.0 for run in runs)
                if spent + cost > daily_budget + 1e-9:
                    raise BudgetError.daily(daily_budget, spent, cost, runs=len(runs))
            for run, row in zip(runs, rows, strict=True):
                conn.execute(
                    f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                    [row[c] for c in _COLUMNS],
                )
                conn.execute(
                    "INSERT INTO run_events (run_id, at, state) VALUES (?, ?, ?)", (run.id, now, run.status)
                )
        return runs

    def fill_reserved(self, run_id: str, run: Run, holder: str | None) -> Run:
        """Write `run`'s facts into the row reserved for it (a batch's: `History.create_many` reserved it), keeping
        what the reservation decided: its id, creation time, status, owner and place in the batch.
        Nothing is checked again: the batch was checked whole. Gone (deleted, or no longer waiting
        to be checked): `RunGoneError`."""
        now = time.time()
        kept = {"id", "created_at", "status", "owner", "batch_id", "batch_index", "batch_size"}
        values = {name: value for name, value in asdict(run).items() if name not in kept}
        values.update(
            updated_at=now, lease_holder=holder, lease_until=now + self.lease_seconds if holder else None
        )
        values = _encoded(values)
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._locked() as conn:
            done = conn.execute(
                f"UPDATE runs SET {assignments} WHERE id = ? AND status = ?",
                [*values.values(), run_id, Status.CHECKING.value],
            )
            if done.rowcount != 1:
                raise RunGoneError()
        filled = self.get(run_id)
        if filled is None:
            raise RunGoneError()
        return filled

    def update(self, run_id: str, **values: object) -> None:
        """Store facts about a run (paths, URLs) that do not change its status."""
        unknown = set(values) - set(_COLUMNS)
        if unknown or "status" in values:
            raise ValueError(f"unknown or status fields: {sorted(unknown | ({'status'} & set(values)))}")
        values = _encoded({**values, "updated_at": time.time()})
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._connect() as conn:
            conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])

    def record(self, run_id: str, state: Status | str, detail: str = "", **values: object) -> None:
        """Move a run to `state` (refused unless the lifecycle allows it), add it to the timeline and
        store `values`, in one transaction."""
        state = Status(state)
        now = time.time()
        with self._locked() as conn:
            row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunGoneError()
            check_move(row["status"], state)
            values.update(status=state.value, updated_at=now)
            if state in FINAL:
                values.update(lease_holder=None, lease_until=None)
            values = _encoded(values)
            assignments = ", ".join(f"{name} = ?" for name in values)
            conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])
            conn.execute(
                "INSERT INTO run_events (run_id, at, state, detail) VALUES (?, ?, ?, ?)",
                (run_id, now, state.value, detail),
            )

    def end(self, run_id: str, state: Status, error: StudioError | None = None, **values: object) -> None:
        """A run's resting state, with its one sentence when it did not end well."""
        if error is not None:
            values.update(error_kind=error.kind, error_message=error.message)
        if state in FINAL:
            values["finished_at"] = time.time()
        self.record(run_id, state, error.message if error else "", **values)

    # -- leases: one follower per run across processes ------------------------------------------

    def claim(self, run_id: str, holder: str) -> bool:
        """Take the run's lease if nobody else holds a live one; renew it if `holder` has it."""
        now = time.time()
        with self._locked() as conn:
            row = conn.execute(
                "SELECT lease_holder, lease_until FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise RunGoneError()
            current = row["lease_holder"]
            if current != holder and leases.lease_is_live(current, row["lease_until"], now):
                return False
            conn.execute(
                "UPDATE runs SET lease_holder = ?, lease_until = ? WHERE id = ?",
                (holder, now + self.lease_seconds, run_id),
            )
            return True

    def release(self, run_id: str, holder: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE runs SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND lease_holder = ?",
                (run_id, holder),
            )

    def sweep(self) -> list[Run]:
        """Settle runs whose follower died (a crash, a `kill -9`): nothing follows them any more.

        Before submit nothing was charged: "stopped", and Run again starts them over. While sending:
        "unknown". After submit fal may still finish: "interrupted", and Resume picks them up. Each
        run is settled in one transaction that looks again at its lease, so a follower that just
        claimed it, or another process sweeping at the same time, is never overruled.
        """
        marks = ", ".join("?" * len(IN_FLIGHT))
        with self._connect() as conn:
            ids = [
                row["id"]
                for row in conn.execute(
                    f"SELECT id FROM runs WHERE status IN ({marks})", [s.value for s in IN_FLIGHT]
                )
            ]
        swept = []
        for run_id in ids:
            try:
                if self._settle_orphan(run_id):
                    swept.append(self.get(run_id))
            except Exception:  # one odd row must not stop the app from starting
                log.exception("could not settle run %s", run_id)
        return [run for run in swept if run is not None]

    def _settle_orphan(self, run_id: str) -> bool:
        now = time.time()
        with self._locked() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or Status(row["status"]) not in IN_FLIGHT:
                return False
            if leases.lease_is_live(row["lease_holder"], row["lease_until"], now):
                return False
            status = Status(row["status"])
            error: StudioError
            if row["request_id"] is not None:
                state, error = Status.INTERRUPTED, FollowerStoppedError()
            elif status in BEFORE_SUBMIT:
                state, error = Status.STOPPED, StoppedBeforeSubmitError()
            else:
                state, error = Status.UNKNOWN, SubmitUnconfirmedError()
            check_move(status, state)
            finished = now if state in FINAL else None
            conn.execute(
                "UPDATE runs SET status = ?, error_kind = ?, error_message = ?, finished_at = ?, "
                "lease_holder = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
                (state.value, error.kind, error.message, finished, now, run_id),
            )
            conn.execute(
                "INSERT INTO run_events (run_id, at, state, detail) VALUES (?, ?, ?, ?)",
                (run_id, now, state.value, error.message),
            )
        return True

    def is_followed(self, run: Run) -> bool:
        """A live process holds the run's lease: it is being followed, and can be watched."""
        return leases.lease_is_live(run.lease_holder, run.lease_until, time.time())

    # -- reading ------------------------------------------------------------------------------------

    def get(self, run_id: str) -> Run | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _to_run(row) if row else None

    def recent(self, limit: int = 100, owner: str | None = None, offset: int = 0) -> list[Run]:
        """Newest first, `limit` runs after skipping `offset`; only `owner`'s runs when one is given
        (private galleries). Runs created in the same instant keep one order (the later row first),
        so pages never repeat or skip a run."""
        where, args = _owner_clause(owner)
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM runs {where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                [*args, max(0, limit), max(0, offset)],
            ).fetchall()
        return [_to_run(row) for row in rows]

    def count(self, owner: str | None = None) -> int:
        """How many runs there are (only `owner`'s when one is given): the page's number of pages."""
        where, args = _owner_clause(owner)
        with self._connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs {where}", args).fetchone()[0])

    def active_count(self, owner: str | None = None, *, in_flight: bool = False) -> int:
        """Runs that are not final (only `owner`'s when one is given), so the page polls only while
        one may still change. `in_flight`: only those a process is working on right now, leaving out
        interrupted runs, which change only when someone resumes them."""
        statuses = [s.value for s in (IN_FLIGHT if in_flight else ACTIVE)]
        where, args = _owner_clause(owner)
        marks = ", ".join("?" * len(statuses))
        where = f"{where} AND status IN ({marks})" if where else f"WHERE status IN ({marks})"
        with self._connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs {where}", [*args, *statuses]).fetchone()[0])

    def batch(self, batch_id: str) -> list[Run]:
        """The runs of a batch that are still kept, in the batch's order."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM runs WHERE batch_id = ? ORDER BY batch_index", (batch_id,)
            ).fetchall()
        return [_to_run(row) for row in rows]

    def events(self, run_id: str) -> list[RunEvent]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT at, state, detail FROM run_events WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [RunEvent(row["at"], row["state"], row["detail"]) for row in rows]

    def unfinished(self) -> list[Run]:
        """Runs fal has an id for but we never saw finish: maybe paid for, so they must be followed."""
        marks = ", ".join("?" * len(_ACTIVE))
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM runs WHERE status IN ({marks}) AND request_id IS NOT NULL ORDER BY created_at",
                _ACTIVE,
            ).fetchall()
        return [_to_run(row) for row in rows]

    def server_spend_since(self, since: float) -> float:
        """What the server's key has committed to since `since`: runs sent to fal, and runs on their
        way there (their reservation)."""
        with self._connect() as conn:
            return _reserved_since(conn, since)

    def delete(self, run_id: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)

    # -- the upload cache ---------------------------------------------------------------------------

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


@dataclass(frozen=True)
class VisitorLimits:
    """What one visitor may do on the server's key: runs going at once, runs started per hour."""

    active: int | None = None
    per_hour: int | None = None

    def check(self, conn: sqlite3.Connection, owner: str, now: float, runs: int = 1) -> None:
        """Refuse `runs` new runs (a batch's, together) that would pass a limit."""
        if self.active is not None:
            marks = ", ".join("?" * len(IN_FLIGHT))
            going = conn.execute(
                f"SELECT COUNT(*) FROM runs WHERE owner = ? AND key_source = 'server' AND status IN ({marks})",
                (owner, *(s.value for s in IN_FLIGHT)),
            ).fetchone()[0]
            if going + runs > self.active:
                raise VisitorLimitError.active(self.active, going, runs)
        if self.per_hour is not None:
            started = conn.execute(
                "SELECT COUNT(*) FROM runs WHERE owner = ? AND key_source = 'server' AND created_at >= ?",
                (owner, now - 3600),
            ).fetchone()[0]
            if started + runs > self.per_hour:
                raise VisitorLimitError.hourly(self.per_hour, started, runs)


def _reserved_since(conn: sqlite3.Connection, since: float) -> float:
    """A server-key run counts unless it ended without ever reaching fal (nothing can be billed)."""
    final = ", ".join("?" * len(_FINAL))
    row = conn.execute(
        "SELECT COALESCE(SUM(estimated_cost), 0) FROM runs WHERE key_source = 'server' AND created_at >= ? "
        f"AND NOT (request_id IS NULL AND status IN ({final}) AND status != 'unknown')",
        (since, *_FINAL),
    ).fetchone()
    return float(row[0])


def _owner_clause(owner: str | None) -> tuple[str, list[object]]:
    return ("WHERE owner = ?", [owner]) if owner is not None else ("", [])


def _encoded(values: dict[str, object]) -> dict[str, object]:
    """`values` as columns: the lists of `_JSON_LISTS` as JSON text."""
    return {
        name: json.dumps(list(value)) if name in _JSON_LISTS and isinstance(value, list | tuple) else value
        for name, value in values.items()
    }


def _to_run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["keep_sound"] = bool(data["keep_sound"])
    for name in _JSON_LISTS:
        data[name] = tuple(json.loads(data[name] or "[]"))
    return Run(**data)
