"""The one ffmpeg binary (imageio-ffmpeg's, no system ffmpeg needed) and how untrusted files reach it."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import imageio_ffmpeg

from ..errors import ClipError
from .files import short_name

# Untrusted files reach ffmpeg: it may read them only as local files (no http, no other protocols a
# playlist could name) and only with the demuxers real clips need (no HLS, concat or image2 lists
# that could pull other local files into a "clip").
SAFE_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"
# A background ffmpeg gets what the browser and the server leave over (0 is normal, 19 the lowest).
BACKGROUND_NICENESS = 10
_PLAYLIST_MAGIC = (b"#EXTM3U", b"ffconcat", b"[playlist]", b"<?xml", b"<smil", b"#EXT")


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def safe_input(path: Path) -> list[str]:
    """`-i path` with the protocol and demuxer allow-lists every untrusted input gets."""
    return ["-protocol_whitelist", "file", "-format_whitelist", SAFE_DEMUXERS, "-i", str(path)]


def refuse_playlist(path: Path) -> None:
    """A text playlist or concat list renamed `.mp4` is refused in words, before ffmpeg sees it."""
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(_PLAYLIST_MAGIC) or head[:4].lower() == b"file":
        raise ClipError.playlist(short_name(path))


def quiet() -> list[str]:
    """ffmpeg that overwrites its output and reports only errors (we read its exit code)."""
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]


def run(cmd: list[str], timeout: float, *, background: bool = False) -> subprocess.CompletedProcess[bytes]:
    """One short-lived ffmpeg process: no stdin (it would wait for a keypress), output captured.

    `background` work (a thumbnail made while the page starts playing the same video) runs at a lower
    CPU priority, so on a small machine the browser's decoder and the server come first.
    A time-out is left to raise: a hung ffmpeg is a fault of ours, not of the user's file.
    """
    if not background or not hasattr(os, "setpriority"):
        return subprocess.run(
            cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False
        )
    # subprocess.run with the priority lowered as the process starts (its preexec_fn is not safe with
    # threads, and the server has many).
    with subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        with contextlib.suppress(OSError):  # it may have ended already
            os.setpriority(os.PRIO_PROCESS, proc.pid, BACKGROUND_NICENESS)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    return subprocess.CompletedProcess(cmd, proc.wait(), out, err)


def wrote(proc: subprocess.CompletedProcess[bytes], target: Path) -> bool:
    """ffmpeg can exit 0 having written nothing (no frames decoded): both are checked."""
    return proc.returncode == 0 and target.exists() and target.stat().st_size > 0
