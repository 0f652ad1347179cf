"""The clip's own sound put on a result that came back without it (Wan and DreamActor return video
only; a Kling result could lose it too): the result's video copied as it is, the clip's sound as AAC,
no second paid call to fal.

Decided by probing both files, never by the model's name. Written under a name of its own, then moved
into place, so the result at its path is always whole: the silent one, or the one with sound.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from ..errors import InputError
from . import ffmpeg
from .video import probe_video

log = logging.getLogger("motion_studio.media")


def restore_clip_sound(result: Path, clip: Path) -> bool | None:
    """The clip's sound on a result that has none. True: put there; False: the clip has sound (or can
    no longer be read) and it could not be added, the result is kept silent; None: nothing to do (the
    result has sound, or can't be read and is kept as fal sent it; the clip has none)."""
    try:
        if probe_video(result).has_audio:
            return None
    except InputError:
        return None
    try:
        if not probe_video(clip).has_audio:
            return None
    except InputError:
        log.warning("the clip %s could not be read to put its sound on %s", clip, result)
        return False
    return add_clip_sound(result, clip)


def add_clip_sound(result: Path, clip: Path) -> bool:
    """Put `clip`'s first sound stream on `result` (in place), its video copied, as long as the
    shorter of the two. False when ffmpeg could not: `result` is left as it was."""
    # The run's own folder, one follower at a time (its lease): a fixed name, so a process killed half
    # way leaves one stray file that the next attempt overwrites, not one per attempt.
    partial = result.with_name(f".{result.stem}-with-sound.mp4")
    cmd = [*ffmpeg.quiet(), *ffmpeg.safe_input(result), *ffmpeg.safe_input(clip)]
    cmd += ["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "160k"]
    cmd += ["-shortest", "-movflags", "+faststart", str(partial)]
    try:
        proc = ffmpeg.run(cmd, timeout=600)
        if not ffmpeg.wrote(proc, partial):
            log.warning("the clip's sound could not be added to %s: %s", result, proc.stderr[-500:])
            return False
        partial.replace(result)
        return True
    except (OSError, subprocess.TimeoutExpired):
        log.warning("the clip's sound could not be added to %s", result, exc_info=True)
        return False
    finally:
        partial.unlink(missing_ok=True)
