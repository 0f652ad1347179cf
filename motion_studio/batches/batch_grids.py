"""A batch's grid (every result side by side in one video): made once when the batch has ended,
kept in the batch's folder in the data directory, and named as a run's downloads are."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from ..history.runs import Run
from ..history.store import History
from ..lifecycle import IN_FLIGHT, Status
from ..media.grid_video import comparison_grid
from ..serving import servable_as
from ..settings import Settings
from .progress import BATCH_ID


class BatchGrids:
    """Makes and finds the grids of an app's batches (one per `Batches`)."""

    def __init__(self, settings: Settings, history: History) -> None:
        self.settings = settings
        self.history = history
        self._lock = threading.Lock()  # two pages finishing the same batch make its grid once

    def file(self, batch_id: str) -> Path | None:
        """Every result of the batch side by side in one video, made once (kept in the batch's folder
        in the data directory) when no run is going any more and at least two are done."""
        if not BATCH_ID.fullmatch(batch_id):
            return None
        runs = self.history.reads.batch(batch_id)
        if not runs or any(Status(run.status) in IN_FLIGHT for run in runs):
            return None
        done = [
            run
            for run in runs
            if run.status == Status.DONE and run.output_path and Path(run.output_path).is_file()
        ]
        if len(done) < 2:
            return None
        outputs = [Path(run.output_path or "") for run in done]
        with self._lock:
            return comparison_grid(outputs, self.path(batch_id), _model_labels(runs, done))

    def path(self, batch_id: str) -> Path:
        return self.settings.batch_dir(batch_id) / "grid.mp4"

    def made(self, batch_id: str | None) -> str | None:
        """The batch's grid as the page may show it, if it was made already (nothing is made here)."""
        if not batch_id or not BATCH_ID.fullmatch(batch_id):
            return None
        return servable_as(self.path(batch_id), grid_download_name(batch_id))


def _model_labels(runs: list[Run], done: list[Run]) -> list[str] | None:
    """A comparison's cells name the model each result came from (its runs' models differ); a batch's
    cells need no label (the gallery's order says which input each is)."""
    if len({run.options.model for run in runs}) < 2:
        return None
    return [run.options.ran_as for run in done]


def grid_download_name(batch_id: str) -> str:
    """`motion-<date>-<batch>-grid.mp4`, as a run's downloads are named (the id's random tail)."""
    day = datetime.strptime(batch_id[:8], "%Y%m%d").strftime("%Y-%m-%d")
    return f"motion-{day}-{batch_id.rsplit('-', 1)[-1][:8]}-grid.mp4"
