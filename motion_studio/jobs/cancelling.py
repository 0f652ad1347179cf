"""Cancelling a job. Before submit its task stops; after, fal is asked to stop the request and the job
follows on until fal says how the run ended, so a run fal had already finished keeps its paid video.

A cancel must never orphan a request fal accepted, nor throw away a video the user paid for.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import anyio
from pydantic import SecretStr

from ..errors import StudioError
from ..fal_service import FalService
from ..history.runs import Run
from ..history.store import History
from ..lifecycle import Status
from ..settings import Settings
from .job import Job
from .recording import amove, off_loop

log = logging.getLogger("motion_studio.jobs")


class Canceller:
    """Runs on the runner's event loop. `keys`: each live job's key and its source (the runner's
    table, filled while a job runs); `erase`: deletes a run for good (erasing.py)."""

    def __init__(
        self,
        settings: Settings,
        history: History,
        keys: dict[str, tuple[SecretStr, str]],
        erase: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.history = history
        self._keys = keys
        self._erase = erase

    async def cancel(self, job: Job) -> None:
        """Before submit, stop the task (an in-flight submit is shielded and finishes first). After,
        ask fal and keep following: the run ends cancelled when fal says so, or with the paid video if
        fal had already finished; if fal says nothing within the grace period, it rests interrupted."""
        job.cancel_requested = True
        if job.finished:
            if job.delete_requested and job.run_id:  # it ended while the delete was on its way
                await off_loop(self._erase, job.run_id)
            return
        if job.future is None:
            return
        if job.request_id is None:
            job.future.cancel()
            return
        if not job.holds_lease:  # another process follows it: ask fal; that process hears the answer
            run, key = self.history.reads.get(job.run_id or ""), self._keys.get(job.id)
            if run is not None and key is not None:
                with contextlib.suppress(StudioError):
                    await self.cancel_on_fal(run, key[0])
            if job.delete_requested:
                job.future.cancel()  # stop watching; the row goes when this job ends
            return
        if job.phase is Status.DOWNLOADING and not job.delete_requested:
            return  # fal finished: the paid video is being copied, and is kept
        with contextlib.suppress(Exception):  # the job may have moved on meanwhile
            await amove(self.history, job, Status.CANCELLING)
        if await ask_fal_to_cancel(job, self.history) is False and not job.delete_requested:
            return  # fal had already finished: the paid video is fetched
        with anyio.move_on_after(self.settings.cancel_grace_seconds):
            while not job.finished:  # noqa: ASYNC110 - a job's end is a threading.Event
                await anyio.sleep(0.05)
        if not job.finished:
            job.future.cancel()

    async def cancel_on_fal(self, run: Run, key: SecretStr) -> None:
        """For a run no job follows (interrupted): ask fal to stop it before its row is deleted."""
        service = FalService(key, self.history, retry_seconds=self.settings.status_retry_seconds)
        try:
            with anyio.move_on_after(15):
                await service.cancel(run.endpoint, run.request_id or "")
        finally:
            await service.aclose()


async def ask_fal_to_cancel(job: Job, history: History) -> bool | None:
    """Ask fal to cancel the job's request, at most 15 s, whatever happens around. True: fal took
    the request; False: it had already finished; None: no answer."""
    run = history.reads.get(job.run_id or "")
    if job.service is None or job.request_id is None or run is None:
        return None
    job.fal_cancel_sent = True
    with anyio.CancelScope(shield=True), anyio.move_on_after(15):
        try:
            return await job.service.cancel(run.endpoint, job.request_id)
        except StudioError as exc:
            log.warning("cancel of run %s on fal failed: %s", run.id, exc.message)
    return None
