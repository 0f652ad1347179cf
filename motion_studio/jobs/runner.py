"""The job runner: one event loop in a thread (anyio's `BlockingPortal`) that owns every run.

A run does not live in a browser request or a CLI call: those only *subscribe* to its job. So a
closed tab or a dropped connection never stops a paid run. Every job runs as its supervisor's `run`
(supervisor.py), which guarantees that, whatever is raised, the job publishes exactly one terminal
event and its run row rests in the matching status. `shutdown()` cancels and awaits every job (their
runs rest as interrupted or stopped, never lost) and closes every fal client. Cancelling a job is the
canceller's (cancelling.py).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from contextlib import ExitStack
from pathlib import Path

import anyio
import anyio.to_thread
from anyio.from_thread import start_blocking_portal
from pydantic import SecretStr

from .. import followers
from ..errors import RunActionError, StudioError
from ..history.runs import Run
from ..history.store import History
from ..lifecycle import FINAL, Status
from ..order import FaceSources, Order, Source
from ..settings import Settings
from .ahead import UploadsAhead
from .cancelling import Canceller
from .clients import ClientPool
from .erasing import erase
from .job import BatchSlot, Job
from .pipeline import Pipeline
from .reserving import Reserver
from .supervisor import Supervisor
from .turns import BatchTurns

log = logging.getLogger("motion_studio.jobs")
MAX_JOBS = 200
SWEEP_SECONDS = 60.0


class JobRunner:
    """Starts, resumes, cancels and deletes runs from any thread. Each job runs as its supervisor's
    `run` on the runner's loop; a cancel is its canceller's; both share the live jobs' keys."""

    def __init__(self, settings: Settings, history: History) -> None:
        self.settings = settings
        self.history = history
        self.holder = followers.new_holder()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()  # jobs are started from Gradio's worker threads too
        self._clients = ClientPool(settings, history)
        self._closed = False
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal(name="motion-studio-jobs"))
        keys: dict[str, tuple[SecretStr, str]] = {}  # a live job's key, until the job ends
        self._erase = functools.partial(erase, history, settings)
        self._supervisor = Supervisor(
            history,
            self.holder,
            Reserver(settings, history, self.holder),
            Pipeline(settings, history, self.holder),
            self._clients,
            BatchTurns(settings.batch_parallel),
            keys,
            self._erase,
        )
        self._canceller = Canceller(settings, history, keys, self._erase)
        self._ahead = UploadsAhead(settings, history)
        self._portal.start_task_soon(self._sweep_now_and_then)

    # -- public, thread-safe ------------------------------------------------------------------------

    def start(
        self,
        order: Order,
        key: SecretStr,
        key_source: str = "server",
        *,
        owner: str | None = None,
        slot: BatchSlot | None = None,
        preview_of: str | None = None,
    ) -> Job:
        """Start an order of one, its inputs local files; `slot`: the row a batch reserved for it;
        `preview_of`: the preview this full run follows."""
        job = Job(order, owner=owner, slot=slot, preview_of=preview_of)
        if slot is not None:  # a batch's run: its row exists already, leased to this runner
            job.run_id, job.phase, job.holds_lease = slot.run_id, Status.CHECKING, True
        self._launch(job, key, key_source)
        return job

    def resume(self, run: Run, key: SecretStr, key_source: str | None = None) -> Job:
        """Follow a run fal already has (after a restart, or once fal answers again) to its end, and
        download its video; from its saved output URL when fal had already finished."""
        existing = self.job_for_run(run.id)
        if existing is not None and not existing.finished:
            return existing
        job = Job(Order(run.options, ((Source(), Source()),)), run_id=run.id)  # fal has its inputs
        job.request_id = run.request_id
        job.phase = Status(run.status)
        job.started_at = run.submitted_at or run.created_at
        self._launch(job, key, key_source or run.key_source, resumed=run)
        return job

    def run_again(self, run: Run, key: SecretStr, key_source: str = "server") -> Job:
        """A new run with the same inputs and settings (the old run stays as it was)."""
        image, video = run.input_files()[0], run.given_clip()
        face = FaceSources.of_files(run.face)
        order = Order(run.options, ((Source(image or ""), Source(video or "")),), face)
        return self.start(order, key, key_source, owner=run.owner)

    def run_full(self, preview: Run, key: SecretStr, key_source: str = "server") -> Job:
        """A preview's full run: its options on the chosen model, its image (whose upload is reused
        while fal keeps it) and the whole clip it kept."""
        if not preview.is_preview or not preview.full_clip_path or not Path(preview.full_clip_path).exists():
            raise RunActionError.no_full_clip()
        image, _ = preview.input_files()
        options = preview.options.model_copy(update={"preview": False})
        order = Order(
            options,
            ((Source(image or ""), Source(preview.full_clip_path)),),
            FaceSources.of_files(preview.face),
        )
        return self.start(order, key, key_source, owner=preview.owner, preview_of=preview.id)

    def resume_unfinished(self, key: SecretStr | None, key_source: str = "server") -> list[Job]:
        """Settle runs a crash left behind, then follow again the ones fal may still be working on."""
        self.history.leases.sweep()
        if key is None:
            return []
        return [
            self.resume(run, key) for run in self.history.reads.unfinished() if run.key_source == key_source
        ]

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
            orders = [job.order for job in self._jobs.values() if not job.finished]
        return {
            Path(path)
            for order in orders
            for path in (order.image.file, order.video.file, *order.face.outline().images)
            if path
        }

    @property
    def session_clients(self) -> int:
        """How many visitors' keys the runner holds right now (each in a live job)."""
        return self._clients.session_keys

    def cancel(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is not None and not job.finished:
            self._cancel_soon(job)

    def delete(self, run: Run, key: SecretStr | None) -> None:
        """Delete a run. One still on fal is cancelled there first, and its row goes when its job
        has ended, so nothing writes to a row that is gone."""
        job = self.job_for_run(run.id)
        if job is not None:
            job.delete_requested = True
            self._cancel_soon(job)
            return
        if run.request_id and Status(run.status) not in FINAL and key is not None:
            with contextlib.suppress(StudioError):
                self._portal.call(self._canceller.cancel_on_fal, run, key)
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
            followers.retire(self.holder)

    # -- starting and cancelling jobs ----------------------------------------------------------------------------------

    def _cancel_soon(self, job: Job) -> None:
        if not self._closed:
            self._portal.start_task_soon(self._canceller.cancel, job)

    def _launch(self, job: Job, key: SecretStr, key_source: str, resumed: Run | None = None) -> None:
        if self._closed:
            raise RuntimeError("the job runner is shut down")
        with self._lock:
            finished = [job_id for job_id, old in self._jobs.items() if old.finished]
            for job_id in finished[: max(0, len(self._jobs) - MAX_JOBS)]:
                del self._jobs[job_id]  # their story is in the history; only live jobs need a listener
            self._jobs[job.id] = job
        job.future = self._portal.start_task_soon(self._supervisor.run, job, key, key_source, resumed)

    async def _sweep_now_and_then(self) -> None:
        """A follower can die while this process runs (a `resume` in a terminal killed): settle its
        runs here too, not only at the next start."""
        while True:
            await anyio.sleep(SWEEP_SECONDS)
            try:
                await anyio.to_thread.run_sync(self.history.leases.sweep)
            except Exception:
                log.exception("sweeping runs left by stopped followers failed")

    # -- closing ------------------------------------------------------------------------------------------

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
