"""Run history: the runs, their timeline, and the leases of whoever follows them, in SQLite."""

from __future__ import annotations

from .runs import Run, RunEvent
from .schema import MIGRATIONS
from .store import History, VisitorLimits

__all__ = ["MIGRATIONS", "History", "Run", "RunEvent", "VisitorLimits"]
