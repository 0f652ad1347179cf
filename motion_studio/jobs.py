"""The job runner: one background event loop that owns every run, whoever started it.

A job does not live in a browser request or a CLI call: those only *subscribe* to its events. So a
closed tab, a cancelled Gradio handler or a dropped connection never stops a paid run, and a run
whose request id is in the history but never finished is picked up again by `resume_unfinished`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from .catalog import format_cost, request_arguments
from .catalog import tier as get_tier
from .errors import (
    TRANSIENT_ERRORS,
    BudgetError,
    FalTimeoutError,
    LostContactError,
    RunCancelledError,
    StudioError,
    map_exception,
)
from .fal_service import FalService, StatusUpdate
from .history import History, Run
from .media import (
    ImageReport,
    VideoReport,
    check_inputs,
    ensure_playable,
    extract_thumbnail,
    prepare_inputs,
)
from .settings import Settings

log = logging.getLogger("motion_studio.jobs")
MAX_JOBS = 200
MAX_CLIENTS = 16


@dataclass(frozen=True)
class JobSpec:
    """What a user asked for; paths are local files the checks have not seen yet."""

    image: str
    video: str
    orientation: str
    prompt: str = ""
    keep_sound: bool = True
    tier: str = "pro"
    owner: str | None = None  # the browser that asked, when galleries are private


@dataclass(frozen=True)
class JobEvent:
    run_id: str | None
    at: float = field(default_factory=time.time, kw_only=True)
    terminal = False
    phase = "event"

    def describe(self) -> str:
        return self.phase


@dataclass(frozen=True)
class Checked(JobEvent):
    clip_seconds: float
    estimated_cost: float
    notes: tuple[str, ...] = ()
    phase = "checked"

    def describe(self) -> str:
        return f"Inputs checked ({self.clip_seconds:.1f} s clip, about ${self.estimated_cost:.2f})."


@dataclass(frozen=True)
class Uploading(JobEvent):
    phase = "uploading"

    def describe(self) -> str:
        return "Uploading the image and the clip to fal…"


@dataclass(frozen=True)
class Queued(JobEvent):
    position: int | None = None
    request_id: str | None = None
    phase = "queued"

    def describe(self) -> str:
        if self.position is None:
            return "Submitted to fal."
        return f"In fal's queue, position {self.position + 1}." if self.position else "Next in fal's queue."


@dataclass(frozen=True)
class Running(JobEvent):
    logs: tuple[str, ...] = ()
    phase = "running"

    def describe(self) -> str:
        return "Generating the video on fal (this usually takes several minutes)…"


@dataclass(frozen=True)
class Downloading(JobEvent):
    phase = "downloading"

    def describe(self) -> str:
        return "Downloading the result…"


@dataclass(frozen=True)
class Done(JobEvent):
    output: Path
    terminal = True
    phase = "done"

    def describe(self) -> str:
        return "Done."


@dataclass(frozen=True)
class Failed(JobEvent):
    kind: str
    message: str
    terminal = True
    phase = "failed"

    def describe(self) -> str:
        return self.message


@dataclass(frozen=True)
class Cancelled(JobEvent):
    terminal = True
    phase = "cancelled"

    def describe(self) -> str:
        return "Cancelled."


@contextlib.contextmanager
def _kept_if_fal_is_away() -> Iterator[None]:
    """After submit, fal being unreachable beyond all retries must not turn a paid run into a failure."""
    try:
        yield
    except TRANSIENT_ERRORS as exc:
        raise LostContactError(exc) from exc


class Job:
    """A run in progress: an append-only event list that any number of listeners can follow."""

    def __init__(self, spec: JobSpec, run_id: str | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.spec = spec
        self.run_id = run_id
        self.request_id: str | None = None
        self.started_at = time.time()
        self.cancel_requested = False
        self.submitting = False
        self.service: FalService | None = None
        self.task: asyncio.Task[None] | None = None
        self._events: list[JobEvent] = []
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[JobEvent]]] = []
        self._lock = threading.Lock()
        self._finished = threading.Event()

    @property
    def events(self) -> list[JobEvent]:
        with self._lock:
            return list(self._events)

    @property
    def last(self) -> JobEvent | None:
        with self._lock:
            return self._events[-1] if self._events else None

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def publish(self, event: JobEvent) -> None:
        with self._lock:
            if self._finished.is_set():
                return
            self._events.append(event)
            listeners = list(self._listeners)
            if event.terminal:
                self._finished.set()
        for loop, queue in listeners:
            # A listener whose loop is gone (tab closed) is skipped; the job goes on.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, event)

    async def subscribe(self) -> AsyncGenerator[JobEvent, None]:
        """Every event so far, then live ones, until the terminal one; safe from any event loop."""
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            backlog = list(self._events)
            self._listeners.append(entry)
        try:
            for event in backlog:
                yield event
                if event.terminal:
                    return
            while True:
                event = await queue.get()
                yield event
                if event.terminal:
                    return
        finally:
            with self._lock:
                self._listeners.remove(entry)

    def wait(self, timeout: float | None = None) -> JobEvent | None:
        self._finished.wait(timeout)
        return self.last


class JobRunner:
    def __init__(self, settings: Settings, history: History) -> None:
        self.settings = settings
        self.history = history
        self._jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()  # callers start jobs from Gradio's worker threads
        self._services: OrderedDict[str, FalService] = OrderedDict()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="motion-studio-jobs", daemon=True)
        self._thread.start()

    # -- public, thread-safe -------------------------------------------------------------------

    def start(self, spec: JobSpec, key: SecretStr, key_source: str = "server") -> Job:
        job = Job(spec)
        self._launch(job, self._run(job, key, key_source))
        return job

    def resume(self, run: Run, key: SecretStr) -> Job:
        """Follow a run fal already has (after a restart) to its end, and download its video."""
        existing = self.job_for_run(run.id)
        if existing and not existing.finished:
            return existing
        spec = JobSpec(
            run.image_path or "", run.video_path or "", run.orientation, run.prompt, run.keep_sound, run.tier
        )
        job = Job(spec, run_id=run.id)
        job.request_id = run.request_id
        job.started_at = run.submitted_at or run.created_at
        self._launch(job, self._resume(job, run, key))
        return job

    def resume_unfinished(self, key: SecretStr | None, key_source: str = "server") -> list[Job]:
        if key is None:
            return []
        return [self.resume(run, key) for run in self.history.unfinished() if run.key_source == key_source]

    def get(self, job_id: str) -> Job | None:
        with self._jobs_lock:
            return self._jobs.get(job_id)

    def job_for_run(self, run_id: str) -> Job | None:
        with self._jobs_lock:
            return next((job for job in self._jobs.values() if job.run_id == run_id), None)

    def cancel(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is not None and not job.finished:
            asyncio.run_coroutine_threadsafe(self._cancel(job), self._loop)

    def shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _launch(self, job: Job, coro: object) -> None:
        with self._jobs_lock:
            finished = [job_id for job_id, old in self._jobs.items() if old.finished]
            for job_id in finished[: max(0, len(self._jobs) - MAX_JOBS)]:
                del self._jobs[job_id]  # their story is in the history; only live jobs need a listener
            self._jobs[job.id] = job

        async def start() -> None:
            job.task = asyncio.current_task()
            try:
                await coro  # type: ignore[misc]
            except asyncio.CancelledError:  # cancelled during the checks, before a run row exists
                if not job.finished:
                    job.publish(Cancelled(job.run_id))

        asyncio.run_coroutine_threadsafe(start(), self._loop)

    # -- on the runner's loop ------------------------------------------------------------------

    def _service(self, key: SecretStr) -> FalService:
        """One fal client per key (kept for a few recent keys), so connections are reused across runs."""
        ident = hashlib.sha256(key.get_secret_value().encode()).hexdigest()
        service = self._services.pop(ident, None)
        if service is None:
            s = self.settings
            service = FalService(
                key,
                self.history,
                poll_interval=s.poll_interval,
                retry_seconds=s.status_retry_seconds,
                upload_cache_seconds=s.upload_cache_hours * 3600,
            )
        self._services[ident] = service
        while len(self._services) > MAX_CLIENTS:
            self._services.popitem(last=False)
        return service

    async def _run(self, job: Job, key: SecretStr, key_source: str) -> None:
        spec = job.spec
        try:
            model = get_tier(spec.tier)
            image_report, video_report, prompt = await asyncio.to_thread(
                check_inputs,
                spec.image,
                spec.video,
                spec.orientation,
                spec.prompt,
                self.settings.max_image_pixels,
            )
            seconds = video_report.info.duration
            cost = model.estimate_cost(seconds)
            if key_source == "server":
                self._check_budget(cost)
        except (StudioError, ValueError) as exc:  # refused before anything is written or uploaded
            error = exc if isinstance(exc, StudioError) else StudioError(str(exc))
            job.publish(Failed(None, kind=error.kind, message=error.message))
            return
        run = self.history.create(
            Run(
                tier=model.name,
                endpoint=model.endpoint,
                orientation=spec.orientation,
                prompt=prompt,
                keep_sound=spec.keep_sound,
                key_source=key_source,
                owner=spec.owner,
                clip_seconds=seconds,
                estimated_cost=cost,
            )
        )
        job.run_id = run.id
        await self._guard(job, self._generate(job, run, key, image_report, video_report))

    def _check_budget(self, cost: float) -> None:
        """The server's key is lent to whoever uses the page: its owner can cap what one run, and one
        day, may cost. Checked before anything is uploaded; a visitor's own key is never limited."""
        s = self.settings
        if s.max_run_cost is not None and cost > s.max_run_cost:
            raise BudgetError(
                f"This run would cost about {format_cost(cost)}; this server allows at most "
                f"{format_cost(s.max_run_cost)} per run on its key. Use a shorter clip, the standard "
                "model, or your own fal key."
            )
        if s.daily_budget is not None:
            spent = self.history.server_spend_since(time.time() - 86400)
            if spent + cost > s.daily_budget:
                raise BudgetError(
                    f"This server's daily budget of {format_cost(s.daily_budget)} for its key would be "
                    f"exceeded ({format_cost(spent)} used in the last 24 h, this run about "
                    f"{format_cost(cost)}). Use your own fal key, or try again later."
                )

    async def _generate(
        self, job: Job, run: Run, key: SecretStr, image_report: ImageReport, video_report: VideoReport
    ) -> None:
        spec = job.spec
        prepared = await asyncio.to_thread(
            prepare_inputs,
            spec.image,
            spec.video,
            image_report,
            video_report,
            self.history.run_dir(run.id),
            self.settings.max_image_pixels,
        )
        self.history.update(run.id, image_path=str(prepared.image), video_path=str(prepared.video))
        job.publish(
            Checked(
                run.id,
                clip_seconds=run.clip_seconds or 0.0,
                estimated_cost=run.estimated_cost or 0.0,
                notes=prepared.notes,
            )
        )
        service = self._service(key)
        self.history.record(run.id, "uploading")
        job.publish(Uploading(run.id))
        image_url = await service.upload(prepared.image)
        video_url = await service.upload(prepared.video)
        self.history.update(run.id, image_url=image_url, video_url=video_url)
        if job.cancel_requested:
            raise RunCancelledError()
        arguments = request_arguments(image_url, video_url, spec.orientation, run.prompt, spec.keep_sound)
        job.submitting = True  # from here a cancel must wait for the id, or fal would run an orphan
        try:
            request_id = await asyncio.shield(service.submit(run.endpoint, arguments))
        finally:
            job.submitting = False
        # The request id is what makes a paid run recoverable: store it before anything else.
        job.request_id = request_id
        job.service = service
        self.history.record(run.id, "submitted", request_id, request_id=request_id, submitted_at=time.time())
        log.info("run %s submitted to %s as request %s", run.id, run.endpoint, request_id)
        job.publish(Queued(run.id, request_id=request_id))
        if job.cancel_requested:
            await self._cancel(job)
        await self._follow(job, run, request_id)

    async def _resume(self, job: Job, run: Run, key: SecretStr) -> None:
        log.info("resuming run %s (request %s)", run.id, run.request_id)
        job.service = self._service(key)
        if run.output_url:  # fal finished before the restart: its result may be gone, its video is not
            await self._guard(job, self._finish(job, run, run.output_url))
        else:
            await self._guard(job, self._follow(job, run, run.request_id or ""))

    async def _follow(self, job: Job, run: Run, request_id: str) -> None:
        service = job.service
        assert service is not None
        last: StatusUpdate | None = None
        try:
            async with asyncio.timeout(self.settings.request_timeout):
                with _kept_if_fal_is_away():
                    async for update in service.follow(run.endpoint, request_id):
                        self._on_update(job, run, update, last)
                        last = update
        except TimeoutError:
            await self._quiet_cancel(service, run.endpoint, request_id)
            raise FalTimeoutError(
                f"fal did not finish within {self.settings.request_timeout:.0f} s, so the request was cancelled."
            ) from None
        assert last is not None
        if last.error:  # the model failed: the result endpoint says why, and that is final
            url = await service.output_url(run.endpoint, request_id, last)
        else:
            with _kept_if_fal_is_away():
                url = await service.output_url(run.endpoint, request_id, last)
        await self._finish(job, run, url)

    async def _finish(self, job: Job, run: Run, url: str) -> None:
        assert job.service is not None
        self.history.record(run.id, "downloading", output_url=url)
        job.publish(Downloading(run.id))
        with _kept_if_fal_is_away():
            output = await job.service.download(url, self.history.run_dir(run.id) / "output.mp4")
        output = await asyncio.to_thread(ensure_playable, output)
        thumb = await asyncio.to_thread(extract_thumbnail, output, output.with_name("thumb.jpg"))
        self.history.record(
            run.id,
            "done",
            output_path=str(output),
            thumbnail_path=str(thumb) if thumb else None,
            finished_at=time.time(),
        )
        log.info("run %s done: %s", run.id, output)
        job.publish(Done(run.id, output=output))

    def _on_update(self, job: Job, run: Run, update: StatusUpdate, last: StatusUpdate | None) -> None:
        if update.state == "queued":
            if last is None or last.state != "queued" or last.position != update.position:
                self.history.record(run.id, "queued", f"position {update.position}")
                job.publish(Queued(run.id, position=update.position, request_id=job.request_id))
        elif update.new_logs or last is None or last.state == "queued":
            if last is None or last.state == "queued":
                self.history.record(run.id, "running")
            job.publish(Running(run.id, logs=update.new_logs))

    async def _guard(self, job: Job, work: object) -> None:
        """Turn whatever ends a run into a history row and one terminal event."""
        run_id = job.run_id or ""
        try:
            await work  # type: ignore[misc]
        except asyncio.CancelledError:
            self.history.record(run_id, "cancelled", finished_at=time.time())
            job.publish(Cancelled(run_id))
        except Exception as exc:
            error = map_exception(exc)
            if job.cancel_requested and error.kind in ("cancelled", "server", "validation"):
                self.history.record(run_id, "cancelled", finished_at=time.time())
                job.publish(Cancelled(run_id))
                return
            if isinstance(error, LostContactError):
                log.warning("run %s interrupted: %s", run_id, error.cause.message)
                self.history.record(
                    run_id, "interrupted", error.message, error_kind=error.kind, error_message=error.message
                )
                job.publish(Failed(run_id, kind=error.kind, message=error.message))
                return
            if not isinstance(exc, StudioError):
                log.exception("run %s failed unexpectedly", run_id)
            log.info("run %s failed (%s): %s", run_id, error.kind, error.message)
            self.history.record(
                run_id,
                "failed",
                error.message,
                error_kind=error.kind,
                error_message=error.message,
                finished_at=time.time(),
            )
            job.publish(Failed(run_id, kind=error.kind, message=error.message))

    async def _cancel(self, job: Job) -> None:
        """Cancel for real: before submit, stop the task; after, ask fal, then give it a grace period."""
        job.cancel_requested = True
        service = job.service
        if job.request_id is None or service is None:
            if job.task is not None and not job.submitting:
                job.task.cancel()
            return  # while submitting, `_generate` cancels on fal as soon as the id arrives
        run = self.history.get(job.run_id or "")
        if run is None:
            return
        self.history.record(run.id, "cancelling")
        try:
            accepted = await service.cancel(run.endpoint, job.request_id)
        except StudioError as exc:
            log.warning("cancel of run %s failed: %s", run.id, exc.message)
            accepted = True
        if accepted and job.task is not None:
            self._loop.call_later(self.settings.cancel_grace_seconds, self._force_cancel, job)

    def _force_cancel(self, job: Job) -> None:
        if not job.finished and job.task is not None:
            job.task.cancel()

    @staticmethod
    async def _quiet_cancel(service: FalService, endpoint: str, request_id: str) -> None:
        with contextlib.suppress(StudioError):
            await service.cancel(endpoint, request_id)
