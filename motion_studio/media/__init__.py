"""Media checks that run before anything is uploaded or paid for, and the few easy conversions.

Inspection is split from preparation: `inspect_*` only reads headers (tens of milliseconds, safe to
run on every change in the UI) and returns a report with a verdict; `prepare_*` converts what the
model does not take (webm, ProRes, RGBA PNG, HEIC, WebP, EXIF-rotated photos...) into a file it does
take; `preview_*`, `side_by_side` and `comparison_grid` make copies only for people to look at.
Every refusal is an `InputError` carrying one sentence that says what is wrong and what to do.

`ffmpeg` (the binary and how untrusted files reach it), `video`, `image`, `inputs` (a run's inputs as
a whole) and `views` (previews); this module re-exports their public names.
"""

from __future__ import annotations

# Kept so `motion_studio.media.subprocess.run` (the name tests patch to hang ffmpeg) still resolves.
import subprocess  # noqa: F401

from .ffmpeg import SAFE_DEMUXERS
from .grid import cell_size, comparison_grid, grid_layout
from .image import HEIF_SUPPORTED, ImageInfo, ImageReport, inspect_image, prepare_image
from .inputs import PreparedInputs, check_face, check_inputs, check_prompt, prepare_face, prepare_inputs
from .video import (
    MODEL_CODECS,
    VideoInfo,
    VideoReport,
    ensure_playable,
    extract_thumbnail,
    inspect_video,
    plays_in_browser,
    prepare_video,
    probe_video,
    to_mp4,
    trim_clip,
)
from .views import preview_image, preview_video, side_by_side

__all__ = [
    "HEIF_SUPPORTED",
    "MODEL_CODECS",
    "SAFE_DEMUXERS",
    "ImageInfo",
    "ImageReport",
    "PreparedInputs",
    "VideoInfo",
    "VideoReport",
    "cell_size",
    "check_face",
    "check_inputs",
    "check_prompt",
    "comparison_grid",
    "ensure_playable",
    "extract_thumbnail",
    "grid_layout",
    "inspect_image",
    "inspect_video",
    "plays_in_browser",
    "prepare_face",
    "prepare_image",
    "prepare_inputs",
    "prepare_video",
    "preview_image",
    "preview_video",
    "probe_video",
    "side_by_side",
    "to_mp4",
    "trim_clip",
]
