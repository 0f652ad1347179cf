"""The objects one running app shares between its page, its API and its background jobs.

Kept out of `ui.py` so the page holds layout and wiring only: which runs a browser may see (private
galleries), which key pays, and what a user may do with a run (from the lifecycle) are decided here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from . import presenter
from .batches import Batches
from .catalog import ORIENTATION_MAX_SECONDS, check_face
from .errors import InputError, OwnKeyRequiredError, StudioError, TooManyChecksError
from .fetching import on_fal_cdn
from .history import Run
from .inputs import InputReader, Reading
from .jobs import Job, JobRunner, JobSpec
from .lifecycle import Action, Situation
from .media import VideoInfo, probe_video, side_by_side
from .people_check import TURNED_OFF, PeopleCheck, check_inputs
from .rate import PerCaller
from .run_request import RunRequest, check_choices
from .serving import download_name, servable, servable_as
from .settings import Settings
from .summary import CheckSummary, RunSummary, check_summary, run_summary

log = logging.getLogger("motion_studio.studio")
VISITOR_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class GalleryPage:
    """What the gallery shows: `items` are (picture, caption) for `ids`, newest first."""

    items: list[tuple[str, str]]
    ids: list[str]
    signature: str
    summary: str
    more: bool  # older runs exist beyond this page
    active: bool  # a run is still going: the page keeps polling


class Studio:
    """The core objects one page (and its API) shares: settings, history and the job runner."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.history = settings.open_history()
        self.runner = JobRunner(settings, self.history)
        self.reader = InputReader(settings, self.runner.inputs_in_use)
        self._api_checks = PerCaller(settings.api_checks_per_minute)
        # Several characters on one clip (or one on several clips) as one batch: batches/.
        self.batches = Batches(
            settings, self.history, self.runner, self.reader, key_for=self.key_for, visitor=self.visitor
        )
        # Runs a crash left behind are settled; paid ones are followed again, with the server's key.
        self.resumed = self.runner.resume_unfinished(settings.fal_key)
        if self.resumed:
            log.info("following %d unfinished run(s) again", len(self.resumed))

    def key_for(self, session_key: str | None) -> tuple[SecretStr, str]:
        """A key pasted in this browser wins over the server's: visitors can pay for themselves. In
        own-key mode the server's key is lent to nobody (page and API alike)."""
        pasted = bool(session_key and session_key.strip())
        if not pasted and self.settings.visitors_bring_own_key:
            raise OwnKeyRequiredError()
        return self.settings.require_key(session_key), "session" if pasted else "server"

    @staticmethod
    def visitor(browser: object) -> str | None:
        """A browser's id as the page may claim it: only the shape `identify` hands out. Anything
        else (a forged value sent to an event directly, another caller's `api:` id) is nobody."""
        return browser if isinstance(browser, str) and VISITOR_ID.fullmatch(browser) else None

    def api_caller(self, forwarded_for: str | None, client: Any) -> str:
        """Who an API call counts as, for the per-visitor limits: the connecting address, or, behind
        `MOTION_STUDIO_TRUSTED_PROXIES` proxies that append to X-Forwarded-For, the address the
        outermost of them saw (what a client writes there itself is further left, and ignored)."""
        hops = self.settings.trusted_proxies
        entries = [e.strip() for e in (forwarded_for or "").split(",") if e.strip()]
        address = entries[-hops] if hops and len(entries) >= hops else getattr(client, "host", None)
        return f"api:{address or 'unknown'}"

    def start(self, request: RunRequest, session_key: str | None, owner: str | None) -> Job:
        """Start a run for a page: the key that pays, the inputs made local files, then the runner
        (which checks them again before anything is sent)."""
        secret, source = self.key_for(session_key)
        return self._start(request, secret, source, self.visitor(owner))

    def start_for_api(self, request: RunRequest, caller: str) -> Job:
        """Start a run for an API caller: always the server's key, never a pasted one."""
        check_choices(request)
        secret, source = self.key_for(None)
        return self._start(request, secret, source, caller)

    def admit_api_check(self, caller: str) -> None:
        """`/check` is free for its caller but not for the server: a caller past its calls a minute
        is refused before anything is fetched or read."""
        if not self._api_checks.admit(caller):
            raise TooManyChecksError(self._api_checks.limit or 0)

    def check_for_api(self, request: RunRequest) -> CheckSummary:
        """What `start_for_api` would make of these inputs, as data, with nothing uploaded and nothing
        spent (no upload ahead either: an API caller may never generate). The server key's caps apply,
        as they would to the run, and a server that has no key for callers says so here already, rather
        than at generate time. A clip refused only for its length is still described."""
        check_choices(request)
        reading = self.read(request, None)
        try:
            self.key_for(None)
        except StudioError as exc:
            if exc.message not in reading.problems:
                reading = replace(reading, problems=(*reading.problems, exc.message))
        clip = self._refused_clip(request) if reading.trim_to is not None else None
        people = self.check_people(reading.image, reading.video) if self.settings.people_check else TURNED_OFF
        return check_summary(reading, request.tier or self.settings.default_tier, clip, people)

    def check_people(
        self, image: str | None, video: str | None, *, preview: bool = False
    ) -> PeopleCheck | None:
        """The people check of inputs the reading accepted (None: turned off, or nothing to check),
        with the pose preview when asked. Blocking for up to a second: call it from a worker thread.
        Its warnings are advice and never enter `Reading.problems`: Kling may still manage."""
        if not self.settings.people_check or not (image or video):
            return None
        folder = self.settings.data_dir / "previews" if preview else None  # pruned with the others
        return check_inputs(image, video, folder)

    def _refused_clip(self, request: RunRequest) -> VideoInfo | None:
        """The facts of a clip the check refused as too long (already local: a URL is fetched once)."""
        try:
            path = self.reader.pick(request.video, request.video_url, "video")
            return probe_video(path) if path else None
        except StudioError:
            return None

    def _start(self, request: RunRequest, key: SecretStr, source: str, owner: str | None) -> Job:
        tier = request.tier or self.settings.default_tier
        check_face(tier, request.orientation or "video", request.face.outline())  # before any fetch
        image, video = self.reader.pick_both(
            request.image, request.image_url, request.video, request.video_url
        )
        if not image or not video:
            raise StudioError("Add a character image and a reference clip first.")
        return self.runner.start(self._spec(request, image, video, owner), key, source)

    def _spec(self, request: RunRequest, image: str, video: str, owner: str | None) -> JobSpec:
        """What the runner gets; an input fetched from a URL keeps it (one on fal's CDN is passed on as
        it is, not uploaded again)."""
        return JobSpec(
            image,
            video,
            request.orientation or "video",
            request.prompt or "",
            bool(request.keep_sound),
            request.tier or self.settings.default_tier,
            owner=owner,
            image_url=_url_used(request.image, request.image_url),
            video_url=_url_used(request.video, request.video_url),
            face=self.reader.pick_face(request.face),
        )

    def read(self, request: RunRequest, session_key: str | None) -> Reading:
        """The page's inputs read, with the caps of whoever pays: a pasted key lifts the server's caps,
        and in own-key mode nothing is ready until a key is pasted."""
        pasted = bool(session_key and session_key.strip())
        r = request
        tier = r.tier or self.settings.default_tier
        reading = self.reader.read(
            r.image,
            r.image_url,
            r.video,
            r.video_url,
            r.orientation,
            r.prompt,
            tier,
            on_server_key=not pasted,
            face=r.face,
        )
        if not pasted and self.settings.visitors_bring_own_key:
            reading = replace(reading, problems=(*reading.problems, OwnKeyRequiredError().message))
        return reading

    def upload_ahead(self, reading: Reading, session_key: str | None, session: str) -> None:
        """Once the inputs are ready, send them to fal's storage while the user is still choosing
        (a prompt, a model), so that Generate only has to submit. Only files that go to fal as they are
        (no conversion), not ones already on fal's CDN, and only with a key that may pay for this page."""
        if not self.settings.upload_ahead or not reading.ready:
            return  # nothing leaves the machine for inputs that would be refused
        try:
            key, _ = self.key_for(session_key)
        except StudioError:
            return  # no key yet (or own-key mode): Generate will say so
        image_as_is = reading.image_report is not None and not reading.image_report.needs_conversion
        video_as_is = reading.video_report is not None and reading.video_report.action == "copy"
        for kind, path, as_is in (
            ("image", reading.image, image_as_is),
            ("video", reading.video, video_as_is),
        ):
            fetched = reading.fetched.get(kind)
            if path and as_is and not (fetched and on_fal_cdn(fetched, self.settings.fal_cdn_hosts)):
                self.runner.upload_ahead(path, key, (session, kind))
        for index, (path, report) in enumerate(zip(reading.face.images, reading.face_reports, strict=True)):
            if not report.needs_conversion:  # the face's images always go up (no CDN reuse for them)
                self.runner.upload_ahead(path, key, (session, f"face-{index}"))

    def trim(self, video: str | None, video_url: str | None, orientation: str) -> str:
        """The clip's first seconds that its orientation allows, as a new file the page may show."""
        source = self.reader.pick(video, video_url, "video")
        if not source:
            raise StudioError("Pick a clip first.")
        return servable(self.reader.trim(source, ORIENTATION_MAX_SECONDS[orientation])) or ""

    def job_to_watch(self, run: Run, owner: str | None) -> Job | None:
        """The live job of a run selected in the gallery, if this browser started it (another
        visitor's running run, in a shared gallery, is shown but not followed or cancelled here)."""
        job = self.runner.job_for_run(run.id)
        if job is None or job.finished or run.owner != self.visitor(owner):
            return None
        return job

    def live_job(self, owner: str | None) -> Job | None:
        """This browser's newest run that is still going, to re-attach a reloaded or second tab to."""
        visitor = self.visitor(owner)
        if visitor is None:
            return None
        for run in self.history.recent(20, owner=visitor):
            job = self.runner.job_for_run(run.id) if run.active else None
            if job is not None and not job.finished:
                return job
        return None

    def gallery(
        self, owner: str | None, limit: int | None = None, unless: str | None = None
    ) -> GalleryPage | None:
        """The newest `limit` runs this browser may see, with a count of all of them; None when its
        signature is still `unless` (a poll that finds nothing new touches no file)."""
        visitor = self.visitor(owner) or "-"  # "-" owns nothing
        scope = visitor if self.settings.galleries_are_private else None
        limit = limit or self.settings.gallery_page_size
        runs = self.history.recent(limit, owner=scope)
        total = self.history.count(owner=scope)
        signature = f"{total}|{presenter.history_signature(runs)}"
        if signature == unless:
            return None
        shown = [(run, picture) for run in runs if (picture := self._picture(run))]
        return GalleryPage(
            items=[(picture, presenter.run_caption(run)) for run, picture in shown],
            ids=[run.id for run, _ in shown],
            signature=signature,
            summary=presenter.runs_summary(runs, total),
            more=total > len(runs),
            active=self.history.active_count(owner=scope, in_flight=True) > 0,
        )

    @staticmethod
    def _picture(run: Run) -> str | None:
        """A frame of the output, or the character image while there is no output yet."""
        return next(
            (servable(p) for p in (run.thumbnail_path, run.image_path) if p and Path(p).exists()), None
        )

    def run_for(self, run_id: str | None, owner: str | None) -> Run | None:
        """A run this browser may see: with private galleries, only its own."""
        run = self.history.get(run_id) if run_id else None
        if run is not None and self.settings.galleries_are_private and run.owner != self.visitor(owner):
            return None
        return run

    def situation(self, run: Run) -> Situation:
        """What the page offers for `run`: read from the lifecycle, never decided by the page."""
        followed = self.runner.job_for_run(run.id) is not None or self.history.is_followed(run)
        return run.situation(followed=followed)

    def key_for_run(self, run: Run, session_key: str | None) -> SecretStr:
        """The key a run was paid with: another account's key would not find its request on fal."""
        if run.key_source == "server":
            if self.settings.fal_key is None or not self.settings.fal_key.get_secret_value().strip():
                raise StudioError("This run was started with the server's key, which is no longer set.")
            return self.settings.fal_key
        if not (session_key and session_key.strip()):
            raise StudioError("This run was started with a key pasted in the page: paste that key first.")
        return SecretStr(session_key.strip())

    def resume(self, run_id: str | None, owner: str | None, session_key: str | None) -> Job:
        run = self._run_allowing(run_id, owner, Action.RESUME, "This run is not waiting for anything.")
        return self.runner.resume(run, self.key_for_run(run, session_key), run.key_source)

    def run_again(self, run_id: str | None, owner: str | None, session_key: str | None) -> Job:
        run = self._run_allowing(run_id, owner, Action.RUN_AGAIN, "This run is still going.")
        key, source = self.key_for(session_key)
        return self.runner.run_again(run, key, source)

    def delete(self, run_id: str | None, owner: str | None, session_key: str | None) -> None:
        """Delete a run; one still on fal is cancelled there first."""
        run = self.run_for(run_id, owner)
        if run is None:
            return
        try:
            key: SecretStr | None = self.key_for_run(run, session_key)
        except StudioError:
            key = None  # a run still on fal is then only deleted here; the confirmation said so
        self.runner.delete(run, key)
        self.batches.grids.forget(run.batch_id)  # the batch's grid showed this run's video

    def result_file(self, run: Run) -> str | None:
        """The run's video as the page plays and downloads it, named after the run (the player's own
        download button saves the very file it plays)."""
        return servable_as(run.output_path, download_name(run))

    def result_for_api(self, run_id: str) -> tuple[str, RunSummary]:
        """A done run as the API answers it: its video as a file the server may hand out, and its
        summary (links or copies the video: call it off the event loop)."""
        run = self.history.get(run_id)
        video_file = self.result_file(run) if run else None
        if run is None or video_file is None:
            raise StudioError("This run's video is no longer kept.")
        return video_file, run_summary(run, self.history.events(run.id))

    def reference_clip(self, run: Run) -> str | None:
        """The run's clip as a browser plays it (an H.264 copy of a MOV/HEVC/ProRes clip)."""
        _, clip = run.input_files()
        return servable(self.reader.preview(clip) or clip)

    def side_by_side(self, run_id: str | None, owner: str | None) -> str:
        """Reference | result as one video, made once per run (kept in the run's folder)."""
        run = self.run_for(run_id, owner)
        if run is None or not run.output_path or not Path(run.output_path).exists():
            raise StudioError("Select a finished run first: the side-by-side view needs its video.")
        _, clip = run.input_files()
        if not clip or not Path(clip).exists():
            raise StudioError(
                "This run's reference clip is no longer kept, so there is nothing to put beside it."
            )
        target = Path(run.output_path).with_name("side-by-side.mp4")
        try:
            made = side_by_side(clip, run.output_path, target)
        except InputError as exc:
            raise StudioError(f"The side-by-side video could not be made: {exc.message}") from None
        return servable_as(made, download_name(run, "side-by-side")) or ""

    def _run_allowing(self, run_id: str | None, owner: str | None, action: Action, refusal: str) -> Run:
        run = self.run_for(run_id, owner)
        if run is None:
            raise StudioError("This run no longer exists.")
        if action not in self.situation(run).actions:
            raise StudioError(refusal)
        return run


def _url_used(uploaded: str | None, url: str | None) -> str | None:
    """The URL an input came from, when no file was uploaded for it (an upload wins)."""
    return None if uploaded or not (url and url.strip()) else url.strip()
