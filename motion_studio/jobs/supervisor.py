"""The supervisor every job runs under: whatever its work raises, the job publishes exactly one
terminal event and its run row rests in the matching status; then its lease, its key and its fal
client are let go, and its run is deleted if that was asked.

A paid run must never be left in a status that lies, nor a page wait for an end that never comes.
It is a part of `JobRunner` (runner.py), which keeps the state it uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
from pydantic import SecretStr

from ..errors import InternalError, StudioError
from ..history.store import History
from ..lifecycle import Status
from .clients import ClientPool
from .events import Cancelled, Failed, JobEvent
from .job import Job
from .outcome import Outcome, outcome_for
from .pipeline import off_loop

log = logging.getLogger("motion_studio.jobs")


class Supervising:
    """`JobRunner`'s supervisor (the attributes below are the runner's)."""

    history: History
    holder: str
    _keys: dict[str, tuple[SecretStr, str]]
    _clients: ClientPool

    if TYPE_CHECKING:  # the runner's, see cancelling.py and runner.py

        async def _cancel_quietly(self, job: Job) -> bool | None: ...

        def _erase(self, run_id: str) -> None: ...

    async def _supervise(
        self, job: Job, work: Callable[[], Awaitable[JobEvent]], key: SecretStr, key_source: str
    ) -> None:
        """Run `work`; whatever it raises, settle the run and publish exactly one terminal event."""
        self._keys[job.id] = (key, key_source)
        event: JobEvent | None = None
        try:
            event = await work()
        except BaseException as exc:  # every end is settled; only non-errors (Ctrl-C) go on up
            phase = job.phase
            if job.request_id and phase in (Status.CHECKING, Status.UPLOADING, Status.SUBMITTING):
                phase = Status.SUBMITTED  # fal answered with an id before the move was recorded
            outcome = outcome_for(exc, job.cancel_requested, phase)
            if outcome.unexpected:
                log.error("run %s failed unexpectedly", job.run_id or "(not created)", exc_info=exc)
            with anyio.CancelScope(shield=True):
                event = await self._settle(job, outcome)
            if not isinstance(exc, Exception | asyncio.CancelledError):
                raise
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self._after(job)
                except Exception:
                    log.exception("run %s: cleaning up after its job failed", job.run_id)
            job.publish(event or Failed(job.run_id, kind="internal", message=InternalError(True).message))

    async def _settle(self, job: Job, outcome: Outcome) -> JobEvent:
        """Write the run's resting status (when this job follows it) and build the terminal event."""
        error = outcome.error
        stop_on_fal = (outcome.status is Status.CANCELLED and job.cancel_requested) or (
            outcome.status is None and job.run_id is not None  # deleted while fal had it
        )
        if stop_on_fal and job.request_id and job.holds_lease and not job.fal_cancel_sent:
            await self._cancel_quietly(job)  # cancelled (or deleted) while fal has it: stop it there
        if outcome.status is not None and job.run_id and job.holds_lease:
            try:
                if job.phase is not outcome.status or outcome.status is Status.INTERRUPTED:
                    await off_loop(self.history.end, job.run_id, outcome.status, error)
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
                await off_loop(self.history.release, job.run_id, self.holder)
            if job.delete_requested and job.run_id:
                await off_loop(self._erase, job.run_id)
        finally:
            await self._clients.release(job)
