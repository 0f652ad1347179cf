"""Pictures for the people check: the photo as the model will see it, and a handful of evenly spaced
frames of the clip, all downscaled (MediaPipe looks at 224-256 px crops anyway; big pictures only
cost time to decode and resize).

Clip frames come from one ffmpeg process that seeks once per frame (`-ss` before each `-i`), the
files reaching it through the same allow-lists as every other untrusted input. It first seeks to
the keyframe before each wanted time (`-noaccurate_seek`: no frame decoded but the keyframe, so
~0.2 s for a 30 s 1080p clip); only the times whose keyframe another time already took (clips with
few keyframes, such as x264's default of one every 250 frames) are grabbed again accurately, which
decodes from the keyframe to the time. Each frame's real time comes from ffmpeg's `showinfo`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InputError
from ..media import ffmpeg
from ..media.files import require_file, short_name
from ..media.image import open_image, upright_rgb
from ..media.video import probe_video

ANALYSIS_MAX_SIDE = 640
DEFAULT_CLIP_FRAMES = 6
MAX_CLIP_FRAMES = 30
GRAB_TIMEOUT = 120.0
# Each input is read for at most this long after its seek point: enough for the one frame wanted.
_READ_SECONDS = 2.0
_SHOWINFO = re.compile(r"\[showinfo@s(\d+) @ [^\]]*\] n:\s*0 pts:\s*-?\d+\s+pts_time:(-?[0-9.eE+-]+)")


@dataclass(frozen=True)
class ClipFrame:
    """One decoded frame: its time in seconds from the start, and its RGB pixels (H×W×3 uint8)."""

    time: float
    rgb: np.ndarray = field(compare=False, repr=False)


@dataclass(frozen=True)
class ClipFrames:
    """The sampled frames of a clip, in time order, and the clip's duration."""

    duration: float
    frames: tuple[ClipFrame, ...]


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Scale (never up) so the long side is at most `max_side`, both sides even (for ffmpeg)."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def sample_times(duration: float, count: int) -> tuple[float, ...]:
    """`count` evenly spaced times: the middle of each of `count` equal slices of the clip, so the
    very first and last frames (often a fade or a still) are not among them."""
    count = max(1, min(count, MAX_CLIP_FRAMES))
    if duration <= 0:
        return (0.0,)
    step = duration / count
    return tuple(round((i + 0.5) * step, 3) for i in range(count))


def load_picture(path: str | Path, max_side: int = ANALYSIS_MAX_SIDE) -> Image.Image:
    """The photo upright (EXIF rotation applied), RGB, at most `max_side` px on the long side.

    Refuses what `media.image` refuses (bombs, non-images, HEIC without its plugin) with its
    `InputError`. JPEGs are decoded at a reduced scale straight away (`draft`): a 12 MP phone photo
    then decodes in a fraction of the time.
    """
    path = Path(path)
    require_file(path, "image")
    image = open_image(path)
    try:
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", (max_side, max_side))
        picture = upright_rgb(image, path)
    finally:
        image.close()
    picture.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return picture


def grab_frames(
    path: Path, times: tuple[float, ...], size: tuple[int, int], *, accurate: bool
) -> list[ClipFrame | None]:
    """The frame at (or, unless `accurate`, the keyframe before) each time, scaled to `size`; None
    where ffmpeg gave none (a time past the last frame)."""
    if not times:
        return []
    width, height = size
    cmd = [ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "info"]
    for t in times:
        cmd += [] if accurate else ["-noaccurate_seek"]
        cmd += ["-ss", f"{t:.3f}", "-t", f"{_READ_SECONDS:g}", *ffmpeg.safe_input(path)]
    chains = [
        f"[{i}:v:0]trim=end_frame=1,showinfo@s{i},setpts=PTS-STARTPTS,"
        f"scale={width}:{height}:flags=bilinear,setsar=1[v{i}]"
        for i in range(len(times))
    ]
    joined = "".join(f"[v{i}]" for i in range(len(times)))
    graph = ";".join(chains) + f";{joined}concat=n={len(times)}:v=1:a=0,format=rgb24[out]"
    # passthrough: the one-frame segments all start at 0; any other sync mode drops all but a few.
    cmd += ["-filter_complex", graph, "-map", "[out]", "-fps_mode", "passthrough"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    proc = ffmpeg.run(cmd, timeout=GRAB_TIMEOUT)
    offsets: dict[int, float] = {}
    for match in _SHOWINFO.finditer(proc.stderr.decode("utf8", errors="ignore")):
        offsets.setdefault(int(match.group(1)), float(match.group(2)))
    frame_bytes = width * height * 3
    pixels = np.frombuffer(proc.stdout, np.uint8)
    out: list[ClipFrame | None] = [None] * len(times)
    # concat passes the frames on in input order, skipping inputs that gave none.
    for n, index in enumerate(sorted(offsets)):
        chunk = pixels[n * frame_bytes : (n + 1) * frame_bytes]
        if chunk.size < frame_bytes or index >= len(times):
            break
        # showinfo's time is relative to the seek point: negative for a keyframe before it.
        out[index] = ClipFrame(
            max(0.0, round(times[index] + offsets[index], 3)), chunk.reshape(height, width, 3)
        )
    return out


def read_clip(
    path: str | Path, count: int = DEFAULT_CLIP_FRAMES, max_side: int = ANALYSIS_MAX_SIDE
) -> ClipFrames:
    """`count` evenly spaced frames of the clip (fewer only if the clip has fewer distinct ones).

    Raises `InputError` for what `media.probe_video` refuses, and when no frame can be decoded.
    """
    path = Path(path)
    info = probe_video(path)  # also refuses playlists, images and sound-only files in words
    size = fit_size(*info.display_size, max_side)
    times = sample_times(info.duration, count)
    kept: dict[float, ClipFrame] = {}
    again: list[float] = []
    for wanted, frame in zip(times, grab_frames(path, times, size, accurate=False), strict=True):
        if frame is None or frame.time in kept:
            again.append(wanted)
        else:
            kept[frame.time] = frame
    if again:
        for frame in grab_frames(path, tuple(again), size, accurate=True):
            if frame is not None and frame.time not in kept:
                kept[frame.time] = frame
    if not kept:
        raise InputError(f"No frame of {short_name(path)} could be decoded for the people check.")
    return ClipFrames(info.duration, tuple(kept[t] for t in sorted(kept)))


def read_frame_at(path: str | Path, time: float, max_side: int = ANALYSIS_MAX_SIDE) -> ClipFrame | None:
    """The frame a `read_clip` sample at `time` came from (for the pose preview): the keyframe at
    that time if there is one there, else the frame decoded accurately."""
    path = Path(path)
    info = probe_video(path)
    size = fit_size(*info.display_size, max_side)
    # Just past the time, so a keyframe at it (times are kept to the millisecond) is the one found.
    frame = grab_frames(path, (time + 0.002,), size, accurate=False)[0]
    if frame is not None and abs(frame.time - time) < 0.005:
        return frame
    return grab_frames(path, (time,), size, accurate=True)[0]
