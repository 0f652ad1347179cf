"""Before fal: a run's inputs are checked again, then its row is reserved against the budgets, the
inputs are copied into the run's folder, and the ones fal's CDN already has are noted.

Nothing leaves the machine before this succeeds, so a refused input or a spent budget costs nothing.
"""

from __future__ import annotations

import asyncio
import filecmp
from dataclasses import dataclass

from ..catalog import check_face, either, options_under, prompt_with_face
from ..catalog import tier as get_tier
from ..errors import BudgetError
from ..fetching import on_fal_cdn
from ..history.runs import Run
from ..history.store import History
from ..lifecycle import Status
from ..media.image import ImageReport
from ..media.inputs import PreparedInputs, check_inputs, check_prompt, prepare_face, prepare_inputs
from ..media.inputs import check_face as check_face_images
from ..media.video import VideoReport
from ..settings import Settings
from .events import Checked
from .job import Job, JobSpec
from .recording import off_loop


@dataclass(frozen=True)
class CheckedInputs:
    """What the checks found: the run's row to create, and how each input must be copied."""

    row: Run
    image: ImageReport
    video: VideoReport
    face: tuple[ImageReport, ...]
    cost: float  # the estimate, as the row has it


class Reserver:
    """The steps before fal. Runs on the runner's event loop; the slow work goes to worker threads."""

    def __init__(self, settings: Settings, history: History, holder: str) -> None:
        self.settings = settings
        self.history = history
        self.holder = holder

    async def check(self, spec: JobSpec, key_source: str) -> CheckedInputs:
        """Check the inputs, the prompt and, on the server's key, the run's cost against its cap."""
        model = get_tier(spec.tier)
        check_face(model.name, spec.orientation, spec.face)  # a face fal would refuse: before any work
        max_pixels = self.settings.max_image_pixels
        image_report, video_report, prompt = await asyncio.to_thread(
            check_inputs, spec.image, spec.video, spec.orientation, spec.prompt, max_pixels
        )
        face_reports = await asyncio.to_thread(check_face_images, spec.face, max_pixels)
        if spec.face:  # the prompt fal gets names the face: that one must fit too
            check_prompt(prompt_with_face(prompt))
        seconds = video_report.info.duration
        cost = model.estimate_cost(seconds)
        cap = self.settings.max_run_cost
        if key_source == "server" and cap is not None and cost > cap:
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
        return CheckedInputs(row, image_report, video_report, face_reports, cost)

    async def reserve(self, job: Job, spec: JobSpec, checked: CheckedInputs) -> Run:
        """Create the run row with its lease and, on the server's key, its cost reservation, in one
        transaction; then copy the inputs into the run's folder."""
        if spec.slot is not None:  # a batch's run: its row was reserved, and checked, with the batch
            run = await off_loop(self.history.fill_reserved, spec.slot.run_id, checked.row, self.holder)
        else:
            guarded = checked.row.key_source == "server"  # the server's key: its budgets apply
            limits = self.settings.visitor_limits() if guarded else None
            budget = self.settings.daily_budget if guarded else None
            run = await off_loop(
                self.history.create,
                checked.row,
                holder=self.holder,
                daily_budget=budget,
                visitor_limits=limits,
            )
        job.run_id, job.phase, job.holds_lease = run.id, Status.CHECKING, True
        notes = await self._copy_in(job, run, spec, checked)
        seconds = checked.video.info.duration
        job.publish(Checked(run.id, clip_seconds=seconds, estimated_cost=checked.cost, notes=notes))
        return await off_loop(self.history.get, run.id) or run

    async def _copy_in(self, job: Job, run: Run, spec: JobSpec, checked: CheckedInputs) -> tuple[str, ...]:
        """Copy (or convert) the inputs into the run's folder and store their paths, with the URLs of
        those fal's CDN already has. Returns the notes on what was done to them."""
        run_dir, max_pixels = self.history.run_dir(run.id), self.settings.max_image_pixels
        prepared = await asyncio.to_thread(
            prepare_inputs, spec.image, spec.video, checked.image, checked.video, run_dir, max_pixels
        )
        job.upload_from = (
            str(spec.image if not checked.image.needs_conversion else prepared.image),
            str(spec.video if checked.video.action == "copy" else prepared.video),
        )
        # A fal-hosted input the checks left as it was is stored with its URL now: fal gets that URL.
        on_fal = await asyncio.to_thread(self._already_on_fal, spec, checked, prepared)
        paths: dict[str, object] = {"image_path": str(prepared.image), "video_path": str(prepared.video)}
        notes = prepared.notes
        if spec.face:  # the face's copies replace the given files, as the image's copy does
            face = await asyncio.to_thread(prepare_face, spec.face, checked.face, run_dir, max_pixels)
            paths.update(face_frontal=face.frontal, face_angles=face.angles)
            notes += tuple(f"Face: {note}" for report in checked.face for note in report.notes)
        await off_loop(self.history.update, run.id, **paths, **on_fal)
        return notes

    def _already_on_fal(
        self, spec: JobSpec, checked: CheckedInputs, prepared: PreparedInputs
    ) -> dict[str, str]:
        """The inputs fal can fetch itself: fetched from a URL on fal's CDN, and copied byte for byte
        into the run (no conversion), so the URL serves exactly the file that was checked."""
        hosts = self.settings.fal_cdn_hosts
        found = {}
        if (
            spec.image_url
            and not checked.image.needs_conversion
            and on_fal_cdn(spec.image_url, hosts)
            and filecmp.cmp(spec.image, prepared.image, shallow=False)
        ):
            found["image_url"] = spec.image_url
        if (
            spec.video_url
            and checked.video.action == "copy"
            and on_fal_cdn(spec.video_url, hosts)
            and filecmp.cmp(spec.video, prepared.video, shallow=False)
        ):
            found["video_url"] = spec.video_url
        return found
