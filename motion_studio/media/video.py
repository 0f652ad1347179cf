"""Clips: what is in them (one `ffmpeg -i` run parsed by moviepy), whether the model takes them, and
the conversions that make them acceptable (MP4 for the model, H.264 for the browser)."""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import notices
from ..catalog import LIMITS, OPTIONS
from ..errors import ClipError, ClipTooLongError, InputError
from . import ffmpeg
from .files import MB, kind_of, require_file, short_name
from .memo import by_file
from .mp4_header import surely_plays

_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")
_VIDEO_STREAM = re.compile(r"Stream #0:\d+\S*: Video: [^,\n]*, ([a-z0-9_]+)")
_AUDIO_STREAM = re.compile(r"Stream #0:\d+\S*: Audio: ([a-z0-9_]+)")

# Codecs the model is sent as they are, in MP4 or MOV (fal takes both containers). HEVC (phones) is
# kept to spare a lossy re-encode; browsers can't play it, which is `preview_video`'s job.
MODEL_CODECS = ("h264", "hevc")
# What Debian's Chromium plays, conservatively: H.264 8-bit 4:2:0 in MP4/MOV with AAC or MP3 sound,
# VP8/VP9/AV1 in WebM with Opus or Vorbis. HEVC, ProRes, MPEG-4 part 2, MJPEG... are not played.
_BROWSER_PLAYS = {
    ("mp4", "h264"): ("aac", "mp3"),
    ("mov", "h264"): ("aac", "mp3"),
    ("m4v", "h264"): ("aac", "mp3"),
    ("webm", "vp8"): ("opus", "vorbis"),
    ("webm", "vp9"): ("opus", "vorbis"),
    ("webm", "av1"): ("opus", "vorbis"),
}
_H264_PIX_FMTS = ("yuv420p", "yuvj420p")


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    fps: float
    width: int
    height: int
    rotation: int
    has_audio: bool
    codec: str
    container: str
    size_bytes: int
    pix_fmt: str = ""
    audio_codec: str = ""

    @property
    def display_size(self) -> tuple[int, int]:
        """Phones store portrait clips as landscape plus a rotation flag; players show them turned."""
        if self.rotation % 180 == 90:
            return self.height, self.width
        return self.width, self.height

    def summary(self) -> str:
        w, h = self.display_size
        audio = "with audio" if self.has_audio else "no audio"
        return f"{self.duration:.1f} s · {w}×{h} · {self.fps:g} fps · {audio}"


def plays_in_browser(info: VideoInfo) -> bool:
    """Whether Chromium plays the file as it is (see `_BROWSER_PLAYS`); when unsure, it does not."""
    audio_ok = _BROWSER_PLAYS.get((info.container, info.codec))
    if audio_ok is None:
        return False
    if info.codec == "h264" and info.pix_fmt not in _H264_PIX_FMTS:
        return False  # High 10 / 4:2:2 / 4:4:4 H.264 is not decoded by Chromium
    return not info.has_audio or info.audio_codec in audio_ok


@dataclass(frozen=True)
class VideoReport:
    info: VideoInfo
    notes: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        """copy, remux (MOV → MP4, no re-encoding) or transcode (to H.264 MP4).

        H.264 and HEVC are sent as they are (MOV repackaged as MP4, which every tool reads); anything
        else is re-encoded. What the browser shows is a separate copy (`preview_video`).
        """
        codec_ok = self.info.codec in MODEL_CODECS
        if self.info.container == "mp4" and codec_ok:
            return "copy"
        if self.info.container == "mov" and codec_ok:
            return "remux"
        return "transcode"

    @property
    def needs_conversion(self) -> bool:
        return self.action != "copy"


@by_file
def probe_video(path: str | Path) -> VideoInfo:
    """Read duration, fps, size, rotation and audio with one `ffmpeg -i` run, parsed by moviepy.

    moviepy's parser does not see ffmpeg 7's "Display Matrix" side data, so the rotation is read
    from the same text; running ffmpeg ourselves keeps it to one short-lived process, no readers left open.
    """
    path = Path(path)
    size = require_file(path, "video")
    kind = kind_of(path)
    if kind == "image":
        raise ClipError.is_image(short_name(path))
    ffmpeg.refuse_playlist(path)
    text = _ffmpeg_report(path)
    # Browser recordings (MediaRecorder webm: webcam clips) carry no duration in their header; only
    # decoding the file tells it. Done only then, as it reads the whole clip.
    decode = "Duration: N/A" in text
    if decode:
        text = _ffmpeg_report(path, decode=True)
    unreadable = ClipError.unreadable(short_name(path))
    # Imported on first use: moviepy takes 0.1 s to import, paid at every cold start otherwise.
    from moviepy.video.io.ffmpeg_reader import FFmpegInfosParser

    try:
        infos = FFmpegInfosParser(_parsable(text), str(path), decode_file=decode).parse()
    except Exception:
        raise unreadable from None
    if not infos.get("video_found"):
        if infos.get("audio_found") or kind == "audio":
            raise ClipError.sound_only(short_name(path))
        raise unreadable
    duration = float(infos.get("duration") or 0.0)
    if duration <= 0 or not infos.get("video_size"):
        raise unreadable
    rotation = _ROTATION.search(text)
    width, height = infos["video_size"]
    pix_fmt = _VIDEO_STREAM.search(text)
    audio_codec = _AUDIO_STREAM.search(text)
    return VideoInfo(
        duration=duration,
        fps=float(infos.get("video_fps") or 0.0),
        width=int(width),
        height=int(height),
        rotation=round(abs(float(rotation.group(1)))) % 360 if rotation else 0,
        has_audio=bool(infos.get("audio_found")),
        codec=str(infos.get("video_codec_name") or "unknown"),
        container=_container(path, text),
        size_bytes=size,
        pix_fmt=pix_fmt.group(1) if pix_fmt else "",
        audio_codec=audio_codec.group(1) if audio_codec and infos.get("audio_found") else "",
    )


def _parsable(text: str) -> str:
    """ffmpeg's report without the warnings it prints before "Input #0" (a browser recording cut off
    on a busy machine: "File ended prematurely"): moviepy's parser, decoding, takes any line that
    does not start with a space there for the start of the output, and reads no stream at all."""
    head, found, rest = text.partition("Input #0")
    if not found:
        return text
    kept = [line for line in head.splitlines(keepends=True) if not line.startswith("[")]
    return "".join(kept) + found + rest


def _ffmpeg_report(path: Path, *, decode: bool = False) -> str:
    cmd = [ffmpeg.ffmpeg_exe(), "-hide_banner", *ffmpeg.safe_input(path)]
    cmd += ["-f", "null", "-"] if decode else []
    return ffmpeg.run(cmd, timeout=300).stderr.decode("utf8", errors="ignore")


def _container(path: Path, ffmpeg_text: str) -> str:
    """mp4 and mov share a demuxer in ffmpeg, so the extension tells them apart; others by format name."""
    suffix = path.suffix.lower().lstrip(".")
    if "Input #0, mov,mp4" in ffmpeg_text:
        return suffix if suffix in ("mp4", "mov", "m4v") else "mp4"
    match = re.search(r"Input #0, ([\w,]+), from", ffmpeg_text)
    names = match.group(1).split(",") if match else []
    return suffix if suffix in names else (names[0] if names else suffix or "unknown")


def clip_limit(orientation: str | None) -> float:
    """The longest clip taken: the orientation's own limit where it has one, else the model's."""
    choice = OPTIONS["orientation"].choice(orientation)
    return choice.clip_max_seconds if choice and choice.clip_max_seconds else LIMITS.max_seconds


def inspect_video(path: str | Path, orientation: str | None) -> VideoReport:
    """Probe a clip and check it against the model's limits, and Kling's orientation's (None: a model
    without one); raises `InputError` with the reason."""
    info = probe_video(path)
    limit = clip_limit(orientation)
    if info.duration < LIMITS.min_seconds:
        raise ClipError.too_short(info.duration, LIMITS.min_seconds)
    if info.duration > limit + 0.05:
        raise ClipTooLongError(orientation, info.duration, limit, LIMITS.max_seconds)
    w, h = info.display_size
    if min(w, h) < LIMITS.video_min_side or max(w, h) > LIMITS.video_max_side:
        raise ClipError.wrong_size(w, h, LIMITS.video_min_side, LIMITS.video_max_side)
    report = VideoReport(info=info)
    too_big = info.size_bytes > LIMITS.video_max_bytes
    if too_big and report.action != "transcode":
        raise ClipError.too_big(info.size_bytes / MB, LIMITS.video_max_bytes // MB)
    if report.action == "remux":
        return VideoReport(info, (notices.clip_repackaged(for_browsers=info.codec == "h264"),))
    if report.action == "transcode":
        # Edit formats (ProRes) are huge by design: the size that counts is the converted one.
        size = info.size_bytes / MB if too_big else None
        return VideoReport(
            info, (notices.clip_converted(info.container, info.codec, size, LIMITS.video_max_bytes // MB),)
        )
    return report


def prepare_video(path: str | Path, report: VideoReport, dest: Path) -> Path:
    """Copy the clip into the run folder as an MP4 the model takes."""
    path = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    target = dest.with_suffix(".mp4")
    if report.action == "copy":
        shutil.copyfile(path, target)
        return target
    if not to_mp4(path, target, reencode=report.action == "transcode", has_audio=report.info.has_audio):
        raise ClipError.not_converted(short_name(path))
    size = target.stat().st_size
    if size > LIMITS.video_max_bytes:
        target.unlink()
        raise ClipError.still_too_big(short_name(path), size / MB, LIMITS.video_max_bytes // MB)
    return target


def to_mp4(
    source: Path, target: Path, *, reencode: bool, has_audio: bool, seconds: float | None = None
) -> bool:
    """Write `source` as an MP4 with H.264 video (re-encoded, or copied when it already is) and AAC audio,
    keeping only its first `seconds` when given."""
    cmd = [*ffmpeg.quiet(), *ffmpeg.safe_input(source), "-map", "0:v:0"]
    if seconds is not None:
        cmd += ["-t", f"{seconds:.3f}"]
    if has_audio:
        cmd += ["-map", "0:a:0", "-c:a", "aac"]
    if reencode:
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
    else:
        cmd += ["-c:v", "copy"]
    # Written under a name of its own, then moved into place: a file at `target` is always whole, so a
    # second run cutting the same clip at once (a batch's preview) never reads a half-written one.
    partial = target.with_name(f".{target.stem}-{uuid.uuid4().hex[:12]}.mp4")
    cmd += ["-movflags", "+faststart", str(partial)]
    try:
        if not ffmpeg.wrote(ffmpeg.run(cmd, timeout=900), partial):
            return False
        partial.replace(target)
        return True
    finally:
        partial.unlink(missing_ok=True)


def trim_clip(path: str | Path, seconds: float, dest_dir: Path) -> Path:
    """The first `seconds` of a clip, re-encoded so the cut is exact (a stream copy cuts at keyframes)."""
    path = Path(path)
    info = probe_video(path)
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = hashlib.sha256(f"{path.resolve()}:{path.stat().st_mtime_ns}:{seconds:g}".encode()).hexdigest()[
        :16
    ]
    target = dest_dir / f"{path.stem[:40]}-first-{seconds:g}s-{stamp}.mp4"
    if target.exists() or to_mp4(path, target, reencode=True, has_audio=info.has_audio, seconds=seconds):
        return target
    raise ClipError.not_trimmed(short_name(path))


def ensure_playable(video: Path) -> Path:
    """A result browsers can't play is re-encoded to H.264 MP4 in place, keeping the original.

    The page waits on this: a header that surely plays (H.264 8-bit 4:2:0 MP4, fal's usual result)
    answers in milliseconds; only an unsure one costs an ffmpeg probe."""
    if surely_plays(video):
        return video
    try:
        info = probe_video(video)
    except InputError:
        return video  # an unreadable result is kept as fal sent it; the download button still works
    if plays_in_browser(info):
        return video
    original = video.with_name(video.stem + ".original" + video.suffix)
    video.replace(original)
    if not to_mp4(original, video, reencode=True, has_audio=info.has_audio):
        original.replace(video)
    return video


def extract_thumbnail(video: Path, dest: Path, at: float = 1.0) -> Path | None:
    """A JPEG frame for the gallery; a missing thumbnail must never fail a paid run, hence `None`."""
    cmd = [
        *ffmpeg.quiet(),
        "-threads",  # one core: the page is starting to play this very video on the other
        "1",
        "-ss",
        f"{at:g}",
        *ffmpeg.safe_input(video),
        "-frames:v",
        "1",
        "-vf",
        "scale=320:-2",
        str(dest),
    ]
    proc = ffmpeg.run(cmd, timeout=60, background=True)
    if proc.returncode != 0 or not dest.exists():
        if at > 0:
            return extract_thumbnail(video, dest, at=0)
        return None
    return dest
