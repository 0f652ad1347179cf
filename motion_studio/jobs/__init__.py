"""Background jobs: a run's events, the job that carries them, its steps, and the runner."""

from __future__ import annotations

from .events import (
    Cancelled,
    Checked,
    Done,
    Downloaded,
    Downloading,
    Failed,
    JobEvent,
    Queued,
    Running,
    Uploading,
    Watching,
)
from .job import Job
from .outcome import Outcome, outcome_for
from .runner import JobRunner
from .watching import watch

__all__ = [
    "Cancelled",
    "Checked",
    "Done",
    "Downloaded",
    "Downloading",
    "Failed",
    "Job",
    "JobEvent",
    "JobRunner",
    "Outcome",
    "Queued",
    "Running",
    "Uploading",
    "Watching",
    "outcome_for",
    "watch",
]
