"""Media checks that run before anything is uploaded or paid for, and the few easy conversions.

Inspection is split from preparation: `inspect_*` only reads headers (tens of milliseconds, safe to
run on every change in the UI) and returns a report with a verdict; `prepare_*` converts what the
model does not take (webm, RGBA PNG, WebP, EXIF-rotated photos...) into a file it does take.
Every refusal is an `InputError` carrying one sentence that says what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import filetype
import imageio_ffmpeg
from moviepy.video.io.ffmpeg_reader import FFmpegInfosParser
from PIL import Image, ImageOps, UnidentifiedImageError

from .catalog import LIMITS, ORIENTATION_MAX_SECONDS
from .errors import ClipTooLongError, InputError

_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")
_MB = 1024 * 1024
BROWSER_CODECS = ("h264", "hevc")


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


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str
    mode: str
    size_bytes: int

    def summary(self) -> str:
        return f"{self.width}×{self.height} {self.format}"


@dataclass(frozen=True)
class VideoReport:
    info: VideoInfo
    notes: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        """copy, remux (MOV → MP4, no re-encoding) or transcode (to H.264 MP4).

        The model takes MP4 and MOV, but browsers only reliably preview H.264 MP4, and the run's
        reference is shown next to the result; HEVC (phones) is kept as it is, to spare a re-encode.
        """
        codec_ok = self.info.codec in BROWSER_CODECS
        if self.info.container == "mp4" and codec_ok:
            return "copy"
        if self.info.container == "mov" and codec_ok:
            return "remux"
        return "transcode"

    @property
    def needs_conversion(self) -> bool:
        return self.action != "copy"


@dataclass(frozen=True)
class ImageReport:
    info: ImageInfo
    notes: tuple[str, ...] = ()
    needs_conversion: bool = False


@dataclass(frozen=True)
class PreparedInputs:
    """Inputs that passed every check, as files the model accepts, with what was done to them."""

    image: Path
    video: Path
    image_info: ImageInfo
    video_info: VideoInfo
    notes: tuple[str, ...] = field(default=())


def _name(path: Path) -> str:
    return path.name if len(path.name) <= 60 else path.name[:57] + "…"


def _kind_of(path: Path) -> str | None:
    """The file's real kind from its magic bytes, so a mislabelled file gets an honest message."""
    try:
        guess = filetype.guess(str(path))
    except OSError:
        return None
    return guess.mime.split("/")[0] if guess else None


def _require_file(path: Path, what: str) -> int:
    if not path.is_file():
        raise InputError(f"The {what} file {_name(path)} does not exist.")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"The {what} file {_name(path)} is empty. Pick another file.")
    return size


def _ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


# Untrusted files reach ffmpeg: it may read them only as local files (no http, no other protocols a
# playlist could name) and only with the demuxers real clips need (no HLS, concat or image2 lists
# that could pull other local files into a "clip").
SAFE_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"
_PLAYLIST_MAGIC = (b"#EXTM3U", b"ffconcat", b"[playlist]", b"<?xml", b"<smil", b"#EXT")


def _safe_input(path: Path) -> list[str]:
    """`-i path` with the protocol and demuxer allow-lists every untrusted input gets."""
    return ["-protocol_whitelist", "file", "-format_whitelist", SAFE_DEMUXERS, "-i", str(path)]


def _refuse_playlist(path: Path) -> None:
    """A text playlist or concat list renamed `.mp4` is refused in words, before ffmpeg sees it."""
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(_PLAYLIST_MAGIC) or head[:4].lower() == b"file":
        raise InputError(
            f"{_name(path)} is a playlist or a list of files, not a video. Pick the clip itself."
        )


def _ffmpeg_quiet() -> list[str]:
    """ffmpeg that overwrites its output and reports only errors (we read its exit code)."""
    return [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]


def probe_video(path: str | Path) -> VideoInfo:
    """Read duration, fps, size, rotation and audio with one `ffmpeg -i` run, parsed by moviepy.

    moviepy's parser does not see ffmpeg 7's "Display Matrix" side data, so the rotation is read
    from the same text; running ffmpeg ourselves keeps it to one short-lived process, no readers left open.
    """
    path = Path(path)
    size = _require_file(path, "video")
    kind = _kind_of(path)
    if kind == "image":
        raise InputError(f"{_name(path)} is an image, not a video. Pick a video clip (MP4 or MOV).")
    _refuse_playlist(path)
    text = _ffmpeg_report(path)
    # Browser recordings (MediaRecorder webm: webcam clips) carry no duration in their header; only
    # decoding the file tells it. Done only then, as it reads the whole clip.
    decode = "Duration: N/A" in text
    if decode:
        text = _ffmpeg_report(path, decode=True)
    unreadable = InputError(
        f"{_name(path)} could not be read as a video; it may be corrupt or truncated. "
        "Re-export it as MP4 (H.264) and try again."
    )
    try:
        infos = FFmpegInfosParser(text, str(path), decode_file=decode).parse()
    except Exception:
        raise unreadable from None
    if not infos.get("video_found"):
        if infos.get("audio_found") or kind == "audio":
            raise InputError(f"{_name(path)} has sound but no picture. Pick a video clip.")
        raise unreadable
    duration = float(infos.get("duration") or 0.0)
    if duration <= 0 or not infos.get("video_size"):
        raise unreadable
    rotation = _ROTATION.search(text)
    width, height = infos["video_size"]
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
    )


def _ffmpeg_report(path: Path, *, decode: bool = False) -> str:
    cmd = [_ffmpeg(), "-hide_banner", *_safe_input(path)] + (["-f", "null", "-"] if decode else [])
    proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=300, check=False)
    return proc.stderr.decode("utf8", errors="ignore")


def _container(path: Path, ffmpeg_text: str) -> str:
    """mp4 and mov share a demuxer in ffmpeg, so the extension tells them apart; others by format name."""
    suffix = path.suffix.lower().lstrip(".")
    if "Input #0, mov,mp4" in ffmpeg_text:
        return suffix if suffix in ("mp4", "mov") else "mp4"
    match = re.search(r"Input #0, ([\w,]+), from", ffmpeg_text)
    names = match.group(1).split(",") if match else []
    return suffix if suffix in names else (names[0] if names else suffix or "unknown")


def inspect_video(path: str | Path, orientation: str) -> VideoReport:
    """Probe a clip and check it against the orientation's limits; raises `InputError` with the reason."""
    info = probe_video(path)
    limit = ORIENTATION_MAX_SECONDS[orientation]
    if info.duration < LIMITS.min_seconds:
        raise InputError(
            f"The clip is {info.duration:.1f} s; the model needs at least {LIMITS.min_seconds:g} s. "
            "Use a longer clip."
        )
    if info.duration > limit + 0.05:
        if orientation == "image":
            advice = f"Switch to 'video' ({ORIENTATION_MAX_SECONDS['video']:g} s) or trim it."
        else:
            advice = f"Trim it to {limit:g} s or less."
        raise ClipTooLongError(
            f"The clip is {info.duration:.1f} s; with orientation '{orientation}' the limit is {limit:g} s. {advice}",
            info.duration,
            limit,
        )
    w, h = info.display_size
    if min(w, h) < LIMITS.video_min_side or max(w, h) > LIMITS.video_max_side:
        raise InputError(
            f"The clip is {w}×{h}; each side must be {LIMITS.video_min_side}–{LIMITS.video_max_side} px. "
            "Export it at a resolution between 480p and 4K."
        )
    if info.size_bytes > LIMITS.video_max_bytes:
        raise InputError(
            f"The clip is {info.size_bytes / _MB:.0f} MB; fal accepts up to {LIMITS.video_max_bytes // _MB} MB. "
            "Export it at a lower bitrate or resolution."
        )
    report = VideoReport(info=info)
    if report.action == "remux":
        return VideoReport(
            info, ("The MOV clip will be repackaged as MP4 (no re-encoding) so browsers can show it.",)
        )
    if report.action == "transcode":
        return VideoReport(
            info,
            (f"The {info.container} ({info.codec}) clip will be converted to MP4 (H.264) before upload.",),
        )
    return report


def prepare_video(path: str | Path, report: VideoReport, dest: Path) -> Path:
    """Copy the clip into the run folder as an MP4 the model takes and a browser can preview."""
    path = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    target = dest.with_suffix(".mp4")
    if report.action == "copy":
        shutil.copyfile(path, target)
        return target
    if not to_mp4(path, target, reencode=report.action == "transcode", has_audio=report.info.has_audio):
        raise InputError(f"{_name(path)} could not be converted to MP4. Re-export it as MP4 (H.264).")
    return target


def to_mp4(
    source: Path, target: Path, *, reencode: bool, has_audio: bool, seconds: float | None = None
) -> bool:
    """Write `source` as an MP4 with H.264 video (re-encoded, or copied when it already is) and AAC audio,
    keeping only its first `seconds` when given."""
    cmd = [*_ffmpeg_quiet(), *_safe_input(source), "-map", "0:v:0"]
    if seconds is not None:
        cmd += ["-t", f"{seconds:.3f}"]
    if has_audio:
        cmd += ["-map", "0:a:0", "-c:a", "aac"]
    if reencode:
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
    else:
        cmd += ["-c:v", "copy"]
    cmd += ["-movflags", "+faststart", str(target)]
    proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=900, check=False)
    return proc.returncode == 0 and target.exists() and target.stat().st_size > 0


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
    raise InputError(f"{_name(path)} could not be trimmed. Trim it in a video editor.")


def ensure_playable(video: Path) -> Path:
    """Browsers only play H.264 MP4 everywhere: re-encode a result that is not, keeping the original."""
    try:
        info = probe_video(video)
    except InputError:
        return video  # an unreadable result is kept as fal sent it; the download button still works
    if info.codec == "h264":
        return video
    original = video.with_name(video.stem + ".original" + video.suffix)
    video.replace(original)
    if not to_mp4(original, video, reencode=True, has_audio=info.has_audio):
        original.replace(video)
    return video


def _open_image(path: Path, max_pixels: int) -> Image.Image:
    """Open lazily and refuse huge images before decoding a single pixel (decompression bombs)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            if _kind_of(path) == "video":
                raise InputError(
                    f"{_name(path)} is a video, not an image. Pick a photo (JPG or PNG)."
                ) from None
            raise InputError(f"{_name(path)} is not an image the app can read. Use a JPG or PNG.") from None
        raise InputError(
            f"{_name(path)} is too large to open safely. Resize it below {max_pixels // 1_000_000} MP."
        ) from None
    except OSError:
        raise InputError(f"{_name(path)} could not be read. Use a JPG or PNG.") from None
    w, h = image.size
    if w * h > max_pixels:
        image.close()
        raise InputError(
            f"The image is {w}×{h} ({w * h / 1e6:.0f} MP); the limit is {max_pixels // 1_000_000} MP. Resize it."
        )
    return image


def inspect_image(path: str | Path, max_pixels: int = 40_000_000) -> ImageReport:
    """Check format, size, aspect ratio and file size, as the model will see it (EXIF rotation applied)."""
    path = Path(path)
    size = _require_file(path, "image")
    with _open_image(path, max_pixels) as image:
        if getattr(image, "n_frames", 1) > 1:
            raise InputError(f"{_name(path)} is animated. Pick a still image (JPG or PNG).")
        try:
            image.load()
        except (OSError, SyntaxError, ValueError):
            raise InputError(
                f"{_name(path)} is truncated or corrupt. Export it again as JPG or PNG."
            ) from None
        fmt = image.format or "unknown"
        orientation = image.getexif().get(0x0112, 1)
        w, h = image.size
        if orientation in (5, 6, 7, 8):
            w, h = h, w
        mode = image.mode
    if min(w, h) < LIMITS.image_min_side:
        raise InputError(
            f"The image is {w}×{h}; each side must be at least {LIMITS.image_min_side} px. Use a larger image."
        )
    ratio = max(w, h) / min(w, h)
    if ratio > LIMITS.image_max_aspect:
        raise InputError(
            f"The image is {w}×{h} (aspect {ratio:.1f}:1); the model takes aspect ratios between "
            f"1:{LIMITS.image_max_aspect:g} and {LIMITS.image_max_aspect:g}:1. Crop it."
        )
    notes: list[str] = []
    if fmt not in LIMITS.image_formats:
        notes.append(f"The {fmt} image will be converted to PNG before upload.")
    elif mode not in ("RGB", "L"):
        notes.append(f"The {mode} image will be flattened to RGB (transparency on white).")
    if orientation != 1:
        notes.append("The photo's EXIF rotation will be applied.")
    if size > LIMITS.image_max_bytes:
        notes.append(f"The {size / _MB:.1f} MB image will be re-encoded as JPEG to fit fal's 10 MB limit.")
    info = ImageInfo(width=w, height=h, format=fmt, mode=mode, size_bytes=size)
    return ImageReport(info=info, notes=tuple(notes), needs_conversion=bool(notes))


def prepare_image(path: str | Path, report: ImageReport, dest: Path, max_pixels: int = 40_000_000) -> Path:
    """Copy the image into the run folder, converted to an upright RGB PNG/JPEG when needed."""
    path = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not report.needs_conversion:
        target = dest.with_suffix(".jpg" if report.info.format == "JPEG" else ".png")
        shutil.copyfile(path, target)
        return target
    with _open_image(path, max_pixels) as image:
        upright = ImageOps.exif_transpose(image)
        if upright.mode in ("RGBA", "LA", "P", "PA"):
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
        else:
            flat = upright.convert("RGB")
    target = dest.with_suffix(".png")
    flat.save(target, "PNG", optimize=False)
    if target.stat().st_size > LIMITS.image_max_bytes:
        target.unlink()
        target = dest.with_suffix(".jpg")
        flat.save(target, "JPEG", quality=92)
    if target.stat().st_size > LIMITS.image_max_bytes:
        raise InputError(f"{_name(path)} is still over 10 MB after re-encoding. Resize it.")
    return target


def check_prompt(prompt: str | None) -> str:
    """fal only refuses an over-long prompt at result time (after the wait); refuse it up front."""
    text = (prompt or "").strip()
    if len(text) > LIMITS.prompt_max_chars:
        raise InputError(
            f"The prompt is {len(text)} characters; the limit is {LIMITS.prompt_max_chars}. Shorten it."
        )
    return text


def check_inputs(
    image: str | Path,
    video: str | Path,
    orientation: str,
    prompt: str | None = None,
    max_pixels: int = 40_000_000,
) -> tuple[ImageReport, VideoReport, str]:
    """All local checks, in the order a user would fix them; nothing is written or uploaded."""
    if orientation not in ORIENTATION_MAX_SECONDS:
        raise InputError("Orientation must be 'image' or 'video'.")
    image_report = inspect_image(image, max_pixels)
    video_report = inspect_video(video, orientation)
    return image_report, video_report, check_prompt(prompt)


def prepare_inputs(
    image: str | Path,
    video: str | Path,
    image_report: ImageReport,
    video_report: VideoReport,
    run_dir: Path,
    max_pixels: int = 40_000_000,
) -> PreparedInputs:
    """Local copies in the run folder: history keeps them even after the originals are gone."""
    return PreparedInputs(
        image=prepare_image(image, image_report, run_dir / "image", max_pixels),
        video=prepare_video(video, video_report, run_dir / "reference"),
        image_info=image_report.info,
        video_info=video_report.info,
        notes=image_report.notes + video_report.notes,
    )


def extract_thumbnail(video: Path, dest: Path, at: float = 1.0) -> Path | None:
    """A JPEG frame for the gallery; a missing thumbnail must never fail a paid run, hence `None`."""
    cmd = [
        *_ffmpeg_quiet(),
        "-ss",
        f"{at:g}",
        *_safe_input(video),
        "-frames:v",
        "1",
        "-vf",
        "scale=320:-2",
        str(dest),
    ]
    proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    if proc.returncode != 0 or not dest.exists():
        if at > 0:
            return extract_thumbnail(video, dest, at=0)
        return None
    return dest
