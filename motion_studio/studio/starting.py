"""Starting runs and checking inputs before they start: for the page (its reading, upload ahead, the
trimmed clip) and for the API (`/check` and its per-caller limit), with the caps of whoever pays."""

from __future__ import annotations

from dataclasses import replace

from pydantic import SecretStr

from ..catalog import ORIENTATION_MAX_SECONDS, check_face
from ..errors import OwnKeyRequiredError, StudioError, TooManyChecksError
from ..fetching import on_fal_cdn
from ..inputs import InputReader, Reading
from ..jobs import Job, JobRunner, JobSpec
from ..media.video import VideoInfo, probe_video
from ..people_check import TURNED_OFF, PeopleCheck, check_inputs
from ..rate import PerCaller
from ..run_request import RunRequest, check_choices
from ..serving import servable
from ..summary import CheckSummary, check_summary
from .keys import KeysMixin


class StartingMixin(KeysMixin):
    """Part of `Studio`: starting runs (page and API) and reading their inputs first."""

    runner: JobRunner
    reader: InputReader
    _api_checks: PerCaller

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


def _url_used(uploaded: str | None, url: str | None) -> str | None:
    """The URL an input came from, when no file was uploaded for it (an upload wins)."""
    return None if uploaded or not (url and url.strip()) else url.strip()
