"""MediaPipe's pose and face-detection solutions, run on the CPU from the models inside the wheel.

Two models per picture, chosen for what the check needs and what ships with `mediapipe==0.10.21`:

- Pose (BlazePose, `model_complexity=1`: the *full* landmark model, the only one in the wheel;
  0 and 2 would be downloaded from Google's bucket on first use) with its segmentation output on:
  33 landmarks for the framing and the person's mask for their share of the picture, in one run.
  The mask is of the person the pose model follows, which is what Kling animates; the selfie
  segmentation model would add all people and salient objects (a cat scores 90 %).
- Face detection, full-range model: the only count of *several* people (pose follows one), and it
  finds both faces of two people side by side, which the short-range model misses.

MediaPipe's solution objects are not thread-safe: each is created lazily once, then used under
its own lock, so one `Detector` serves every thread (the page runs checks off the event loop).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .results import Landmark, PoseReading
from .rules import mask_share, reading_from

log = logging.getLogger("motion_studio.people")
# Every file the two solutions load, relative to the mediapipe package: checked before the first
# use, so a wheel without them is a skipped check, never a download.
MODEL_FILES = (
    "modules/pose_detection/pose_detection.tflite",
    "modules/pose_landmark/pose_landmark_full.tflite",
    "modules/pose_landmark/pose_landmark_cpu.binarypb",
    "modules/face_detection/face_detection_full_range_sparse.tflite",
    "modules/face_detection/face_detection_full_range_cpu.binarypb",
)
POSE_MODEL_COMPLEXITY = 1
FACE_MODEL_SELECTION = 1  # full range: faces up to ~5 m away, as in full-body shots
MIN_DETECTION_CONFIDENCE = 0.5


class DetectorUnavailable(Exception):
    """MediaPipe cannot run here (not installed, a wheel without the models, a broken native
    library): the check is skipped with this message as its reason."""


def mediapipe_dir() -> Path | None:
    """Where the mediapipe package is installed, found without importing it (the import is slow)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def missing_models() -> tuple[str, ...]:
    """The model files the check needs that the installed mediapipe lacks (all when it is missing)."""
    root = mediapipe_dir()
    if root is None:
        return MODEL_FILES
    return tuple(name for name in MODEL_FILES if not (root / name).is_file())


class Detector:
    """Pose and face models for any number of threads; created on the first `read`."""

    def __init__(self) -> None:
        self._create_lock = threading.Lock()
        self._pose_lock = threading.Lock()
        self._face_lock = threading.Lock()
        self._pose: Any = None
        self._faces: Any = None
        self._failure: str | None = None

    def _solutions(self) -> tuple[Any, Any]:
        """The two solution objects, created once; a failure is remembered and raised every time."""
        with self._create_lock:
            if self._failure is not None:
                raise DetectorUnavailable(self._failure)
            if self._pose is None:
                try:
                    with _native_logs_muted() if _MUTE_NATIVE_LOGS[0] else contextlib.nullcontext():
                        pose, faces = _create()
                        blank = np.zeros((64, 64, 3), np.uint8)  # its first run logs too
                        pose.process(blank), faces.process(blank)
                    self._pose, self._faces = pose, faces
                except DetectorUnavailable as exc:
                    self._failure = str(exc)
                    raise
                except ImportError as exc:
                    self._failure = "mediapipe is not installed (pip install mediapipe==0.10.21)"
                    raise DetectorUnavailable(self._failure) from exc
                except Exception as exc:  # ImportError, OSError from a native library, RuntimeError...
                    log.warning("MediaPipe could not start", exc_info=exc)
                    self._failure = "MediaPipe could not start on this machine"
                    raise DetectorUnavailable(self._failure) from exc
            return self._pose, self._faces

    def warm_up(self) -> None:
        """Load the models now (about a second) instead of on the first check."""
        self.read(np.zeros((64, 64, 3), np.uint8))

    def read(self, rgb: np.ndarray) -> PoseReading:
        """What one RGB picture (H×W×3 uint8) shows."""
        pose, faces = self._solutions()
        picture = np.ascontiguousarray(rgb, dtype=np.uint8)
        height, width = picture.shape[:2]
        with self._pose_lock:
            found = pose.process(picture)
            landmarks = _landmarks(found.pose_landmarks)
            share = mask_share(found.segmentation_mask) if landmarks else None
        with self._face_lock:
            detections = faces.process(picture).detections
        return reading_from(landmarks, len(detections or ()), share, width, height)


_MUTE_NATIVE_LOGS = [False]


def mute_native_logs() -> None:
    """Silence MediaPipe's native log lines while its models load. For a terminal (the command line,
    which checks before its runs start): the muting is process-wide, and in a server it would also
    swallow other threads' log lines for that half second, so a server keeps the noise instead."""
    _MUTE_NATIVE_LOGS[0] = True


@contextlib.contextmanager
def _native_logs_muted() -> Iterator[None]:
    """MediaPipe's C++ side (glog, TensorFlow Lite) writes INFO and WARNING lines straight to the
    process's stderr while its models load: noise in a terminal or a server log, and nothing a user
    can act on. File descriptor 2 points at /dev/null meanwhile (about half a second, once)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _create() -> tuple[Any, Any]:
    missing = missing_models()
    if missing:
        raise DetectorUnavailable(
            "the installed mediapipe lacks the model files "
            f"({', '.join(Path(m).name for m in missing)}); install mediapipe==0.10.21"
        )
    # Imported here: it takes most of a second, and the app must start (and work) without it.
    from mediapipe.python.solutions import face_detection, pose

    return (
        pose.Pose(
            static_image_mode=True,  # sampled frames are seconds apart: detect in each, never track
            model_complexity=POSE_MODEL_COMPLEXITY,
            enable_segmentation=True,
            min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        ),
        face_detection.FaceDetection(
            model_selection=FACE_MODEL_SELECTION, min_detection_confidence=MIN_DETECTION_CONFIDENCE
        ),
    )


def _landmarks(found: Any) -> tuple[Landmark, ...]:
    if found is None:
        return ()
    return tuple(Landmark(float(p.x), float(p.y), float(p.visibility)) for p in found.landmark)
