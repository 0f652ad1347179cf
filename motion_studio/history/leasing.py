"""A run's lease in the database: one follower per run across processes, and the sweep that settles
runs whose follower died."""

from __future__ import annotations

import logging
import time

from .. import followers
from ..errors import (
    FollowerStoppedError,
    RunGoneError,
    StoppedBeforeSubmitError,
    StudioError,
    SubmitUnconfirmedError,
)
from ..lifecycle import BEFORE_SUBMIT, FINAL, IN_FLIGHT, Status, check_move
from .database import Database
from .queries import Queries
from .runs import Run

log = logging.getLogger("motion_studio.history")


class Leasing:
    """The leases of the runs in `db`, each good for `lease_seconds` unless its holder renews it."""

    def __init__(self, db: Database, queries: Queries, lease_seconds: float) -> None:
        self._db = db
        self._queries = queries
        self.lease_seconds = lease_seconds

    def expiry(self, holder: str | None, now: float) -> float | None:
        """When a lease taken by `holder` at `now` runs out; none without a holder."""
        return now + self.lease_seconds if holder else None

    def claim(self, run_id: str, holder: str) -> bool:
        """Take the run's lease if nobody else holds a live one; renew it if `holder` has it."""
        now = time.time()
        with self._db.locked() as conn:
            row = conn.execute(
                "SELECT lease_holder, lease_until FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise RunGoneError()
            current = row["lease_holder"]
            if current != holder and followers.lease_is_live(current, row["lease_until"], now):
                return False
            conn.execute(
                "UPDATE runs SET lease_holder = ?, lease_until = ? WHERE id = ?",
                (holder, now + self.lease_seconds, run_id),
            )
            return True

    def release(self, run_id: str, holder: str) -> None:
        with self._db.connect() as conn:
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
        with self._db.connect() as conn:
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
                    swept.append(self._queries.get(run_id))
            except Exception:  # one odd row must not stop the app from starting
                log.exception("could not settle run %s", run_id)
        return [run for run in swept if run is not None]

    def _settle_orphan(self, run_id: str) -> bool:
        now = time.time()
        with self._db.locked() as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or Status(row["status"]) not in IN_FLIGHT:
                return False
            if followers.lease_is_live(row["lease_holder"], row["lease_until"], now):
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
        return followers.lease_is_live(run.lease_holder, run.lease_until, time.time())
