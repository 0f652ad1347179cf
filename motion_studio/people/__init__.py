"""The people and pose check: know before paying whether the photo and the clip fit Kling.

Offline, on the CPU, with MediaPipe's pose and face-detection models from `models/` (nothing is
downloaded). For the photo it reads whether there is a person, the framing (full body / upper body /
head only), the person's share of the picture and the number of faces; for the clip the same on a few evenly spaced frames, summarised. From both it gives
warnings that never block Generate, each with a stable `code` and one sentence with the fix, and
draws a pose preview (the skeleton over the photo and over one clip frame, side by side).

Use::

    report = people.check_people(image_path, clip_path)   # PeopleReport, never raises
    for warning in report.warnings: print(warning.code, warning.message)
    people.pose_preview(image_path, clip_path, dest_png)   # Path, or Skipped with a reason

The functions block (a photo ~0.1 s, a 30 s clip under a second, the first call ~1 s more while the
models load): run them in a worker thread. They share one thread-safe `PeopleChecker`, which caches
results by file content. Modules: `results` (the dataclasses), `rules` (pure decisions), `detect`
(MediaPipe), `frames` (pictures and clip frames), `preview` (drawing), `cache`, `checker`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .checker import PeopleChecker
from .detect import Detector, missing_models
from .frames import DEFAULT_CLIP_FRAMES
from .preview import PREVIEW_HEIGHT
from .results import (
    ClipFrameReading,
    ClipReading,
    Framing,
    Landmark,
    PeopleReport,
    PeopleWarning,
    PoseReading,
    Skipped,
    WarningCode,
)
from .rules import advise

_default: PeopleChecker | None = None
_default_lock = threading.Lock()


def default_checker() -> PeopleChecker:
    """The process-wide checker the functions below use (created on first use, models loaded lazily)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PeopleChecker()
        return _default


def check_people(
    image: str | Path | None = None, clip: str | Path | None = None, frames: int | None = None
) -> PeopleReport:
    """Both inputs read, and the warnings about them; what could not be checked is in `skipped`."""
    return default_checker().check(image, clip, frames)


def pose_preview(
    image: str | Path | None, clip: str | Path | None, dest: str | Path, frames: int | None = None
) -> Path | Skipped:
    """Write the pose preview PNG (photo and one clip frame, skeletons drawn) to `dest`."""
    return default_checker().preview(image, clip, dest, frames)


__all__ = [
    "DEFAULT_CLIP_FRAMES",
    "PREVIEW_HEIGHT",
    "ClipFrameReading",
    "ClipReading",
    "Detector",
    "Framing",
    "Landmark",
    "PeopleChecker",
    "PeopleReport",
    "PeopleWarning",
    "PoseReading",
    "Skipped",
    "WarningCode",
    "advise",
    "check_people",
    "default_checker",
    "missing_models",
    "pose_preview",
]
