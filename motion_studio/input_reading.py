"""The page's inputs as the studio reads them: an upload or a URL made a local file, checked, priced.

The page asks "what do these inputs amount to?" and gets a `Reading`: plain data (what was found, what
is wrong, what a run would cost) that the presenter turns into sentences. Each input is read on its
own, so a bad image URL never hides what the clip's check found, and a bad file never blocks the next
check. Fetching, probing, trimming and browser previews live here, behind the app's services, so the
page and the presenter never touch the network or ffmpeg.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import fetching, notices
from .catalog import FACE_REFERENCE, Face, either, options_under
from .errors import BudgetError, ClipTooLongError, InputError, StudioError
from .media.image import ImageReport, inspect_image
from .media.run_inputs import check_face as check_face_images
from .media.video import VideoReport, inspect_video, trim_clip
from .media.views import preview_image, preview_video
from .order import FaceSources, Options, Source, prompt_with_face
from .settings import Settings

PREVIEW_NAME = re.compile(r"preview-[0-9a-f]{16,64}\.mp4")
MAX_PREVIEWS = 1000


@dataclass(frozen=True)
class Reading:
    """What the page's inputs amount to. `problems` are sentences that keep Generate off."""

    image: str | None = None
    video: str | None = None
    image_report: ImageReport | None = None
    video_report: VideoReport | None = None
    image_problem: str | None = None
    video_problem: str | None = None
    seconds: float | None = None
    cost: float | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    trim_to: float | None = None  # the clip is too long: offer to keep its first `trim_to` seconds
    fetched: dict[str, str] = field(default_factory=dict)  # "image"/"video" → the URL it came from
    face: Face = field(default_factory=Face)  # the face's images as local files, when all could be read
    face_reports: tuple[ImageReport, ...] = ()
    face_problem: str | None = None

    @property
    def ready(self) -> bool:
        return bool(self.image and self.video and not self.problems)


class InputReader:
    """Reads, previews and trims the page's inputs; one per app (it remembers previews it made)."""

    def __init__(self, settings: Settings, in_use: Callable[[], set[Path]] = set) -> None:
        self.settings = settings
        self._in_use = in_use  # inputs runs still need (the runner's): pruning leaves them alone
        # A preview's file name → the clip it was made from (the newest MAX_PREVIEWS; the name carries
        # the clip's content key, so nobody can name another visitor's preview without its bytes).
        self._previews: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    # -- where an input comes from ------------------------------------------------------------------

    def original(self, path: str | None) -> str | None:
        """The clip a browser preview stands for (the page shows the preview; fal gets the original)."""
        if not path:
            return path
        name = Path(path).name
        if not PREVIEW_NAME.fullmatch(name):
            return path
        with self._lock:
            original = self._previews.get(name)
        return original if original and Path(original).is_file() else path

    def pick(self, source: Source, kind: str) -> str | None:
        """A file wins; otherwise a URL, downloaded (checked for safety); otherwise nothing."""
        if source.file:
            return self.original(source.file)
        if source.url:
            path = fetching.fetch_url(source.url, kind, self.settings.data_dir / "downloads")
            self._prune(Path(path))
            return str(path)
        return None

    def local(self, source: Source, kind: str) -> Source:
        """`source` as a local file, keeping the URL it was fetched from (errors raised as they come; a
        source that is a file already, with the URL it came from, stays as it is)."""
        path = self.pick(source, kind)
        return Source(path, source.url) if path else Source()

    def pick_face(self, given: FaceSources) -> Face:
        """The face's images as local files (URLs fetched as the image's is)."""
        frontal = self.pick(given.frontal, "image")
        return Face(frontal, tuple(self.pick(angle, "image") or "" for angle in given.angles if angle))

    def _prune(self, just_made: Path | None = None) -> None:
        """Room in the scratch quota, never at the cost of an input a run still needs or of the file
        just fetched for the caller."""
        keep = self._in_use() | ({just_made} if just_made else set())
        fetching.prune(self.scratch_folders(), self.settings.scratch_mb * 2**20, keep)

    def scratch_folders(self) -> list[Path]:
        """Where fetched, trimmed and preview files go: kept under a quota, the oldest removed first."""
        data = self.settings.data_dir
        return [data / "downloads", data / "trimmed", data / "previews"]

    # -- what they amount to ------------------------------------------------------------------------

    def read(
        self,
        image: Source,
        video: Source,
        options: Options,
        *,
        on_server_key: bool = True,
        face: FaceSources | None = None,
    ) -> Reading:
        """Read every input (`on_server_key`: no key was pasted, so the server's caps apply)."""
        problems: list[str] = []
        notes: list[str] = []
        fetched: dict[str, str] = {}
        orientation, prompt, tier_name = (
            options.get("orientation"),
            options.get("prompt") or "",
            options.model,
        )
        image_path, image_report, image_problem = self._read_image(image, fetched)
        video_path, video_report, video_problem, trim_to = self._read_video(video, orientation, fetched)
        face = face or FaceSources()
        face_files, face_reports, face_problem = self._read_face(face)
        problems += [p for p in (image_problem, video_problem, face_problem) if p]
        notes += [
            *(image_report.notes if image_report else ()),
            *(video_report.notes if video_report else ()),
            *(f"Face: {note}" for report in face_reports for note in report.notes),
        ]
        seconds = cost = None
        if video_report is not None:
            seconds = video_report.info.duration
            cost = options.estimate_cost(seconds)
            cap = self.settings.max_run_cost
            if on_server_key and cap is not None and cost > cap:  # refused as the run would be
                fits = either(
                    options_under(cap, seconds, tier_name, face=bool(face), price=options.price_per_second)
                )
                problems.append(BudgetError.per_run(cost, cap, fits).message)
        if face and prompt_with_face(prompt) != prompt:
            notes.append(notices.face_named(FACE_REFERENCE))
        return Reading(
            image_path,
            video_path,
            image_report,
            video_report,
            image_problem,
            video_problem,
            seconds,
            cost,
            tuple(problems),
            tuple(notes),
            trim_to,
            fetched,
            face_files,
            face_reports,
            face_problem,
        )

    def _read_face(self, given: FaceSources) -> tuple[Face, tuple[ImageReport, ...], str | None]:
        """The face's images and their reports, or the sentence saying what is wrong (the order has
        refused a face its model or options can't take)."""
        if not given:
            return Face(), (), None
        try:
            face = self.pick_face(given)
            return face, check_face_images(face, self.settings.max_image_pixels), None
        except StudioError as exc:
            return Face(), (), exc.message

    def _read_image(
        self, image: Source, fetched: dict[str, str]
    ) -> tuple[str | None, ImageReport | None, str | None]:
        try:
            path = self.pick(image, "image")
            if path is None:
                return None, None, None
            if not image.file and image.url:
                fetched["image"] = image.url
            return path, inspect_image(path, self.settings.max_image_pixels), None
        except StudioError as exc:
            return None, None, exc.message

    def _read_video(
        self, video: Source, orientation: str | None, fetched: dict[str, str]
    ) -> tuple[str | None, VideoReport | None, str | None, float | None]:
        """The clip, its report, or the sentence saying what is wrong (and, if only too long, the
        length to trim it to)."""
        try:
            path = self.pick(video, "video")
            if path is None:
                return None, None, None, None
            if not video.file and video.url:
                fetched["video"] = video.url
            return path, inspect_video(path, orientation), None, None
        except ClipTooLongError as exc:
            return None, None, exc.message, exc.limit
        except StudioError as exc:
            return None, None, exc.message, None

    # -- what the page shows and does -----------------------------------------------------------------

    def preview(self, video: str | None) -> str | None:
        """A copy of the clip Chromium plays (H.264), or None when the clip plays as it is."""
        original = self.original(video)
        if not original or not Path(original).is_file():
            return None
        try:
            shown = preview_video(original, self.settings.data_dir / "previews")
        except InputError:
            return None
        if Path(shown) == Path(original):
            return None
        with self._lock:
            self._previews[Path(shown).name] = original
            self._previews.move_to_end(Path(shown).name)
            while len(self._previews) > MAX_PREVIEWS:
                self._previews.popitem(last=False)
        self._prune(Path(shown))
        return str(shown)

    def image_preview(self, image: str | None) -> str | None:
        """A PNG of a photo browsers can't show (an iPhone HEIC, a TIFF), used as the input from then
        on: it is what the photo would be converted to before upload anyway. None: shown as it is."""
        if not image or not Path(image).is_file():
            return None
        try:
            shown = preview_image(image, self.settings.data_dir / "previews", self.settings.max_image_pixels)
        except InputError:
            return None  # the check says what is wrong with it
        return None if Path(shown) == Path(image) else str(shown)

    def can_show_image(self, image: str | None) -> bool:
        """Whether a browser can show the picked file, as it is or as its preview: not a file that is
        no image, is empty, or is too large to open (the check says which). The page takes such a file
        out of its box rather than leave a broken picture there."""
        if not image or not Path(image).is_file():
            return False
        try:
            preview_image(image, self.settings.data_dir / "previews", self.settings.max_image_pixels)
        except InputError:
            return False
        return True

    def trim(self, video: str, seconds: float) -> str:
        """A trimmed copy in the data directory; the original clip is left untouched."""
        trimmed = trim_clip(self.original(video) or video, seconds, self.settings.data_dir / "trimmed")
        self._prune(Path(trimmed))
        return str(trimmed)
