"""Real test media, made on the spot with the ffmpeg binary imageio-ffmpeg ships, and Pillow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
QUIET = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y"]


def make_clip(
    path: Path,
    seconds: float,
    *,
    size: tuple[int, int] = (480, 360),
    audio: bool = True,
    fps: int = 12,
    rotate: int = 0,
    codec: str | None = None,
    streamed: bool = False,
) -> Path:
    """A test-pattern clip; H.264/AAC mp4 unless the suffix asks for webm (VP9/Opus) or mov."""
    w, h = size
    cmd = [
        *QUIET,
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={w}x{h}:rate={fps}:duration={seconds}",
    ]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    if path.suffix == ".webm":
        cmd += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
        cmd += ["-c:a", "libopus"] if audio else []
    else:
        cmd += ["-c:v", codec or "libx264", "-pix_fmt", "yuv420p"]
        cmd += ["-preset", "ultrafast"] if codec is None else []
        cmd += ["-c:a", "aac"] if audio else []
    cmd += ["-t", str(seconds)]
    if streamed:  # written to a pipe, like a browser's MediaRecorder: no duration in the header
        with open(path, "wb") as out:
            subprocess.run([*cmd, "-f", "webm", "pipe:1"], check=True, stdout=out, stderr=subprocess.PIPE)
    else:
        subprocess.run([*cmd, str(path)], check=True, capture_output=True)
    if rotate:
        rotated = path.with_name(path.stem + ".rot" + path.suffix)
        subprocess.run(
            [
                *QUIET,
                "-display_rotation",
                str(rotate),
                "-i",
                str(path),
                "-c",
                "copy",
                str(rotated),
            ],
            check=True,
            capture_output=True,
        )
        rotated.replace(path)
    return path


def make_audio(path: Path, seconds: float = 4) -> Path:
    subprocess.run(
        [*QUIET, "-f", "lavfi", "-i", f"sine=duration={seconds}", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def make_image(
    path: Path,
    size: tuple[int, int] = (600, 800),
    *,
    mode: str = "RGB",
    fmt: str | None = None,
    exif_orientation: int | None = None,
    frames: int = 1,
) -> Path:
    """A simple figure on a background: enough for every check, tiny on disk."""

    def frame(shift: int) -> Image.Image:
        image = Image.new(mode, size, (200, 220, 255, 128) if mode == "RGBA" else "lightblue")
        draw = ImageDraw.Draw(image)
        w, h = size
        draw.ellipse((w * 0.4 + shift, h * 0.1, w * 0.6 + shift, h * 0.25), fill="peachpuff")
        draw.rectangle((w * 0.35 + shift, h * 0.27, w * 0.65 + shift, h * 0.7), fill="navy")
        return image

    fmt = (
        fmt
        or {
            ".jpg": "JPEG",
            ".jpeg": "JPEG",
            ".png": "PNG",
            ".webp": "WEBP",
            ".gif": "GIF",
            ".bmp": "BMP",
            ".tiff": "TIFF",
        }[path.suffix.lower()]
    )
    image = frame(0)
    kwargs: dict = {}
    if exif_orientation:
        exif = image.getexif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    if frames > 1:
        kwargs.update(save_all=True, append_images=[frame(10 * i) for i in range(1, frames)], duration=100)
    image.save(path, fmt, **kwargs)
    return path


def hevc_clip(
    path: Path, seconds: float = 4, *, size: tuple[int, int] = (640, 360), audio: bool = True
) -> Path:
    """An iPhone-like HEVC clip (tagged hvc1, as Apple writes it) in MP4 or MOV, by the suffix."""
    w, h = size
    cmd = [*QUIET, "-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate=12:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    cmd += ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"]
    cmd += ["-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-t", str(seconds), str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def prores_mov(path: Path, seconds: float = 4, *, size: tuple[int, int] = (640, 360)) -> Path:
    """An editor's export: ProRes 422 HQ, 10-bit 4:2:2, PCM sound, in a MOV."""
    w, h = size
    cmd = [*QUIET, "-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate=12:duration={seconds}"]
    cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "pcm_s16le"]
    cmd += ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le", "-t", str(seconds), str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def heic_image(path: Path, size: tuple[int, int] = (600, 800)) -> Path:
    """An iPhone-style HEIC photo, written by pillow-heif."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return make_image(path, size, fmt="HEIF")


def mpo_image(path: Path, size: tuple[int, int] = (600, 800)) -> Path:
    """A JPEG carrying a second picture (MPF), as many phones write photos: Pillow calls it MPO."""
    first = make_image(path.with_suffix(".first.jpg"), size)
    with Image.open(first) as image:
        image.save(path, "MPO", save_all=True, append_images=[image.resize((size[0] // 2, size[1] // 2))])
    first.unlink()
    return path


def bomb_png(path: Path, side: int = 30000) -> Path:
    """A 1-bit PNG of side×side pixels, about 100 KB on disk: written row by row, as Pillow would
    need side² bytes of memory to make it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then the row's bits
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path
