"""The steps of a run, in order: check and reserve, upload, submit, follow, fetch the output.

Each step records the run's new status through `move` (the history refuses an illegal one) before
it does the work the status names, so a crash at any point leaves a row that tells the truth. After
submit, every call to fal is retried through transient failures; past the retry window the step
raises `LostContactError`, and the run rests as interrupted, never failed: fal may still bill it.
"""

from __future__ import annotations

import asyncio
import contextlib
import filecmp
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import anyio

from ..catalog import Face, check_face, either, options_under, prompt_with_face, request_arguments
from ..catalog import tier as get_tier
from ..errors import (
    TRANSIENT_ERRORS,
    BudgetError,
    GaveUpWaitingError,
    LostContactError,
    RunCancelledError,
    RunGoneError,
    StudioError,
)
from ..fal_service import FalService, StatusUpdate
from ..fetching import on_fal_cdn
from ..history import History, Run
from ..lifecycle import FINAL, Status
from ..media import (
    ImageReport,
    PreparedInputs,
    VideoReport,
    check_inputs,
    check_prompt,
    ensure_playable,
    extract_thumbnail,
    prepare_face,
    prepare_inputs,
)
from ..media import check_face as check_face_images
from ..settings import Settings
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
from .job import Job, JobSpec

log = logging.getLogger("motion_studio.jobs")
LEASE_RENEW_SECONDS = 30.0
T = TypeVar("T")


@contextlib.contextmanager
def kept_if_fal_is_away() -> Iterator[None]:
    """After submit, fal being unreachable beyond all retries must not turn a paid run into a failure."""
    try:
        yield
    except TRANSIENT_ERRORS as exc:
        raise LostContactError(exc) from exc


class Pipeline:
    def __init__(self, settings: Settings, history: History, holder: str) -> None:
        self.settings = settings
        self.history = history
        self.holder = holder

    def move(self, job: Job, status: Status, detail: str = "", **values: object) -> None:
        """Record the run's new status (checked against the lifecycle) and remember it on the job."""
        assert job.run_id is not None
        self.history.record(job.run_id, status, detail, **values)
        job.phase = status

    async def amove(self, job: Job, status: Status, detail: str = "", **values: object) -> None:
        """`move`, its commit in a worker thread (see `off_loop`)."""
        await off_loop(self.move, job, status, detail, **values)

    # -- a new run ---------------------------------------------------------------------------------

    async def check_and_reserve(self, job: Job, key_source: str) -> Run:
        """Check the inputs, then create the run row with its lease and, on the server's key, its
        cost reservation, in one transaction. Nothing leaves the machine before this succeeds."""
        spec = job.spec
        model = get_tier(spec.tier)
        check_face(model.name, spec.orientation, spec.face)  # a face fal would refuse: before any work
        image_report, video_report, prompt = await asyncio.to_thread(
            check_inputs,
            spec.image,
            spec.video,
            spec.orientation,
            spec.prompt,
            self.settings.max_image_pixels,
        )
        face_reports = await asyncio.to_thread(check_face_images, spec.face, self.settings.max_image_pixels)
        if spec.face:  # the prompt fal gets names the face: that one must fit too
            check_prompt(prompt_with_face(prompt))
        seconds = video_report.info.duration
        cost = model.estimate_cost(seconds)
        guarded = key_source == "server"
        if guarded and self.settings.max_run_cost is not None and cost > self.settings.max_run_cost:
            cap = self.settings.max_run_cost
            fits = options_under(cap, seconds, model.name, face=bool(spec.face))
            raise BudgetError.per_run(cost, cap, either(fits))
        row = Run(
            tier=model.name,
            endpoint=model.endpoint,
            orientation=spec.orientation,
            prompt=prompt,
            keep_sound=spec.keep_sound,
            key_source=key_source,
            owner=spec.owner,
            clip_seconds=seconds,
            estimated_cost=cost,
            source_image=str(spec.image),
            source_video=str(spec.video),
            face_frontal=spec.face.frontal,
            face_angles=spec.face.angles,
        )
        if spec.slot is not None:  # a batch's run: its row was reserved, and checked, with the batch
            run = await off_loop(self.history.fill_reserved, spec.slot.run_id, row, self.holder)
        else:
            limits = self.settings.visitor_limits() if guarded else None
            budget = self.settings.daily_budget if guarded else None
            run = await off_loop(
                self.history.create, row, holder=self.holder, daily_budget=budget, visitor_limits=limits
            )
        job.run_id, job.phase, job.holds_lease = run.id, Status.CHECKING, True
        prepared = await asyncio.to_thread(
            prepare_inputs,
            spec.image,
            spec.video,
            image_report,
            video_report,
            self.history.run_dir(run.id),
            self.settings.max_image_pixels,
        )
        job.upload_from = (
            str(spec.image if not image_report.needs_conversion else prepared.image),
            str(spec.video if video_report.action == "copy" else prepared.video),
        )
        # A fal-hosted input the checks left as it was is stored with its URL now: fal gets that URL.
        on_fal = await asyncio.to_thread(self._already_on_fal, spec, image_report, video_report, prepared)
        paths: dict[str, object] = {"image_path": str(prepared.image), "video_path": str(prepared.video)}
        notes = prepared.notes
        if spec.face:  # the face's copies replace the given files, as the image's copy does
            face = await asyncio.to_thread(
                prepare_face,
                spec.face,
                face_reports,
                self.history.run_dir(run.id),
                self.settings.max_image_pixels,
            )
            paths.update(face_frontal=face.frontal, face_angles=face.angles)
            notes += tuple(f"Face: {note}" for report in face_reports for note in report.notes)
        await off_loop(self.history.update, run.id, **paths, **on_fal)
        job.publish(Checked(run.id, clip_seconds=seconds, estimated_cost=cost, notes=notes))
        return await off_loop(self.history.get, run.id) or run

    def _already_on_fal(
        self, spec: JobSpec, image_report: ImageReport, video_report: VideoReport, prepared: PreparedInputs
    ) -> dict[str, str]:
        """The inputs fal can fetch itself: fetched from a URL on fal's CDN, and copied byte for byte
        into the run (no conversion), so the URL serves exactly the file that was checked."""
        hosts = self.settings.fal_cdn_hosts
        found = {}
        if (
            spec.image_url
            and not image_report.needs_conversion
            and on_fal_cdn(spec.image_url, hosts)
            and filecmp.cmp(spec.image, prepared.image, shallow=False)
        ):
            found["image_url"] = spec.image_url
        if (
            spec.video_url
            and video_report.action == "copy"
            and on_fal_cdn(spec.video_url, hosts)
            and filecmp.cmp(spec.video, prepared.video, shallow=False)
        ):
            found["video_url"] = spec.video_url
        return found

    async def upload_and_submit(self, job: Job, run: Run, service: FalService) -> str:
        """Upload what fal does not have yet (a URL stored by the check is already on fal's CDN),
        then submit."""
        reused = tuple(kind for kind, url in (("image", run.image_url), ("video", run.video_url)) if url)
        detail = f"{' and '.join(reused)} already on fal's CDN, not uploaded again" if reused else ""
        await self.amove(job, Status.UPLOADING, detail)
        if reused:
            log.info("run %s: %s", run.id, detail)
        job.publish(Uploading(run.id, reused=reused))
        assert run.image_path and run.video_path
        face = run.face
        sent = job.upload_from or (run.image_path, run.video_path)
        image_url, video_url, *face_urls = await _side_by_side(
            _on_fal(run.image_url, _still_there(sent[0], run.image_path), service),
            _on_fal(run.video_url, _still_there(sent[1], run.video_path), service),
            *(service.upload(Path(path)) for path in face.images),
        )
        on_fal = Face(face_urls[0], tuple(face_urls[1:])) if face.frontal else Face(None, tuple(face_urls))
        if job.cancel_requested:
            raise RunCancelledError()
        arguments = request_arguments(
            image_url, video_url, run.orientation, run.prompt, run.keep_sound, tier_name=run.tier, face=on_fal
        )
        await self.amove(  # the URLs with the move: one commit (an fsync) less before fal
            job,
            Status.SUBMITTING,
            image_url=image_url,
            video_url=video_url,
            face_frontal_url=on_fal.frontal,
            face_angle_urls=on_fal.angles,
        )
        # Shielded: a cancel (or shutdown) waits for fal's answer, so a request fal accepted always has
        # its id stored, and can be followed or cancelled, never orphaned.
        with anyio.CancelScope(shield=True):
            request_id = await service.submit(run.endpoint, arguments)
            job.request_id = request_id
            # The id first, on its own: whatever happens to the status move, a paid run stays findable.
            await off_loop(self.history.update, run.id, request_id=request_id, submitted_at=time.time())
            await self.amove(job, Status.SUBMITTED, request_id)
        log.info("run %s submitted to %s as request %s", run.id, run.endpoint, request_id)
        job.publish(Queued(run.id, request_id=request_id))
        return request_id

    # -- following a submitted run -------------------------------------------------------------------

    async def follow(self, job: Job, run: Run, service: FalService) -> Done:
        request_id = run.request_id or job.request_id
        assert request_id
        last: StatusUpdate | None = None
        renewed = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.request_timeout):
                with kept_if_fal_is_away():
                    async for update in service.follow(run.endpoint, request_id):
                        await self._on_update(job, run, update, last)
                        last = update
                        if time.monotonic() - renewed > LEASE_RENEW_SECONDS:
                            await off_loop(self.history.claim, run.id, self.holder)
                            renewed = time.monotonic()
        except TimeoutError:
            finished = False
            with contextlib.suppress(StudioError):
                finished = not await service.cancel(run.endpoint, request_id)
            if not finished:
                raise GaveUpWaitingError(
                    f"fal did not finish within {self.settings.request_timeout:.0f} s, so the request was "
                    "cancelled."
                ) from None
            last = StatusUpdate("completed")  # it finished as we gave up: the paid video is fetched
        assert last is not None
        if last.error:  # the model failed: the result endpoint says why, and that is final
            url = await service.output_url(run.endpoint, request_id, last)
        else:
            with kept_if_fal_is_away():
                url = await service.output_url(run.endpoint, request_id, last)
        await off_loop(self.history.update, run.id, output_url=url)
        return await self.fetch_output(job, run, service, url)

    async def _on_update(self, job: Job, run: Run, update: StatusUpdate, last: StatusUpdate | None) -> None:
        if job.cancel_requested:  # the run is "cancelling" until fal says how it ended
            return
        if update.state == "queued":
            if last is None or last.state != "queued" or last.position != update.position:
                await self.amove(job, Status.QUEUED, f"position {update.position}")
                job.publish(Queued(run.id, position=update.position, request_id=job.request_id))
        elif update.new_logs or last is None or last.state == "queued":
            if job.phase is not Status.RUNNING:
                await self.amove(job, Status.RUNNING)
            job.publish(Running(run.id, logs=update.new_logs))

    async def fetch_output(self, job: Job, run: Run, service: FalService, url: str) -> Done:
        """Copy fal's video here at once (fal deletes it after a while) and make it playable."""
        await self.amove(job, Status.DOWNLOADING, output_url=url)
        job.publish(Downloading(run.id))
        with kept_if_fal_is_away():
            output = await service.download(
                url, self.history.run_dir(run.id) / "output.mp4", request_id=run.request_id or job.request_id
            )
        output = await asyncio.to_thread(ensure_playable, output)
        # It plays from here on: the page shows it now, the thumbnail and the bookkeeping come after.
        await off_loop(self.history.update, run.id, output_path=str(output))
        job.publish(Downloaded(run.id, output=output))
        thumb = await asyncio.to_thread(extract_thumbnail, output, output.with_name("thumb.jpg"))
        await self.amove(
            job,
            Status.DONE,
            output_path=str(output),
            thumbnail_path=str(thumb) if thumb else None,
            finished_at=time.time(),
        )
        log.info("run %s done: %s", run.id, output)
        return Done(run.id, output=output, took=time.time() - run.created_at, cost=run.estimated_cost)

    # -- another process follows it -------------------------------------------------------------------

    async def claim_or_watch(self, job: Job, run_id: str) -> JobEvent | None:
        """Take the run's lease; while another live process holds it, watch the row instead and take
        over if that process dies. Returns the terminal event when the run ended elsewhere."""
        announced = False
        while not self.history.claim(run_id, self.holder):
            current = self.history.get(run_id)
            if current is None:
                raise RunGoneError()
            if Status(current.status) in FINAL:
                return ended_elsewhere(current)
            if not announced:
                job.publish(Watching(run_id))
                announced = True
            await anyio.sleep(self.settings.poll_interval)
        job.holds_lease = True
        return None


async def off_loop(func: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run `func` (a SQLite commit, an fsync each) in a worker thread: with many runs at once, the
    loop that streams every run's bytes must not wait on the disk. Never abandoned on cancel: a
    write that started finishes before the cancel lands, so the row still tells the truth."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))


def ended_elsewhere(run: Run) -> JobEvent:
    """The terminal event for a run another process finished: read from its row, nothing written."""
    if run.status == Status.DONE and run.output_path:
        took = (run.finished_at or run.updated_at) - run.created_at
        return Done(run.id, output=Path(run.output_path), took=took, cost=run.estimated_cost)
    if run.status == Status.CANCELLED:
        return Cancelled(run.id)
    return Failed(run.id, kind=run.error_kind or run.status, message=run.error_message or run.status)


async def _on_fal(url: str | None, path: str, service: FalService) -> str:
    """The input's URL on fal: the one it came from, or its upload (cached, or already on its way)."""
    return url or await service.upload(Path(path))


def _still_there(source: str, copy: str) -> str:
    """The checked file when it is still there (its digest is known), else the run's own copy."""
    return source if Path(source).is_file() else copy


async def _side_by_side(*steps: Awaitable[str]) -> list[str]:
    """Every upload at once, not one after the other; when one fails, the others stop (no bytes go on
    to fal for a run that has ended) and the first failure is raised as it is."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        for task in tasks:  # their own failures are read, so none is reported as never retrieved
            if not task.cancelled():
                task.exception()
        raise
