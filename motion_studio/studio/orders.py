"""Starting runs and checking inputs before they start: for the page (its reading, upload ahead, the
trimmed clip) and for the API (`/check` and its per-caller limit), with the caps of whoever pays."""

from __future__ import annotations

from dataclasses import replace

from pydantic import SecretStr

from ..errors import MissingInputError, OwnKeyRequiredError, StudioError, TooManyChecksError
from ..fetching import on_fal_cdn
from ..input_reading import InputReader, Reading
from ..jobs.job import Job
from ..jobs.runner import JobRunner
from ..media.video import VideoInfo, clip_limit, probe_video
from ..order import FaceSources, Order, Source
from ..people_check import TURNED_OFF, PeopleCheck, check_inputs
from ..rate import PerCaller
from ..serving import servable
from ..settings import Settings
from ..summary import CheckSummary, check_summary
from .keys import API_CALLER, Keys


class Orders:
    """Takes a single run's order (page and API): reads its inputs first, then starts it (one per
    `Studio`; an order of several goes to `Batches`)."""

    def __init__(self, settings: Settings, runner: JobRunner, reader: InputReader, keys: Keys) -> None:
        self.settings = settings
        self.runner = runner
        self.reader = reader
        self.keys = keys
        self._api_checks = PerCaller(settings.api_checks_per_minute)

    def start(self, order: Order, session_key: str | None, owner: str | None) -> Job:
        """Start a run for a page: the key that pays, the inputs made local files, then the runner
        (which checks them again before anything is sent)."""
        visitor = self.keys.visitor(owner)
        secret, source = self.keys.key_for(session_key, visitor)
        return self._start(order, secret, source, visitor)

    def start_for_api(self, order: Order, caller: str) -> Job:
        """Start a run for an API caller: always the server's key, never a pasted one."""
        secret, source = self.keys.key_for(None, caller)
        return self._start(order, secret, source, caller)

    def admit_api_check(self, caller: str) -> None:
        """`/check` is free for its caller but not for the server: a caller past its calls a minute
        is refused before anything is fetched or read."""
        if not self._api_checks.admit(caller):
            raise TooManyChecksError(self._api_checks.limit or 0)

    def check_for_api(self, order: Order) -> CheckSummary:
        """What `start_for_api` would make of these inputs, as data, with nothing uploaded and nothing
        spent (no upload ahead either: an API caller may never generate). The server key's caps apply,
        as they would to the run, and a server that has no key for callers says so here already, rather
        than at generate time. A clip refused only for its length is still described."""
        reading = self.read(order, None)
        try:
            self.keys.key_for(None, API_CALLER)
        except StudioError as exc:
            if exc.message not in reading.problems:
                reading = replace(reading, problems=(*reading.problems, exc.message))
        clip = self._refused_clip(order.video) if reading.trim_to is not None else None
        people = self.check_people(reading.image, reading.video) if self.settings.people_check else TURNED_OFF
        return check_summary(reading, order.options, clip, people)

    def check_people(
        self, image: str | None, video: str | None, *, preview: bool = False, always: bool = False
    ) -> PeopleCheck | None:
        """The people check of inputs the reading accepted (None: turned off, or nothing to check),
        with the pose preview when asked; `always`: even where the setting turns it off (the command
        line's `--strict`). Blocking for up to a second: call it from a worker thread. Its warnings
        are advice and never enter `Reading.problems`: Kling may still manage."""
        if not (self.settings.people_check or always) or not (image or video):
            return None
        folder = self.settings.data_dir / "previews" if preview else None  # pruned with the others
        return check_inputs(image, video, folder)

    def _refused_clip(self, video: Source) -> VideoInfo | None:
        """The facts of a clip the check refused as too long (already local: a URL is fetched once)."""
        try:
            path = self.reader.pick(video, "video")
            return probe_video(path) if path else None
        except StudioError:
            return None

    def _start(self, order: Order, key: SecretStr, source: str, owner: str | None) -> Job:
        return self.runner.start(self.localised(order), key, source, owner=owner)

    def localised(self, order: Order) -> Order:
        """The order with its inputs as local files, which the runner takes; an input fetched from a
        URL keeps it (one on fal's CDN is passed on as it is, not uploaded again)."""
        image, video = self.reader.local(order.image, "image"), self.reader.local(order.video, "video")
        if not image or not video:
            raise MissingInputError.both()
        face = self.reader.pick_face(order.face)
        return Order(order.options, ((image, video),), FaceSources.of_files(face))

    def read(self, order: Order, session_key: str | None) -> Reading:
        """The page's inputs read, with the caps of whoever pays: a pasted key lifts the server's caps,
        and in own-key mode nothing is ready until a key is pasted."""
        pasted = bool(session_key and session_key.strip())
        reading = self.reader.read(
            order.image, order.video, order.options, on_server_key=not pasted, face=order.face
        )
        if not pasted and self.settings.visitors_bring_own_key:
            reading = replace(reading, problems=(*reading.problems, OwnKeyRequiredError().message))
        return reading

    def upload_ahead(
        self, reading: Reading, session_key: str | None, session: str, owner: str | None = None
    ) -> None:
        """Once the inputs are ready, send them to fal's storage while the user is still choosing
        (a prompt, a model), so that Generate only has to submit. Only files that go to fal as they are
        (no conversion), not ones already on fal's CDN, and only with a key that may pay for this page
        (`owner`: who the page is, so a visitor signed in where sign-in is required gets it too)."""
        if not self.settings.upload_ahead or not reading.ready:
            return  # nothing leaves the machine for inputs that would be refused
        try:
            key, _ = self.keys.key_for(session_key, self.keys.visitor(owner))
        except StudioError:
            return  # no key yet (or own-key mode, or not signed in): Generate will say so
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

    def trim(self, video: Source, orientation: str | None) -> str:
        """The clip's first seconds that its orientation allows, as a new file the page may show."""
        source = self.reader.pick(video, "video")
        if not source:
            raise MissingInputError.clip()
        return servable(self.reader.trim(source, clip_limit(orientation))) or ""
