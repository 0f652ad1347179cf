"""The job runner: one event loop in a thread (anyio's `BlockingPortal`) that owns every run.

A run does not live in a browser request or a CLI call: those only *subscribe* to its job. So a
closed tab or a dropped connection never stops a paid run. Every job runs under `_supervise`, which
guarantees that, whatever is raised, the job publishes exactly one terminal event and its run row
rests in the matching status. `shutdown()` cancels and awaits every job (their runs rest as
interrupted or stopped, never lost) and closes every fal client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import anyio
import anyio.to_thread
from anyio.from_thread import start_blocking_portal
from pydantic import SecretStr

from .. import leases, serving
from ..errors import FollowerStoppedError, InternalError, StudioError
from ..fal_service import FalService
from ..history import History, Run
from ..lifecycle import FINAL, IN_FLIGHT, Status
from ..settings import Settings
from .ahead import UploadsAhead
from .clients import ClientPool
from .events import Cancelled, Failed, JobEvent
from .job import Job, JobSpec
from .outcome import Outcome, outcome_for
from .pipeline import Pipeline, ended_elsewhere, off_loop
from .turns import BatchTurns

log = logging.getLogger("motion_studio.jobs")
MAX_JOBS = 200
SWEEP_SECONDS = 60.0


class JobRunner:
    def __init__(self, settings: Settings, history: History) -> None:
        self.settings = settings
        self.history = history
        self.holder = leases.new_holder()
        self.pipeline = Pipeline(settings, history, self.holder)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()  # jobs are started from Gradio's worker threads too
        self._clients = ClientPool(settings, history)
        self._closed = False
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal(name="motion-studio-jobs"))
        self._keys: dict[str, tuple[SecretStr, str]] = {}  # a live job's key, until the job ends
        self._ahead = UploadsAhead(settings, history)
        self._turns = BatchTurns(settings.batch_parallel)
        self._portal.start_task_soon(self._sweep_now_and_then)

    # -- public, thread-safe ------------------------------------------------------------------------

    def start(self, spec: JobSpec, key: SecretStr, key_source: str = "server") -> Job:
        job = Job(spec)
        if spec.slot is not None:  # a batch's run: its row exists already, leased to this runner
            job.run_id, job.phase, job.holds_lease = spec.slot.run_id, Status.CHECKING, True
        self._launch(job, lambda: self._new_run(job, key, key_source), key, key_source)
        return job

    def resume(self, run: Run, key: SecretStr, key_source: str | None = None) -> Job:
        """Follow a run fal already has (after a restart, or once fal answers again) to its end, and
        download its video; from its saved output URL when fal had already finished."""
        existing = self.job_for_run(run.id)
        if existing is not None and not existing.finished:
            return existing
        job = Job(JobSpec("", "", run.orientation, run.prompt, run.keep_sound, run.tier), run_id=run.id)
        job.request_id = run.request_id
        job.phase = Status(run.status)
        job.started_at = run.submitted_at or run.created_at
        self._launch(job, lambda: self._resume(job, run), key, key_source or run.key_source)
        return job

    def run_again(self, run: Run, key: SecretStr, key_source: str = "server") -> Job:
        """A new run with the same inputs and settings (the old run stays as it was)."""
        image, video = run.input_files()
        spec = JobSpec(
            image or "",
            video or "",
            run.orientation,
            run.prompt,
            run.keep_sound,
            run.tier,
            run.owner,
            face=run.face,
        )
        return self.start(spec, key, key_source)

    def resume_unfinished(self, key: SecretStr | None, key_source: str = "server") -> list[Job]:
        """Settle runs a crash left behind, then follow again the ones fal may still be working on."""
        self.history.sweep()
        if key is None:
            return []
        return [self.resume(run, key) for run in self.history.unfinished() if run.key_source == key_source]

    def upload_ahead(self, path: str, key: SecretStr, slot: tuple[str, str]) -> None:
        """Send a checked input to fal's storage now, so Generate only has to submit (see ahead.py)."""
        if not self._closed:
            self._portal.call(self._ahead.start, path, key, slot)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def job_for_run(self, run_id: str) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs.values() if j.run_id == run_id and not j.finished), None)

    def inputs_in_use(self) -> set[Path]:
        """The input files of every job still going: a batch's later runs read theirs only when their
        turn comes, so the scratch quota must not prune them meanwhile."""
        with self._lock:
            specs = [job.spec for job in self._jobs.values() if not job.finished]
        return {
            Path(path)
            for spec in specs
            for path in (spec.image, spec.video, spec.face.frontal, *spec.face.angles)
            if path
        }

    def cancel(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is not None and not job.finished:
            self._soon(self._cancel, job)

    def delete(self, run: Run, key: SecretStr | None) -> None:
        """Delete a run. One still on fal is cancelled there first, and its row goes when its job
        has ended, so nothing writes to a row that is gone."""
        job = self.job_for_run(run.id)
        if job is not None:
            job.delete_requested = True
            self._soon(self._cancel, job)
            return
        if run.request_id and Status(run.status) not in FINAL and key is not None:
            with contextlib.suppress(StudioError):
                self._portal.call(self._cancel_on_fal, run, key)
        self._erase(run.id)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every job and wait for it to settle its run, then close every fal client."""
        if self._closed:
            return
        self._closed = True
        try:
            self._portal.call(self._ahead.cancel_all)
            self._portal.call(self._close, timeout)
            self._portal.call(self._portal.stop, True)  # helper tasks too (a cancel's grace period)
        finally:
            self._stack.close()
            leases.retire(self.holder)

    # -- starting jobs ----------------------------------------------------------------------------------

    def _soon(self, func: Callable[[Job], Awaitable[None]], job: Job) -> None:
        if not self._closed:
            self._portal.start_task_soon(func, job)

    def _launch(
        self, job: Job, work: Callable[[], Awaitable[JobEvent]], key: SecretStr, key_source: str
    ) -> None:
        if self._closed:
            raise RuntimeError("the job runner is shut down")
        with self._lock:
            finished = [job_id for job_id, old in self._jobs.items() if old.finished]
            for job_id in finished[: max(0, len(self._jobs) - MAX_JOBS)]:
                del self._jobs[job_id]  # their story is in the history; only live jobs need a listener
            self._jobs[job.id] = job
        job.future = self._portal.start_task_soon(self._supervise, job, work, key, key_source)

    async def _new_run(self, job: Job, key: SecretStr, key_source: str) -> JobEvent:
        async with self._turns.turn(job):  # a batch's runs go to fal a few at a time (turns.py)
            run = await self.pipeline.check_and_reserve(job, key_source)
            service = self._clients.acquire(job, *self._keys[job.id])
            await self.pipeline.upload_and_submit(job, run, service)
        return await self.pipeline.follow(job, self.history.get(run.id) or run, service)

    async def _resume(self, job: Job, run: Run) -> JobEvent:
        log.info("resuming run %s (request %s)", run.id, run.request_id)
        ended = await self.pipeline.claim_or_watch(job, run.id)
        if ended is not None:
            return ended
        run = self.history.get(run.id) or run
        job.phase = Status(run.status)
        if Status(run.status) in FINAL:  # it ended between our look and our claim
            return ended_elsewhere(run)
        if Status(run.status) in IN_FLIGHT:  # its follower died: say so before following it again
            self.pipeline.move(job, Status.INTERRUPTED, FollowerStoppedError().message)
        service = self._clients.acquire(job, *self._keys[job.id])
        if run.output_url:  # fal finished before: its result may be gone, its video is not
            return await self.pipeline.fetch_output(job, run, service, run.output_url)
        return await self.pipeline.follow(job, run, service)

    async def _sweep_now_and_then(self) -> None:
        """A follower can die while this process runs (a `resume` in a terminal killed): settle its
        runs here too, not only at the next start."""
        while True:
            await anyio.sleep(SWEEP_SECONDS)
            try:
                await anyio.to_thread.run_sync(self.history.sweep)
            except Exception:
                log.exception("sweeping runs left by stopped followers failed")

    # -- the supervisor ---------------------------------------------------------------------------------

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
            return Cancelled(job.run_id)
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

    def _erase(self, run_id: str) -> None:
        """The run's row and files, and every link the page was handed to them: delete means gone."""
        self.history.delete(run_id)
        serving.withdraw(self.history.runs_dir / run_id)  # not run_dir(): it would make it again

    @property
    def session_clients(self) -> int:
        """How many visitors' keys the runner holds right now (each in a live job)."""
        return self._clients.session_keys

    # -- cancelling ---------------------------------------------------------------------------------------

    async def _cancel(self, job: Job) -> None:
        """Before submit, stop the task (an in-flight submit is shielded and finishes first). After,
        ask fal and keep following: the run ends cancelled when fal says so, or with the paid video if
        fal had already finished; if fal says nothing within the grace period, it rests interrupted."""
        job.cancel_requested = True
        if job.finished:
            if job.delete_requested and job.run_id:  # it ended while the delete was on its way
                self._erase(job.run_id)
            return
        if job.future is None:
            return
        if job.request_id is None:
            job.future.cancel()
            return
        if not job.holds_lease:  # another process follows it: ask fal; that process hears the answer
            run, key = self.history.get(job.run_id or ""), self._keys.get(job.id)
            if run is not None and key is not None:
                with contextlib.suppress(StudioError):
                    await self._cancel_on_fal(run, key[0])
            if job.delete_requested:
                job.future.cancel()  # stop watching; the row goes when this job ends
            return
        if job.phase is Status.DOWNLOADING and not job.delete_requested:
            return  # fal finished: the paid video is being copied, and is kept
        with contextlib.suppress(Exception):  # the job may have moved on meanwhile
            await self.pipeline.amove(job, Status.CANCELLING)
        if await self._cancel_quietly(job) is False and not job.delete_requested:
            return  # fal had already finished: the paid video is fetched
        with anyio.move_on_after(self.settings.cancel_grace_seconds):
            while not job.finished:  # noqa: ASYNC110 - a job's end is a threading.Event
                await anyio.sleep(0.05)
        if not job.finished:
            job.future.cancel()

    async def _cancel_quietly(self, job: Job) -> bool | None:
        """Ask fal to cancel, at most 15 s, whatever happens around. True: fal took the request;
        False: it had already finished; None: no answer."""
        run = self.history.get(job.run_id or "")
        if job.service is None or job.request_id is None or run is None:
            return None
        job.fal_cancel_sent = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(15):
            try:
                return await job.service.cancel(run.endpoint, job.request_id)
            except StudioError as exc:
                log.warning("cancel of run %s on fal failed: %s", run.id, exc.message)
        return None

    async def _cancel_on_fal(self, run: Run, key: SecretStr) -> None:
        """For a run no job follows (interrupted): ask fal to stop it before its row is deleted."""
        service = FalService(key, self.history, retry_seconds=self.settings.status_retry_seconds)
        try:
            with anyio.move_on_after(15):
                await service.cancel(run.endpoint, run.request_id or "")
        finally:
            await service.aclose()

    async def _close(self, grace: float) -> None:
        with self._lock:
            jobs = [job for job in self._jobs.values() if not job.finished]
        for job in jobs:
            if job.future is not None:
                job.future.cancel()
        with anyio.move_on_after(grace):
            while not all(job.finished for job in jobs):  # noqa: ASYNC110 - a job's end is a threading.Event
                await anyio.sleep(0.02)
        await self._clients.close()
