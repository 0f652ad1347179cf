"""What may be spent on the server's key: a visitor's limits, and the money already reserved."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..errors import VisitorLimitError
from ..lifecycle import FINAL, IN_FLIGHT

_FINAL = tuple(s.value for s in FINAL)


@dataclass(frozen=True)
class VisitorLimits:
    """What one visitor may do on the server's key: runs going at once, runs started per hour, dollars
    (by the runs' estimates) in 24 hours."""

    active: int | None = None
    per_hour: int | None = None
    daily: float | None = None  # dollars in 24 hours, by the runs' estimates

    def check(
        self, conn: sqlite3.Connection, owner: str, now: float, runs: int = 1, cost: float = 0.0
    ) -> None:
        """Refuse `runs` new runs (a batch's, together, estimated at `cost`) that would pass a limit."""
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
        if self.daily is not None:
            spent = reserved_since(conn, now - 86400, owner)
            if spent + cost > self.daily + 1e-9:
                raise VisitorLimitError.daily(self.daily, spent, cost)


def reserved_since(conn: sqlite3.Connection, since: float, owner: str | None = None) -> float:
    """A server-key run counts unless it ended without ever reaching fal (nothing can be billed);
    `owner`: only that visitor's runs."""
    final = ", ".join("?" * len(_FINAL))
    whose = "AND owner = ? " if owner is not None else ""
    row = conn.execute(
        "SELECT COALESCE(SUM(estimated_cost), 0) FROM runs WHERE key_source = 'server' AND created_at >= ? "
        f"{whose}AND NOT (request_id IS NULL AND status IN ({final}) AND status != 'unknown')",
        (since, *((owner,) if owner is not None else ()), *_FINAL),
    ).fetchone()
    return float(row[0])
