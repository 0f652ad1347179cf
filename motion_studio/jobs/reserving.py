"""Before fal: a run's inputs are checked again, then its row is reserved against the budgets, the
inputs are copied into the run's folder, and the ones fal's CDN already has are noted.

Nothing leaves the machine before this succeeds, so a refused input or a spent budget costs nothing.
"""

from __future__ import annotations

import asyncio
import filecmp
from dataclasses import dataclass

from ..catalog import PREVIEW_SECONDS, either, options_under
from ..errors import BudgetError
from ..fetching import on_fal_cdn
from ..history.runs import Run
from ..history.store import History
from ..lifecycle import Status
from ..media.image import ImageReport
from ..media.run_inputs import PreparedInputs, check_inputs, prepare_face, prepare_inputs
from ..media.run_inputs import check_face as check_face_images
from ..media.video import VideoReport, inspect_video, prepare_video, trim_clip
from ..order import Order
from ..settings import Settings
from .events import Checked
from .job import Job
from .recording import off_loop


@dataclass(frozen=True)
class CheckedInputs:
    """What the checks found: the run's row to create, and how each input must be copied. `video`
    is the clip fal gets (a preview's first seconds); `full_clip`, a preview's whole clip, is kept
    with it so its full run can start from the gallery."""

    row: Run
    image: ImageReport
    video: VideoReport
    face: tuple[ImageReport, ...]
    cost: float  # the estimate, as the row has it
    full_clip: tuple[str, VideoReport] | None = None


class Reserver:
    """The steps before fal. Runs on the runner's event loop; the slow work goes to worker threads."""

    def __init__(self, settings: Settings, history: History, holder: str) -> None:
        self.settings = settings
        self.history = history
        self.holder = holder

    async def check(self, job: Job, key_source: str) -> CheckedInputs:
        """Check the inputs, the prompt and, on the server's key, the run's cost against its cap."""
        order = job.order
        options, image, video, face = (
            order.options,
            order.image.file or "",
            order.video.file or "",
            order.face.outline(),
        )
        model = options.runs_on
        max_pixels = self.settings.max_image_pixels
        orientation = options.get("orientation")  # the order has checked the options and the face
        image_report, video_report = await asyncio.to_thread(
            check_inputs, image, video, orientation, max_pixels
        )
        full_clip = (video, video_report) if options.preview else None
        if options.preview:  # the whole clip passed the checks its full run will meet: now its start
            video, video_report = await asyncio.to_thread(
                self._preview_clip, video, video_report, orientation
            )
        face_reports = await asyncio.to_thread(check_face_images, face, max_pixels)
        seconds = video_report.info.duration
        cost = options.estimate_cost(seconds)
        cap = self.settings.max_run_cost
        if key_source == "server" and cap is not None and cost > cap:
            fits = options_under(cap, seconds, model.name, face=bool(face), price=options.price_per_second)
            raise BudgetError.per_run(cost, cap, either(fits))
        row = Run(
            options=options,
            endpoint=model.endpoint,
            key_source=key_source,
            owner=job.owner,
            clip_seconds=seconds,
            estimated_cost=cost,
            source_image=image,
            source_video=video,
            face_frontal=face.frontal,
            face_angles=face.angles,
            preview_of=job.preview_of,
        )
        return CheckedInputs(row, image_report, video_report, face_reports, cost, full_clip)

    def _preview_clip(
        self, video: str, report: VideoReport, orientation: str | None
    ) -> tuple[str, VideoReport]:
        """A preview's clip: the first seconds of the given one, cut exactly (re-encoded), and checked."""
        if report.info.duration <= PREVIEW_SECONDS:
            return video, report
        cut = trim_clip(video, PREVIEW_SECONDS, self.settings.data_dir / "trimmed")
        return str(cut), inspect_video(cut, orientation)

    async def reserve(self, job: Job, checked: CheckedInputs) -> Run:
        """Create the run row with its lease and, on the server's key, its cost reservation, in one
        transaction; then copy the inputs into the run's folder."""
        if job.slot is not None:  # a batch's run: its row was reserved, and checked, with the batch
            run = await off_loop(self.history.writes.fill_reserved, job.slot.run_id, checked.row, self.holder)
        else:
            guarded = checked.row.key_source == "server"  # the server's key: its budgets apply
            limits = self.settings.visitor_limits() if guarded else None
            budget = self.settings.daily_budget if guarded else None
            run = await off_loop(
                self.history.writes.create,
                checked.row,
                holder=self.holder,
                daily_budget=budget,
                visitor_limits=limits,
            )
        job.run_id, job.phase, job.holds_lease = run.id, Status.CHECKING, True
        notes = await self._copy_in(job, run, checked)
        seconds = checked.video.info.duration
        job.publish(Checked(run.id, clip_seconds=seconds, estimated_cost=checked.cost, notes=notes))
        return await off_loop(self.history.reads.get, run.id) or run

    async def _copy_in(self, job: Job, run: Run, checked: CheckedInputs) -> tuple[str, ...]:
        """Copy (or convert) the inputs into the run's folder and store their paths, with the URLs of
        those fal's CDN already has. Returns the notes on what was done to them."""
        run_dir, max_pixels = self.history.db.run_dir(run.id), self.settings.max_image_pixels
        image, video = job.order.image.file or "", checked.row.source_video or ""
        prepared = await asyncio.to_thread(
            prepare_inputs, image, video, checked.image, checked.video, run_dir, max_pixels
        )
        job.upload_from = (
            str(image if not checked.image.needs_conversion else prepared.image),
            str(video if checked.video.action == "copy" else prepared.video),
        )
        # A fal-hosted input the checks left as it was is stored with its URL now: fal gets that URL.
        on_fal = await asyncio.to_thread(self._already_on_fal, job.order, checked, prepared)
        paths: dict[str, object] = {"image_path": str(prepared.image), "video_path": str(prepared.video)}
        notes = prepared.notes
        given_face = job.order.face.outline()
        if given_face:  # the face's copies replace the given files, as the image's copy does
            face = await asyncio.to_thread(prepare_face, given_face, checked.face, run_dir, max_pixels)
            paths.update(face_frontal=face.frontal, face_angles=face.angles)
            notes += tuple(f"Face: {note}" for report in checked.face for note in report.notes)
        if checked.full_clip is not None:
            full = await asyncio.to_thread(prepare_video, *checked.full_clip, run_dir / "full-clip")
            paths["full_clip_path"] = str(full)
        await off_loop(self.history.writes.update, run.id, **paths, **on_fal)
        return notes

    def _already_on_fal(
        self, order: Order, checked: CheckedInputs, prepared: PreparedInputs
    ) -> dict[str, str]:
        """The inputs fal can fetch itself: fetched from a URL on fal's CDN, and copied byte for byte
        into the run (no conversion), so the URL serves exactly the file that was checked."""
        hosts = self.settings.fal_cdn_hosts
        found = {}
        for name, source, as_is, copy in (
            ("image_url", order.image, not checked.image.needs_conversion, prepared.image),
            ("video_url", order.video, checked.video.action == "copy", prepared.video),
        ):
            url = source.fetched_from
            if (
                url
                and as_is
                and on_fal_cdn(url, hosts)
                and filecmp.cmp(source.file or "", copy, shallow=False)
            ):
                found[name] = url
        return found
