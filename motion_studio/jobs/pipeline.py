"""The steps of a run on fal, in order: upload, submit, follow, download; and the take-over of a run
another follower left.

Each step records the run's new status (recording.py) before it does the work the status names, so
a crash at any point leaves a row that tells the truth. After submit, every call to fal is retried
through transient failures; past the retry window the step raises `LostContactError`, and the run
rests as interrupted, never failed: fal may still bill it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from .. import notices
from ..catalog import Face
from ..errors import (
    TRANSIENT_ERRORS,
    FollowerStoppedError,
    GaveUpWaitingError,
    LostContactError,
    RunCancelledError,
    RunGoneError,
    StudioError,
)
from ..fal_service import FalOutput, FalService, StatusUpdate
from ..history.runs import Run
from ..history.store import History
from ..lifecycle import FINAL, IN_FLIGHT, IllegalTransitionError, Status
from ..media.sound import restore_clip_sound
from ..media.video import ensure_playable, extract_thumbnail
from ..settings import Settings
from .events import (
    Cancelled,
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
from .recording import amove, move, off_loop

log = logging.getLogger("motion_studio.jobs")
LEASE_RENEW_SECONDS = 30.0


@contextlib.contextmanager
def kept_if_fal_is_away() -> Iterator[None]:
    """After submit, fal being unreachable beyond all retries must not turn a paid run into a failure."""
    try:
        yield
    except TRANSIENT_ERRORS as exc:
        raise LostContactError(exc) from exc


@dataclass(frozen=True)
class Uploaded:
    """Where fal reads a run's inputs from: its CDN's URLs, uploaded now or earlier."""

    image_url: str
    video_url: str
    face: Face


class Pipeline:
    """Runs on the runner's event loop; `holder` is the runner's lease holder."""

    def __init__(self, settings: Settings, history: History, holder: str) -> None:
        self.settings = settings
        self.history = history
        self.holder = holder

    # -- a new run ---------------------------------------------------------------------------------

    async def upload(self, job: Job, run: Run, service: FalService) -> Uploaded:
        """Upload what fal does not have yet (a URL stored by the check is already on fal's CDN)."""
        reused = tuple(kind for kind, url in (("image", run.image_url), ("video", run.video_url)) if url)
        detail = f"{' and '.join(reused)} already on fal's CDN, not uploaded again" if reused else ""
        await amove(self.history, job, Status.UPLOADING, detail)
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
        return Uploaded(image_url, video_url, on_fal)

    async def submit(self, job: Job, run: Run, service: FalService, uploaded: Uploaded) -> None:
        """Send the request to fal and store its id, whatever happens around."""
        if job.cancel_requested:
            raise RunCancelledError()
        arguments = run.options.fal_arguments(uploaded.image_url, uploaded.video_url, uploaded.face)
        await amove(  # the URLs with the move: one commit (an fsync) less before fal
            self.history,
            job,
            Status.SUBMITTING,
            image_url=uploaded.image_url,
            video_url=uploaded.video_url,
            face_frontal_url=uploaded.face.frontal,
            face_angle_urls=uploaded.face.angles,
        )
        # Shielded: a cancel (or shutdown) waits for fal's answer, so a request fal accepted always has
        # its id stored, and can be followed or cancelled, never orphaned.
        with anyio.CancelScope(shield=True):
            request_id = await service.submit(run.endpoint, arguments)
            job.request_id = request_id
            # The id first, on its own: whatever happens to the status move, a paid run stays findable.
            await off_loop(
                self.history.writes.update, run.id, request_id=request_id, submitted_at=time.time()
            )
            await amove(self.history, job, Status.SUBMITTED, request_id)
        log.info("run %s submitted to %s as request %s", run.id, run.endpoint, request_id)
        job.publish(Queued(run.id, request_id=request_id))

    # -- following a submitted run -------------------------------------------------------------------

    async def follow(self, job: Job, run: Run, service: FalService) -> FalOutput:
        """Follow the request to its end; returns fal's video's URL and what the run's model tells
        besides it (`download` stores both)."""
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
                            await off_loop(self.history.leases.claim, run.id, self.holder)
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
            output = await service.output(run.endpoint, request_id, last)
        else:
            with kept_if_fal_is_away():
                output = await service.output(run.endpoint, request_id, last)
        # Stored with the move to downloading (`download`): one commit before the bytes.
        return output.only(_returns(run))

    async def _on_update(self, job: Job, run: Run, update: StatusUpdate, last: StatusUpdate | None) -> None:
        if job.cancel_requested:  # the run is "cancelling" until fal says how it ended
            return
        if update.state == "queued":
            moved = last is None or last.state != "queued" or last.position != update.position
            if moved and await self._progressed(job, Status.QUEUED, f"position {update.position}"):
                job.publish(Queued(run.id, position=update.position, request_id=job.request_id))
        elif update.new_logs or last is None or last.state == "queued":
            if job.phase is not Status.RUNNING and not await self._progressed(job, Status.RUNNING):
                return
            job.publish(Running(run.id, logs=update.new_logs))

    async def _progressed(self, job: Job, status: Status, detail: str = "") -> bool:
        """Record fal's progress; False when a cancel landed while it was being written (the run is
        "cancelling" then, and fal's update is older news than the cancel)."""
        try:
            await amove(self.history, job, status, detail)
        except IllegalTransitionError:
            if job.cancel_requested:
                return False
            raise
        return True

    async def download(self, job: Job, run: Run, service: FalService, result: FalOutput) -> Done:
        """Copy fal's video here at once (fal deletes it after a while) and make it playable."""
        url = result.url
        resumed = run.output_url is not None  # fal finished before: when is in the run's timeline
        await self._downloading(job, run.id, result)
        job.publish(Downloading(run.id))
        completed_at = await off_loop(self._completed_at, run.id) if resumed else time.time()
        with kept_if_fal_is_away():
            output = await service.download(
                url,
                self.history.db.run_dir(run.id) / "output.mp4",
                request_id=run.request_id or job.request_id,
                completed_at=completed_at,
            )
        output = await asyncio.to_thread(ensure_playable, output)
        sound = await self._clip_sound(run, output)  # here, so a resumed run downloads and adds it again
        # It plays from here on: the page shows it now, the thumbnail and the bookkeeping come after.
        await off_loop(self.history.writes.update, run.id, output_path=str(output))
        job.publish(Downloaded(run.id, output=output))
        thumb = await asyncio.to_thread(extract_thumbnail, output, output.with_name("thumb.jpg"))
        await amove(
            self.history,
            job,
            Status.DONE,
            notices.clip_sound(run.model_title, sound) if sound is not None else "",
            output_path=str(output),
            thumbnail_path=str(thumb) if thumb else None,
            finished_at=time.time(),
            sound_added=sound,
        )
        log.info("run %s done: %s", run.id, output)
        return Done(run.id, output=output, took=time.time() - run.created_at, cost=run.estimated_cost)

    async def _clip_sound(self, run: Run, output: Path) -> bool | None:
        """The clip's sound put back on a result that came without it, when the run asked to keep it
        (media/sound.py: True put back, False could not be, None nothing to do). Never fails the run:
        a paid video is kept silent rather than lost."""
        if not run.options.get("keep_sound") or not run.video_path:
            return None
        try:
            return await asyncio.to_thread(restore_clip_sound, output, Path(run.video_path))
        except Exception:
            log.exception("run %s: the clip's sound could not be put back on its result", run.id)
            return False

    async def _downloading(self, job: Job, run_id: str, result: FalOutput) -> None:
        """The move to downloading, the video's URL and what fal told with it in one commit. Shielded,
        and when the move is refused they are stored alone: a paid video's URL is never lost."""
        url, returned = result.url, result.fields
        with anyio.CancelScope(shield=True):
            try:
                await amove(self.history, job, Status.DOWNLOADING, output_url=url, returned=returned)
            except BaseException:
                await off_loop(self.history.writes.update, run_id, output_url=url, returned=returned)
                raise

    def _completed_at(self, run_id: str) -> float:
        """When fal said the run was COMPLETED: its first move to downloading (a resumed run's was
        recorded by the follower before), which tells whether a missing video can have expired yet."""
        moves = [
            event.at for event in self.history.reads.events(run_id) if event.state == Status.DOWNLOADING.value
        ]
        return min(moves, default=time.time())

    # -- a run another follower left -------------------------------------------------------------------

    async def take_over(self, job: Job, run: Run) -> Run | JobEvent:
        """Take the lease of a run fal may still have (after a restart, or once fal answers again)
        and read its row afresh. Returns the terminal event when the run ended elsewhere."""
        log.info("resuming run %s (request %s)", run.id, run.request_id)
        ended = await self._claim_or_watch(job, run.id)
        if ended is not None:
            return ended
        run = self.history.reads.get(run.id) or run
        job.phase = Status(run.status)
        if Status(run.status) in FINAL:  # it ended between our look and our claim
            return _ended_elsewhere(run)
        if Status(run.status) in IN_FLIGHT:  # its follower died: say so before following it again
            move(self.history, job, Status.INTERRUPTED, FollowerStoppedError().message)
        return run

    async def _claim_or_watch(self, job: Job, run_id: str) -> JobEvent | None:
        """Take the run's lease; while another live process holds it, watch the row instead and take
        over if that process dies. Returns the terminal event when the run ended elsewhere."""
        announced = False
        while not self.history.leases.claim(run_id, self.holder):
            current = self.history.reads.get(run_id)
            if current is None:
                raise RunGoneError()
            if Status(current.status) in FINAL:
                return _ended_elsewhere(current)
            if not announced:
                job.publish(Watching(run_id))
                announced = True
            await anyio.sleep(self.settings.poll_interval)
        job.holds_lease = True
        return None


def _returns(run: Run) -> tuple[str, ...]:
    """The fields of fal's result the run's model tells besides its video (none for a model this
    release no longer offers)."""
    try:
        return run.options.runs_on.returns
    except ValueError:
        return ()


def _ended_elsewhere(run: Run) -> JobEvent:
    """The terminal event for a run another process finished: read from its row, nothing written."""
    if run.status == Status.DONE and run.output_path:
        took = (run.finished_at or run.updated_at) - run.created_at
        return Done(run.id, output=Path(run.output_path), took=took, cost=run.estimated_cost)
    if run.status == Status.CANCELLED:
        return Cancelled(run.id, sent=bool(run.request_id))
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
