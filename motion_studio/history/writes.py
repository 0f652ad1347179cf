"""Writing the history: creating runs (against the daily budget and visitors' limits, in one
transaction), moving them through their lifecycle, storing their facts, and deleting them.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections import Counter
from dataclasses import asdict

from ..errors import BudgetError, RunGoneError, StudioError
from ..lifecycle import FINAL, Status, check_move
from .database import Database
from .leasing import Leasing
from .limits import VisitorLimits, reserved_since
from .queries import Queries
from .rows import COLUMNS, encoded
from .runs import Run


class Writes:
    """Every change to a run's row and timeline; a new or refilled run takes its lease from `leasing`."""

    def __init__(self, db: Database, queries: Queries, leasing: Leasing) -> None:
        self._db = db
        self._queries = queries
        self._leasing = leasing

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
            run.lease_until = self._leasing.expiry(holder, now)
        rows = [encoded(asdict(run)) for run in runs]
        with self._db.locked() as conn:
            if visitor_limits is not None:  # a run without an owner counts as one visitor: "anonymous"
                for run in runs:
                    run.owner = run.owner or "anonymous"
                for owner, count in Counter(run.owner for run in runs).items():
                    cost = sum(run.estimated_cost or 0.0 for run in runs if run.owner == owner)
                    visitor_limits.check(conn, owner or "anonymous", now, runs=count, cost=cost)
            if daily_budget is not None:
                spent = reserved_since(conn, now - 86400)
                cost = sum(run.estimated_cost or 0.0 for run in runs)
                if spent + cost > daily_budget + 1e-9:
                    raise BudgetError.daily(daily_budget, spent, cost, runs=len(runs))
            for run, row in zip(runs, rows, strict=True):
                conn.execute(
                    f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                    [row[c] for c in COLUMNS],
                )
                conn.execute(
                    "INSERT INTO run_events (run_id, at, state) VALUES (?, ?, ?)", (run.id, now, run.status)
                )
        return runs

    def fill_reserved(self, run_id: str, run: Run, holder: str | None) -> Run:
        """Write `run`'s facts into the row reserved for it (a batch's: `create_many` reserved it),
        keeping what the reservation decided: its id, creation time, status, owner and place in the
        batch. Nothing is checked again: the batch was checked whole. Gone (deleted, or no longer
        waiting to be checked): `RunGoneError`."""
        now = time.time()
        kept = {"id", "created_at", "status", "owner", "batch_id", "batch_index", "batch_size"}
        values = {name: value for name, value in asdict(run).items() if name not in kept}
        values.update(updated_at=now, lease_holder=holder, lease_until=self._leasing.expiry(holder, now))
        values = encoded(values)
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._db.locked() as conn:
            done = conn.execute(
                f"UPDATE runs SET {assignments} WHERE id = ? AND status = ?",
                [*values.values(), run_id, Status.CHECKING.value],
            )
            if done.rowcount != 1:
                raise RunGoneError()
        filled = self._queries.get(run_id)
        if filled is None:
            raise RunGoneError()
        return filled

    def update(self, run_id: str, **values: object) -> None:
        """Store facts about a run (paths, URLs) that do not change its status."""
        unknown = set(values) - set(COLUMNS)
        if unknown or "status" in values:
            raise ValueError(f"unknown or status fields: {sorted(unknown | ({'status'} & set(values)))}")
        values = encoded({**values, "updated_at": time.time()})
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._db.connect() as conn:
            conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values.values(), run_id])

    def record(self, run_id: str, state: Status | str, detail: str = "", **values: object) -> None:
        """Move a run to `state` (refused unless the lifecycle allows it), add it to the timeline and
        store `values`, in one transaction."""
        state = Status(state)
        now = time.time()
        with self._db.locked() as conn:
            row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunGoneError()
            check_move(row["status"], state)
            values.update(status=state.value, updated_at=now)
            if state in FINAL:
                values.update(lease_holder=None, lease_until=None)
            values = encoded(values)
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

    def delete(self, run_id: str) -> None:
        with self._db.connect() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self._db.runs_dir / run_id, ignore_errors=True)
