"""The supervisor every job runs under. Its `run` is the whole of a job, top to bottom: check,
reserve, upload, submit, follow, download (or, for a run fal already has, take over, follow,
download). Whatever is raised, the run rests in a status that tells the truth and the job publishes
exactly one terminal event; then its lease, its key and its fal client are let go, and its run is
deleted if that was asked.

A paid run must never be left in a status that lies, nor a page wait for an end that never comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import anyio
from pydantic import SecretStr

from ..errors import InternalError, StudioError
from ..fal_service import FalOutput
from ..history.runs import Run
from ..history.store import History
from ..lifecycle import Status
from .cancelling import ask_fal_to_cancel
from .clients import ClientPool
from .events import Cancelled, Failed, JobEvent
from .job import Job
from .outcome import Outcome, outcome_for
from .pipeline import Pipeline
from .recording import off_loop
from .reserving import Reserver
from .turns import BatchTurns

log = logging.getLogger("motion_studio.jobs")


class Supervisor:
    """Runs on the runner's event loop. `keys`: each live job's key and its source, kept here while
    the job runs (the canceller reads it); `erase`: deletes a run for good (erasing.py)."""

    def __init__(
        self,
        history: History,
        holder: str,
        reserver: Reserver,
        pipeline: Pipeline,
        clients: ClientPool,
        turns: BatchTurns,
        keys: dict[str, tuple[SecretStr, str]],
        erase: Callable[[str], None],
    ) -> None:
        self.history = history
        self.holder = holder
        self._reserver = reserver
        self._pipeline = pipeline
        self._clients = clients
        self._turns = turns
        self._keys = keys
        self._erase = erase

    async def run(self, job: Job, key: SecretStr, key_source: str, resumed: Run | None = None) -> None:
        """The job, from its first check to its video. `resumed`: a run fal already has, followed
        again to its end (its video fetched from its saved output URL when fal had finished)."""
        self._keys[job.id] = (key, key_source)
        event: JobEvent | None = None
        try:
            if resumed is None:
                async with self._turns.turn(job, job.slot):  # a batch's runs go to fal a few at a time
                    checked = await self._reserver.check(job, key_source)
                    run = await self._reserver.reserve(job, checked)
                    service = self._clients.acquire(job, key, key_source)
                    uploaded = await self._pipeline.upload(job, run, service)
                    await self._pipeline.submit(job, run, service, uploaded)
                run = self.history.reads.get(run.id) or run
            else:
                taken = await self._pipeline.take_over(job, resumed)
                if isinstance(taken, JobEvent):  # it ended elsewhere
                    event = taken
                    return
                run, service = taken, self._clients.acquire(job, key, key_source)
            # A run fal finished before has its output URL saved (and what fal told with it): its result
            # may be gone, its video is not.
            if run.output_url:
                result = FalOutput(run.output_url, run.returned)
            else:
                result = await self._pipeline.follow(job, run, service)
            event = await self._pipeline.download(job, run, service, result)
        except BaseException as exc:  # every end is settled; only non-errors (Ctrl-C) go on up
            with anyio.CancelScope(shield=True):
                event = await self._settle(job, self._outcome(job, exc))
            if not isinstance(exc, Exception | asyncio.CancelledError):
                raise
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self._after(job)
                except Exception:
                    log.exception("run %s: cleaning up after its job failed", job.run_id)
            job.publish(event or Failed(job.run_id, kind="internal", message=InternalError(True).message))

    @staticmethod
    def _outcome(job: Job, exc: BaseException) -> Outcome:
        """How the job ends, given what it raised and where its run was."""
        phase = job.phase
        if job.request_id and phase in (Status.CHECKING, Status.UPLOADING, Status.SUBMITTING):
            phase = Status.SUBMITTED  # fal answered with an id before the move was recorded
        outcome = outcome_for(exc, job.cancel_requested, phase)
        if outcome.unexpected:
            log.error("run %s failed unexpectedly", job.run_id or "(not created)", exc_info=exc)
        return outcome

    async def _settle(self, job: Job, outcome: Outcome) -> JobEvent:
        """Write the run's resting status (when this job follows it) and build the terminal event."""
        error = outcome.error
        stop_on_fal = (outcome.status is Status.CANCELLED and job.cancel_requested) or (
            outcome.status is None and job.run_id is not None  # deleted while fal had it
        )
        if stop_on_fal and job.request_id and job.holds_lease and not job.fal_cancel_sent:
            await ask_fal_to_cancel(job, self.history)  # cancelled (or deleted) while fal has it
        if outcome.status is not None and job.run_id and job.holds_lease:
            try:
                if job.phase is not outcome.status or outcome.status is Status.INTERRUPTED:
                    await off_loop(self.history.writes.end, job.run_id, outcome.status, error)
            except StudioError:
                pass  # deleted meanwhile
            except Exception:
                log.exception("run %s: could not record its end (%s)", job.run_id, outcome.status)
        if outcome.status is not Status.INTERRUPTED:
            log.info("run %s ended: %s (%s)", job.run_id, outcome.status, error.kind)
        else:
            log.warning("run %s interrupted: %s", job.run_id, error.message)
        if outcome.status is Status.CANCELLED or error.kind == "cancelled":
            return Cancelled(job.run_id, sent=job.request_id is not None)
        return Failed(job.run_id, kind=error.kind, message=error.message)

    async def _after(self, job: Job) -> None:
        """Whatever happened: free the lease, let go of the key, and delete the run if asked."""
        self._keys.pop(job.id, None)
        try:
            if job.run_id and job.holds_lease:
                await off_loop(self.history.leases.release, job.run_id, self.holder)
            if job.delete_requested and job.run_id:
                await off_loop(self._erase, job.run_id)
        finally:
            await self._clients.release(job)
