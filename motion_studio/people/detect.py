"""MediaPipe's pose landmarker and face detector, run on the CPU through its Tasks API, from the model
files in `models/` beside this module (nothing is downloaded, ever).

Two models per picture, chosen for what the check needs:

- Pose (BlazePose GHUM, the *full* landmark model) with its segmentation output on: 33 landmarks
  for the framing and the person's mask for their share of the picture, in one run. The mask is of
  the person the pose model follows, which is what Kling animates; a selfie segmentation model would
  add all people and salient objects (a cat scores 90 %).
- Face detection, full-range model: the only count of *several* people (pose follows one), and it
  finds both faces of two people side by side, which the short-range model misses.

The files come from the Apache-2.0 models MediaPipe's legacy solutions shipped (see
`models/PROVENANCE.md`, and `scripts/make_people_models.py`, which makes them).

MediaPipe's task objects are not thread-safe: each is created lazily once, then used under its own
lock, so one `Detector` serves every thread (the page runs checks off the event loop).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .results import Landmark, PoseReading
from .rules import mask_share, reading_from

log = logging.getLogger("motion_studio.people")
MODEL_DIR = Path(__file__).resolve().parent / "models"
POSE_MODEL = "pose_landmarker_full.task"
FACE_MODEL = "face_detection_full_range_sparse.tflite"
# Every file the two tasks load: checked before the first use, so a checkout without them is a
# skipped check with the reason, never a download.
MODEL_FILES = (POSE_MODEL, FACE_MODEL)
MIN_DETECTION_CONFIDENCE = 0.5


class DetectorUnavailable(Exception):
    """MediaPipe cannot run here (not installed, the model files missing, a broken native library):
    the check is skipped with this message as its reason."""


def missing_models() -> tuple[str, ...]:
    """The model files the check needs that are not in `MODEL_DIR`."""
    return tuple(name for name in MODEL_FILES if not (MODEL_DIR / name).is_file())


class Detector:
    """Pose and face models for any number of threads; created on the first `read`."""

    def __init__(self) -> None:
        self._create_lock = threading.Lock()
        self._pose_lock = threading.Lock()
        self._face_lock = threading.Lock()
        # The two task objects once created, in a list the exit hook below can empty.
        self._held: list[Any] = []
        self._failure: str | None = None

    def _tasks(self) -> tuple[Any, Any]:
        """The two task objects, created once; a failure is remembered and raised every time."""
        with self._create_lock:
            if self._failure is not None:
                raise DetectorUnavailable(self._failure)
            if not self._held:
                try:
                    with _muted_if_asked():
                        pose, faces = _create()
                        blank = _image(np.zeros((64, 64, 3), np.uint8))  # its first run logs too
                        pose.detect(blank), faces.detect(blank)
                    self._held[:] = [pose, faces]
                    _LIVE.add(self)
                except DetectorUnavailable as exc:
                    self._failure = str(exc)
                    raise
                except ImportError as exc:
                    self._failure = "mediapipe is not installed (pip install -r requirements.txt)"
                    raise DetectorUnavailable(self._failure) from exc
                except Exception as exc:  # OSError from a native library, RuntimeError...
                    log.warning("MediaPipe could not start", exc_info=exc)
                    self._failure = "MediaPipe could not start on this machine"
                    raise DetectorUnavailable(self._failure) from exc
            return self._held[0], self._held[1]

    def read(self, rgb: np.ndarray) -> PoseReading:
        """What one RGB picture (H×W×3 uint8) shows."""
        pose, faces = self._tasks()
        picture = _image(rgb)
        height, width = picture.height, picture.width
        # Muted if asked: the first pictures with a pose log a line or two as well.
        with self._pose_lock, _muted_if_asked():
            found = pose.detect(picture)
            landmarks = _landmarks(found.pose_landmarks)
            masks = found.segmentation_masks
            share = mask_share(masks[0].numpy_view()) if landmarks and masks else None
        with self._face_lock, _muted_if_asked():
            detections = faces.detect(picture).detections
        return reading_from(landmarks, len(detections or ()), share, width, height)


_MUTE_NATIVE_LOGS = [False]


def mute_native_logs() -> None:
    """Silence MediaPipe's native log lines while its models load and run. For a terminal (the
    command line, which checks before its runs start): the muting is process-wide, and in a server
    it would also swallow other threads' log lines meanwhile, so a server keeps the noise instead."""
    _MUTE_NATIVE_LOGS[0] = True


def _muted_if_asked() -> contextlib.AbstractContextManager[None]:
    return _native_logs_muted() if _MUTE_NATIVE_LOGS[0] else contextlib.nullcontext()


_MUTE_LOCK = threading.Lock()
_MUTED = {"depth": 0, "saved": -1}


@contextlib.contextmanager
def _native_logs_muted() -> Iterator[None]:
    """MediaPipe's C++ side (absl, LiteRT) writes INFO and WARNING lines straight to the process's
    stderr while its models load (and on the first pictures): noise in a terminal or a server log,
    and nothing a user can act on. File descriptor 2 points at /dev/null meanwhile; counted, so
    threads reading at once restore it once, when the last one is done."""
    with _MUTE_LOCK:
        if _MUTED["depth"] == 0:
            sys.stderr.flush()
            _MUTED["saved"] = os.dup(2)
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
        _MUTED["depth"] += 1
    try:
        yield
    finally:
        with _MUTE_LOCK:
            _MUTED["depth"] -= 1
            if _MUTED["depth"] == 0:
                os.dup2(_MUTED["saved"], 2)
                os.close(_MUTED["saved"])


def _create() -> tuple[Any, Any]:
    missing = missing_models()
    if missing:
        raise DetectorUnavailable(
            f"the model files {', '.join(missing)} are missing from {MODEL_DIR} "
            "(scripts/make_people_models.py makes them)"
        )
    # Imported here: it takes most of a second, and the app must start (and work) without it. And in
    # a thread of its own: mediapipe keeps the error of an optional import (sounddevice without
    # PortAudio) with its traceback, and with it every frame that led to the import; here those are
    # that thread's, not this call's, which would hold these tasks until the process ends.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(importlib.import_module, "mediapipe.tasks.python.vision").result()
    from mediapipe.tasks.python import BaseOptions, vision

    pose = vision.PoseLandmarker.create_from_options(
        vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(MODEL_DIR / POSE_MODEL)),
            running_mode=vision.RunningMode.IMAGE,  # sampled frames are seconds apart: never track
            num_poses=1,
            min_pose_detection_confidence=MIN_DETECTION_CONFIDENCE,
            output_segmentation_masks=True,
        )
    )
    faces = vision.FaceDetector.create_from_options(
        vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(MODEL_DIR / FACE_MODEL)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        )
    )
    return pose, faces


def _image(rgb: np.ndarray) -> Any:
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb, dtype=np.uint8))


# Detectors whose tasks are loaded, for the exit hook below.
_LIVE: weakref.WeakSet[Detector] = weakref.WeakSet()


def _release_at_exit() -> None:
    """Let the tasks go while the interpreter still works. Left to the very end, each one's `__del__`
    prints a traceback from a half torn-down module. Registered when this module is imported, before
    mediapipe is (it registers its own exit hook then), so this runs after that hook: the tasks then
    skip their native clean-up, which could not run anyway (their worker threads are stopped)."""
    with _muted_if_asked():  # the native side logs a line for each task that goes
        for detector in list(_LIVE):
            detector._held.clear()
        gc.collect()


atexit.register(_release_at_exit)


def _landmarks(found: Any) -> tuple[Landmark, ...]:
    if not found:
        return ()
    return tuple(Landmark(float(p.x), float(p.y), float(p.visibility or 0.0)) for p in found[0])
