"""The people check as callers use it: files in, readings, warnings and a preview out, never an
exception.

Everything here is synchronous and blocking (a photo takes ~0.1 s, a 30 s clip well under 1 s, the
first call about a second more to load the models): the page and the API run it in a worker thread,
off the event loop. One `PeopleChecker` is safe to share between threads; results are cached by
file content. Whatever goes wrong (an odd file, MediaPipe missing or broken, ffmpeg failing) comes
back as a `Skipped` with the reason, so the rest of the app goes on without the check.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from ..errors import InputError
from ..media.files import temp_sibling
from .cache import LruCache, file_digest
from .detect import Detector, DetectorUnavailable
from .frames import (
    ANALYSIS_MAX_SIDE,
    DEFAULT_CLIP_FRAMES,
    MAX_CLIP_FRAMES,
    load_picture,
    read_clip,
    read_frame_at,
)
from .preview import PREVIEW_HEIGHT, panel, side_by_side
from .results import ClipFrameReading, ClipReading, PeopleReport, PoseReading, Skipped
from .rules import advise, summarise_clip

log = logging.getLogger("motion_studio.people")

# Pictures for the preview are read larger than for the models: they are shown PREVIEW_HEIGHT high.
_PREVIEW_SOURCE_SIDE = 2 * PREVIEW_HEIGHT


def _skipped(subject: Literal["image", "clip", "preview"], exc: BaseException) -> Skipped:
    """The reason a check did not run, in words a user can act on where there are such words."""
    if isinstance(exc, InputError):
        return Skipped(subject, exc.message)
    if isinstance(exc, DetectorUnavailable):
        return Skipped(subject, f"The people check is not available here: {exc}.")
    log.warning("people check of the %s failed", subject, exc_info=exc)
    what = "inputs" if subject == "preview" else subject
    return Skipped(subject, f"The people check could not read this {what}.")


class PeopleChecker:
    """Reads photos and clips with one shared `Detector`, keeping the readings by file content.

    `frames` is how many evenly spaced frames of a clip are read (more: finer, slower, ~50 ms each);
    `max_side` the size pictures are scaled down to before the models see them.
    """

    def __init__(
        self,
        *,
        frames: int = DEFAULT_CLIP_FRAMES,
        max_side: int = ANALYSIS_MAX_SIDE,
        cache_size: int = 64,
        detector: Detector | None = None,
    ) -> None:
        self.frames = max(1, min(frames, MAX_CLIP_FRAMES))
        self.max_side = max_side
        self.detector = detector or Detector()
        self._images: LruCache[PoseReading] = LruCache(cache_size)
        self._clips: LruCache[ClipReading] = LruCache(cache_size)

    def check_image(self, path: str | Path) -> PoseReading | Skipped:
        """What the photo shows: people, framing, the person's share, faces."""
        try:
            key = f"{self.max_side}:{file_digest(path)}"
            cached = self._images.get(key)
            if cached is not None:
                return cached
            picture = load_picture(path, self.max_side)
            reading = self.detector.read(_rgb(picture))
        except Exception as exc:
            return _skipped("image", exc)
        self._images.put(key, reading)
        return reading

    def check_clip(self, path: str | Path, frames: int | None = None) -> ClipReading | Skipped:
        """What the clip shows over `frames` (default: the checker's) evenly spaced frames."""
        count = max(1, min(frames or self.frames, MAX_CLIP_FRAMES))
        try:
            key = f"{count}:{self.max_side}:{file_digest(path)}"
            cached = self._clips.get(key)
            if cached is not None:
                return cached
            sampled = read_clip(path, count, self.max_side)
            reading = summarise_clip(
                sampled.duration,
                [ClipFrameReading(f.time, self.detector.read(f.rgb)) for f in sampled.frames],
            )
        except Exception as exc:
            return _skipped("clip", exc)
        self._clips.put(key, reading)
        return reading

    def check(
        self, image: str | Path | None = None, clip: str | Path | None = None, frames: int | None = None
    ) -> PeopleReport:
        """Both inputs (either may be None) read and advised on; what could not be read is skipped."""
        skipped: list[Skipped] = []
        image_reading = clip_reading = None
        if image is not None:
            result = self.check_image(image)
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                image_reading = result
        if clip is not None:
            clip_result = self.check_clip(clip, frames)
            if isinstance(clip_result, Skipped):
                skipped.append(clip_result)
            else:
                clip_reading = clip_result
        return PeopleReport(image_reading, clip_reading, advise(image_reading, clip_reading), tuple(skipped))

    def preview(
        self,
        image: str | Path | None,
        clip: str | Path | None,
        dest: str | Path,
        frames: int | None = None,
    ) -> Path | Skipped:
        """The pose preview PNG at `dest`: the photo, then one clip frame (the clearest one with the
        clip's usual framing), each with its skeleton, PREVIEW_HEIGHT px high. An input that cannot be
        checked is left out; `Skipped` (with the first reason) only when neither can be shown."""
        dest = Path(dest)
        reasons: list[str] = []
        try:
            panels: list[Image.Image] = []
            if image is not None:
                reading = self.check_image(image)
                if isinstance(reading, Skipped):
                    reasons.append(reading.reason)
                else:
                    picture = load_picture(image, _PREVIEW_SOURCE_SIDE)
                    panels.append(panel(picture, reading.landmarks, f"Image · {_caption(reading)}"))
            if clip is not None:
                clip_reading = self.check_clip(clip, frames)
                if isinstance(clip_reading, Skipped):
                    reasons.append(clip_reading.reason)
                else:
                    chosen = preview_frame(clip_reading)
                    frame = read_frame_at(clip, chosen.time, _PREVIEW_SOURCE_SIDE)
                    if frame is None:
                        raise InputError("The clip frame for the pose preview could not be decoded.")
                    caption = f"Clip at {chosen.time:.1f} s · {_caption(chosen.reading)}"
                    panels.append(panel(Image.fromarray(frame.rgb), chosen.reading.landmarks, caption))
            if not panels:
                return Skipped("preview", reasons[0] if reasons else "There is no image or clip to preview.")
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_sibling(dest)
            try:
                side_by_side(panels).save(tmp, format="PNG")
                tmp.replace(dest)
            finally:
                tmp.unlink(missing_ok=True)
        except Exception as exc:
            return _skipped("preview", exc)
        return dest


def preview_frame(clip: ClipReading) -> ClipFrameReading:
    """The frame the preview shows: of those with the clip's usual framing, the one where the person
    is largest; the middle frame when no frame has a person."""
    typical = [f for f in clip.frames if f.reading.has_person and f.reading.framing is clip.framing]
    if typical:
        return max(typical, key=lambda f: f.reading.share or 0.0)
    return clip.frames[len(clip.frames) // 2]


def _caption(reading: PoseReading) -> str:
    if not reading.has_person:
        return "no person found"
    people = "" if reading.people == 1 else f" · {reading.people} people"
    return f"{reading.framing}{people}"


def _rgb(picture: Image.Image) -> np.ndarray:
    return np.asarray(picture.convert("RGB"))
