"""How a job writes its run's row: every status move checked against the lifecycle and remembered on
the job, every commit in a worker thread.

A step records the run's new status before it does the work the status names, so a crash at any
point leaves a row that tells the truth.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from ..history.store import History
from ..lifecycle import Status
from .job import Job

T = TypeVar("T")


async def off_loop(func: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run `func` (a SQLite commit, an fsync each) in a worker thread: with many runs at once, the
    loop that streams every run's bytes must not wait on the disk. Never abandoned on cancel: a
    write that started finishes before the cancel lands, so the row still tells the truth."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))


def move(history: History, job: Job, status: Status, detail: str = "", **values: object) -> None:
    """Record the run's new status (the history refuses an illegal one) and remember it on the job."""
    assert job.run_id is not None
    history.writes.record(job.run_id, status, detail, **values)
    job.phase = status


async def amove(history: History, job: Job, status: Status, detail: str = "", **values: object) -> None:
    """`move`, its commit in a worker thread (see `off_loop`)."""
    await off_loop(move, history, job, status, detail, **values)
