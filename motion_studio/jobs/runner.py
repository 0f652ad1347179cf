"""The job runner: one event loop in a thread (anyio's `BlockingPortal`) that owns every run.

A run does not live in a browser request or a CLI call: those only *subscribe* to its job. So a
closed tab or a dropped connection never stops a paid run. Every job runs under `_supervise`
(supervisor.py), which guarantees that, whatever is raised, the job publishes exactly one terminal
event and its run row rests in the matching status. `shutdown()` cancels and awaits every job (their
runs rest as interrupted or stopped, never lost) and closes every fal client. Cancelling a job is in
cancelling.py.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import anyio
import anyio.to_thread
from anyio.from_thread import start_blocking_portal
from pydantic import SecretStr

from .. import leases, serving
from ..errors import FollowerStoppedError, StudioError
from ..history.runs import Run
from ..history.store import History
from ..lifecycle import FINAL, IN_FLIGHT, Status
from ..settings import Settings
from .ahead import UploadsAhead
from .cancelling import Cancelling
from .clients import ClientPool
from .events import JobEvent
from .job import Job, JobSpec
from .pipeline import Pipeline, ended_elsewhere
from .supervisor import Supervising
from .turns import BatchTurns

log = logging.getLogger("motion_studio.jobs")
MAX_JOBS = 200
SWEEP_SECONDS = 60.0


class JobRunner(Supervising, Cancelling):
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

    # -- erasing and closing ----------------------------------------------------------------------------

    def _erase(self, run_id: str) -> None:
        """The run's row and files, its batch's grid (which shows its video; made again from the
        results left), and every link the page was handed to them: delete means gone. Files go
        before links, so a link made meanwhile finds nothing to link."""
        run = self.history.get(run_id)
        self.history.delete(run_id)
        serving.withdraw(self.history.runs_dir / run_id)  # not run_dir(): it would make it again
        if run is not None and run.batch_id:
            grid = self.settings.batch_dir(run.batch_id)
            shutil.rmtree(grid, ignore_errors=True)
            serving.withdraw(grid)

    @property
    def session_clients(self) -> int:
        """How many visitors' keys the runner holds right now (each in a live job)."""
        return self._clients.session_keys

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
