"""Before fal: the first step of a run checks its inputs again, reserves its row against the budgets,
copies the inputs into the run's folder and notes which of them fal's CDN already has.

Nothing leaves the machine before this succeeds, so a refused input or a spent budget costs nothing.
It is a part of `Pipeline` (pipeline.py), which goes on from here to fal. `off_loop`, the way every
step commits to the history, lives here with the first step that uses it.
"""

from __future__ import annotations

import asyncio
import filecmp
import functools
from collections.abc import Callable
from typing import TypeVar

import anyio

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

T = TypeVar("T")


class Reserving:
    """`Pipeline`'s steps before fal (its `settings`, `history` and `holder` are the pipeline's)."""

    settings: Settings
    history: History
    holder: str

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


async def off_loop(func: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run `func` (a SQLite commit, an fsync each) in a worker thread: with many runs at once, the
    loop that streams every run's bytes must not wait on the disk. Never abandoned on cancel: a
    write that started finishes before the cancel lands, so the row still tells the truth."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
