"""Deleting a run for good: its row and files, its batch's grid, and every link the page was handed
to them."""

from __future__ import annotations

import shutil

from .. import serving
from ..history.store import History
from ..settings import Settings


def erase(history: History, settings: Settings, run_id: str) -> None:
    """The run's row and files, its batch's grid (which shows its video; made again from the
    results left), and every link the page was handed to them: delete means gone. Files go
    before links, so a link made meanwhile finds nothing to link."""
    run = history.reads.get(run_id)
    history.writes.delete(run_id)
    serving.withdraw(history.db.runs_dir / run_id)  # not run_dir(): it would make it again
    if run is not None and run.batch_id:
        grid = settings.batch_dir(run.batch_id)
        shutil.rmtree(grid, ignore_errors=True)
        serving.withdraw(grid)
