"""A batch once started: what the process keeps of it, and where its runs are as the page follows
them (read from their rows, so a batch survives a restart)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from ..history.runs import Run
from ..jobs.job import Job
from ..lifecycle import IN_FLIGHT, Status

BATCH_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{32}")


@dataclass(frozen=True)
class Batch:
    """A batch that started: its id, and each run's id and job, in the batch's order."""

    id: str
    run_ids: tuple[str, ...]
    jobs: tuple[Job, ...]


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch's runs are, read from their rows; `waiting`: runs still waiting for their turn."""

    batch_id: str
    runs: tuple[Run, ...]
    waiting: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return max((r.batch_size or 0 for r in self.runs), default=len(self.runs))

    @property
    def done(self) -> int:
        return sum(r.status == Status.DONE for r in self.runs)

    @property
    def settled(self) -> bool:
        """No run is being worked on any more (each done, failed, cancelled, or waiting for Resume)."""
        return all(Status(r.status) not in IN_FLIGHT for r in self.runs)

    @property
    def sent(self) -> bool:
        """Every run has reached fal or ended: the page may take a new Generate."""
        return all(r.request_id or Status(r.status) not in IN_FLIGHT for r in self.runs)

    @property
    def started_at(self) -> float:
        return min((r.created_at for r in self.runs), default=time.time())
