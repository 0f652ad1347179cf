"""Copies made only for people to look at: a browser-playable preview of a clip or photo the page
could not show as it is, and the reference and the result side by side in one video.

They never go to fal. Each is named after its source's content (or given a fixed path) and written
to a temporary name first, so a second call reuses it and a half-written file is never served.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, ViewError
from . import ffmpeg
from .files import content_key, require_file, short_name, temp_sibling
from .image import MAX_PIXELS, open_image, upright_rgb
from .video import plays_in_browser, probe_video

PREVIEW_SHORT_SIDE = 720
PREVIEW_IMAGE_SIDE = 2048
SIDE_BY_SIDE_HEIGHT = 720
# JPEG with extra images (MPO: many phone photos) is still a JPEG to a browser.
BROWSER_IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF")
# What every copy made for people to watch is encoded as: H.264 that any browser plays from the start.
H264_OUTPUT = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]


def even(n: float) -> int:
    return max(2, int(n) // 2 * 2)


def _fit_short_side(limit: int) -> str:
    """Scale so the short side is at most `limit` (never up), both sides even, square pixels."""
    w = f"if(lte(iw,ih),min({limit},trunc(iw/2)*2),-2)"
    h = f"if(lte(iw,ih),-2,min({limit},trunc(ih/2)*2))"
    return f"scale=w='{w}':h='{h}',setsar=1"


def encode(cmd: list[str], target: Path, failure: InputError) -> Path:
    """Run ffmpeg writing to a temporary sibling of `target`, then move it into place."""
    tmp = temp_sibling(target)
    try:
        if not ffmpeg.wrote(ffmpeg.run([*cmd, "-f", "mp4", str(tmp)], timeout=900), tmp):
            raise failure
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def preview_video(path: str | Path, dest_dir: Path) -> Path:
    """A copy Chromium can play: the clip itself when it already plays (H.264 in MP4/MOV, VP8/VP9/AV1
    in WebM), else an H.264/AAC MP4 at most 720 px on the short side. HEVC stays HEVC for fal, but
    the page shows this."""
    path = Path(path)
    info = probe_video(path)
    if plays_in_browser(info):
        return path
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"preview-{content_key(path, 'video-1')}.mp4"
    if target.is_file() and target.stat().st_size > 0:
        return target
    cmd = [*ffmpeg.quiet(), *ffmpeg.safe_input(path), "-map", "0:v:0"]
    cmd += ["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k"] if info.has_audio else ["-an"]
    cmd += ["-vf", _fit_short_side(PREVIEW_SHORT_SIDE), *H264_OUTPUT, "-crf", "23"]
    return encode(cmd, target, ViewError.preview(short_name(path)))


def preview_image(path: str | Path, dest_dir: Path, max_pixels: int = MAX_PIXELS) -> Path:
    """A copy a browser can show: the image itself when it is JPEG/PNG/WebP/GIF, else an upright
    PNG (HEIC, TIFF, BMP...) at most 2048 px on its long side."""
    path = Path(path)
    require_file(path, "image")
    with open_image(path, max_pixels) as image:
        if image.format in BROWSER_IMAGE_FORMATS:
            return path
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = dest_dir / f"preview-{content_key(path, 'image-1')}.png"
        if target.is_file() and target.stat().st_size > 0:
            return target
        flat = upright_rgb(image, path)
    flat.thumbnail((PREVIEW_IMAGE_SIDE, PREVIEW_IMAGE_SIDE))
    tmp = temp_sibling(target)
    try:
        flat.save(tmp, "PNG")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def side_by_side(
    reference: str | Path, result: str | Path, dest: Path, *, between: tuple[Path, ...] = ()
) -> Path:
    """One H.264/AAC MP4 to share or compare: the reference on the left, the result on the right (and
    `between` them, say, the preview a full run followed), all at the result's height (at most 720 px),
    as long as the result, with the result's sound if any. A shorter panel holds its last frame."""
    panels = [Path(reference), *between, Path(result)]
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    for shown in panels[:-1]:
        probe_video(shown)  # an unreadable panel is refused in words, before ffmpeg runs
    res = probe_video(panels[-1])
    height = even(min(res.display_size[1], SIDE_BY_SIDE_HEIGHT))
    fps = f"fps={res.fps:g}," if res.fps > 0 else ""
    panel = f"scale=-2:{height},setsar=1,{fps}format=yuv420p"
    held = f"tpad=stop_mode=clone:stop_duration={res.duration:.3f}"
    last = len(panels) - 1
    graph = "".join(f"[{i}:v:0]{panel},{held}[p{i}];" for i in range(last))
    graph += f"[{last}:v:0]{panel}[p{last}];"
    graph += "".join(f"[p{i}]" for i in range(len(panels))) + f"hstack=inputs={len(panels)}:shortest=1[v]"
    cmd = [*ffmpeg.quiet()]
    for path in panels:
        cmd += ffmpeg.safe_input(path)
    cmd += ["-filter_complex", graph, "-map", "[v]"]
    cmd += ["-map", f"{last}:a:0", "-c:a", "aac", "-b:a", "160k"] if res.has_audio else ["-an"]
    cmd += ["-t", f"{res.duration:.3f}", *H264_OUTPUT, "-crf", "20"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    return encode(cmd, dest, ViewError.side_by_side())
